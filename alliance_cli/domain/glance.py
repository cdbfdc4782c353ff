"""The caseload at a glance (`alliance` typed alone): who needs attention, in a few lines.

Like `git status`: counts, then the patients with an alert, with a watch flag and out of
contact, each code once with the kinds it raised. An empty caseload says so, never
"nothing needs attention".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from alliance_cli.domain.flag_groups import group_by_event
from alliance_cli.domain.flag_model import Flag
from alliance_cli.domain.vocabulary import FlagKind, Rater, Severity


@dataclass(frozen=True)
class Attention:
    """One patient in one group of the glance, with the kinds of flag they raised."""

    patient: str
    kinds: tuple[str, ...]  # each kind, prefixed "therapist " when from the therapist's ratings


@dataclass(frozen=True)
class Glance:
    as_of: date
    in_care: int
    seen_this_week: int  # patients with a session in the 7 days up to `as_of`
    alerts: tuple[Attention, ...]
    watch: tuple[Attention, ...]
    no_contact: tuple[Attention, ...]

    @property
    def quiet(self) -> bool:
        """Patients in care and none with an alert, a watch flag or out of contact."""
        return self.in_care > 0 and not (self.alerts or self.watch or self.no_contact)


def caseload_glance(flags: Iterable[Flag], *, as_of: date, in_care: int, seen: int) -> Glance:
    """Group current flags by patient: alerts first; a patient with an alert is not listed
    again under watch; no-contact is its own group (a reason to call, not a score). A
    flag from the therapist's own ratings says so ("therapist low"): it reads differently
    from the patient's."""
    groups: dict[str, dict[str, list[str]]] = {
        Severity.ALERT: {},
        Severity.WATCH: {},
        FlagKind.NO_CONTACT: {},
    }
    for event in group_by_event(f for f in flags if f.severity != Severity.INFO):
        for flag in event.flags:
            group = FlagKind.NO_CONTACT if flag.kind == FlagKind.NO_CONTACT else flag.severity
            kinds = groups[group].setdefault(flag.patient, [])
            kind = f"therapist {flag.kind}" if flag.rater == Rater.THERAPIST else str(flag.kind)
            if kind not in kinds:
                kinds.append(kind)
    for patient in groups[Severity.ALERT]:
        groups[Severity.WATCH].pop(patient, None)

    def listed(group: str) -> tuple[Attention, ...]:
        return tuple(Attention(code, tuple(kinds)) for code, kinds in groups[group].items())

    return Glance(
        as_of=as_of,
        in_care=in_care,
        seen_this_week=seen,
        alerts=listed(Severity.ALERT),
        watch=listed(Severity.WATCH),
        no_contact=listed(FlagKind.NO_CONTACT),
    )
