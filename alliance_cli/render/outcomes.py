"""`alliance outcomes` as text (folded at the terminal width), Markdown or JSON.

Every figure says what it is over (`3 of 10 with a known ending`, `n 8`), and the
correlations say plainly that they describe this caseload, not one patient's future.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from alliance_cli.domain.outcomes import (
    MIN_CORRELATION_N,
    Correlation,
    Mean,
    Outcomes,
    Share,
)
from alliance_cli.domain.words import plural
from alliance_cli.render.formats import print_json
from alliance_cli.render.safe_text import escape_markdown, one_line
from alliance_cli.render.wrap import GLUE, output_width, wrap

GROWTH = "growth: the last 3 totals minus the first 3"
ASSOCIATION = "Each r describes this caseload: it is not a prediction for one patient."


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _correlation_dict(found: Correlation) -> dict[str, Any]:
    return {
        "r": _rate(found.r),
        "n": found.n,
        "ci_low": _rate(found.ci_low),
        "ci_high": _rate(found.ci_high),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _mean_dict(found: Mean) -> dict[str, Any]:
    return {"mean": _rounded(found.mean), "n": found.n}


def outcomes_dict(result: Outcomes) -> dict[str, Any]:
    """The figures under the keys the issue fixed (one clinician's or the clinic's)."""
    return {
        "n": result.n,
        "endings": result.endings,
        "dropout_rate": _rate(result.dropout_rate),
        "early_alliance": {
            "dropout": _mean_dict(result.early_dropout),
            "mutual": _mean_dict(result.early_mutual),
        },
        "ruptures": {
            "count": result.ruptures.count,
            "repaired_share": _rate(result.ruptures.repaired_share),
            "dropout_if_repaired": _rate(result.ruptures.dropout_if_repaired.rate),
            "dropout_if_unrepaired": _rate(result.ruptures.dropout_if_unrepaired.rate),
        },
        "gas_t_mean": _rounded(result.gas_t_mean.mean),
        "correlations": {
            "early": _correlation_dict(result.early_vs_gas),
            "growth": _correlation_dict(result.growth_vs_gas),
        },
    }


def report_dict(
    clinic: Outcomes, clinicians: list[Outcomes], since: date | None, until: date | None
) -> dict[str, Any]:
    return {
        "period": {
            "since": None if since is None else since.isoformat(),
            "until": None if until is None else until.isoformat(),
        },
        **outcomes_dict(clinic),
        "clinicians": [{"clinician": c.clinician, **outcomes_dict(c)} for c in clinicians],
    }


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}{GLUE}%"


def _share(found: Share, of_what: str) -> str:
    if not found.of:
        return f"no {of_what}"
    return f"{_percent(found.rate)} ({found.part}{GLUE}of{GLUE}{found.of} {of_what})"


def _scale(found: Mean) -> str:
    if found.mean is None:
        return "none"
    return f"{found.mean:.0f}{GLUE}% of scale (n{GLUE}{found.n})"


def _r(value: float) -> str:
    """`.31`, `-.05`: a correlation as it is printed in papers."""
    text = f"{value:.2f}"
    return text.replace("0.", ".", 1)


def _correlation(found: Correlation) -> str:
    if found.r is None or found.ci_low is None or found.ci_high is None:
        if found.n < MIN_CORRELATION_N:
            return (
                f"n{GLUE}{found.n}, too few to say "
                f"(shown from {MIN_CORRELATION_N} patients with a GAS T)"
            )
        return f"n{GLUE}{found.n}, no r (the values do not vary)"
    return (
        f"r{GLUE}={GLUE}{_r(found.r)} (95{GLUE}% CI {_r(found.ci_low)} "
        f"to {_r(found.ci_high)}, n{GLUE}{found.n})"
    )


def outcome_lines(result: Outcomes) -> list[tuple[str, str]]:
    """(label, text) pairs: the figures in the order a clinician reads them."""
    endings = ", ".join(f"{name}{GLUE}{count}" for name, count in result.endings.items())
    ruptures = result.ruptures
    if ruptures.count:
        rupture_text = (
            f"{ruptures.count}, {_percent(ruptures.repaired_share)} repaired; dropout "
            f"{_share(ruptures.dropout_if_repaired, 'with every rupture repaired')}, "
            f"{_share(ruptures.dropout_if_unrepaired, 'with one left unrepaired')}"
        )
    else:
        rupture_text = "none"
    gas = result.gas_t_mean
    return [
        ("Endings", endings),
        ("Dropout rate", _share(result.dropout, "with a known ending")),
        (
            "Early alliance",
            f"dropout {_scale(result.early_dropout)}, mutual {_scale(result.early_mutual)}; "
            "the mean of the first 3 totals",
        ),
        ("Ruptures", rupture_text),
        (
            "GAS T",
            "none yet (`alliance goal review ID --gas LEVEL`)"
            if gas.mean is None
            else f"mean {gas.mean:.1f} at discharge (n{GLUE}{gas.n})",
        ),
        ("Early vs GAS T", _correlation(result.early_vs_gas)),
        ("Growth vs GAS T", _correlation(result.growth_vs_gas) + f"; {GROWTH}"),
        ("", ASSOCIATION),
    ]


def _period_words(since: date | None, until: date | None) -> str:
    if since is None and until is None:
        return "all time"
    start = "the start" if since is None else since.isoformat()
    end = "today" if until is None else until.isoformat()
    return f"{start} to {end}"


LABEL = 17


def outcomes_text(
    clinic: Outcomes,
    clinicians: list[Outcomes],
    since: date | None,
    until: date | None,
    width: int,
) -> str:
    lines = [
        f"Outcomes of care that ended, {_period_words(since, until)}: "
        f"{plural(clinic.n, 'patient')} discharged"
    ]
    if clinic.n == 0:
        lines.append("No patient was discharged in the period: nothing to compare yet.")
        return "\n".join(lines) + "\n"
    blocks = [("", clinic)] + [(f"Clinician {one_line(c.clinician)}", c) for c in clinicians]
    if clinicians:
        blocks[0] = ("Clinic", clinic)
    for title, result in blocks:
        if title:
            lines += ["", f"{title} ({plural(result.n, 'patient')})"]
        for label, text in outcome_lines(result):
            lines += wrap(text, width, indent=f"{label:<{LABEL}}", hang=" " * LABEL)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def outcomes_markdown(
    clinic: Outcomes, clinicians: list[Outcomes], since: date | None, until: date | None
) -> str:
    out = [f"# Outcomes of care that ended, {_period_words(since, until)}", ""]
    blocks = [("Clinic" if clinicians else "", clinic)] + [
        (f"Clinician {escape_markdown(c.clinician)}", c) for c in clinicians
    ]
    for title, result in blocks:
        if title:
            out += [f"## {title}", ""]
        out.append(f"- Patients discharged: {result.n}")
        if result.n:
            out += [
                f"- {label + ': ' if label else ''}{escape_markdown(text.replace(GLUE, ' '))}"
                for label, text in outcome_lines(result)
            ]
        out.append("")
    return "\n".join(out)


def show_outcomes(
    clinic: Outcomes,
    clinicians: list[Outcomes],
    since: date | None,
    until: date | None,
    fmt: str,
) -> None:
    if fmt == "json":
        print_json(report_dict(clinic, clinicians, since, until))
    elif fmt == "markdown":
        sys.stdout.write(outcomes_markdown(clinic, clinicians, since, until))
    else:
        sys.stdout.write(outcomes_text(clinic, clinicians, since, until, output_width(sys.stdout)))
