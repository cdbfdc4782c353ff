"""A patient's export as a FHIR R4 `collection` Bundle, as plain JSON-ready dicts.

Pure and deterministic: ids are `uuid5` values derived from the data, never from database
row ids, so the same export always gives the same bundle, and so does the same patient
after a JSON export and import into another database (a receiving system that
de-duplicates on fullUrl sees the same records). Stdlib only (no FHIR library at run time).

Identities: Patient from the code; Questionnaire from the instrument's structure;
QuestionnaireResponse from (code, date, rater), which is unique per rating set; Goal from
(code, creation date, text, and its rank among the patient's goals of that same date and
text). Renaming a patient or rewording a goal therefore gives it a new identity.

Strings: R4 says they SHOULD NOT hold code points below U+0020 other than tab, CR and
LF; any other such control character is written as a visible escape (`\\x1b`), as in
tables, in every string of the bundle.

What goes in, and what never does:

- `Patient`: only the pseudonymous code (as an identifier) and whether care is active.
  Never the name, notes, expectations, beliefs or any other free text of the profile.
- `Questionnaire` per instrument: structure only (item count, type, range). Item texts
  are neutral labels ("Item 1", or the dimension for direct-entry instruments such as
  `quick`), never questionnaire wording. Derived scores are read-only decimal items.
- `QuestionnaireResponse` per rating set: the item values and the derived scores; who
  rated (patient or therapist) is an extension, and so is the rater's answer to the
  rupture question (`session add --rupture`: none, withdrawal or confrontation; absent
  when not asked): an extension, not an item, as an extra item would change each
  instrument's Questionnaire, whose id is derived from its structure. Session notes are
  left out.
- `Goal` per goal: text, status, dates and review notes. A goal rated on the Goal
  Attainment Scaling takes its `achievementStatus` from its latest level against its
  baseline (below it worsening, at it no-change, above it but below 0 improving, 0 or
  above achieved), gives that level as `outcomeCode` (the project's own code system,
  codes -2..2), and its baseline and weight as extensions. A goal never rated keeps
  the achievement of its status.

Tasks and flags have no FHIR form here, nor have repair attempts; JSON and CSV exports
carry them.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from alliance_cli.domain.export import PatientExport
from alliance_cli.domain.gas import LEVEL_WORDS, level_text
from alliance_cli.domain.gas import achievement as gas_achievement
from alliance_cli.domain.instruments import SCORES, Instrument
from alliance_cli.domain.records import GoalRecord, PatientProfile, SessionRecord
from alliance_cli.render.safe_text import fhir_text

BASE = "https://alliance-cli.example/fhir"
PATIENT_CODE_SYSTEM = f"{BASE}/patient-code"
RATER_EXTENSION = f"{BASE}/StructureDefinition/rater"
# A rating set's rupture marker: none, or a Rupture Resolution Rating System marker type.
RUPTURE_EXTENSION = f"{BASE}/StructureDefinition/rupture-marker"
MIN_VALUE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/maxValue"
GOAL_ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
GAS_LEVEL_SYSTEM = f"{BASE}/CodeSystem/gas-level"
GAS_BASELINE_EXTENSION = f"{BASE}/StructureDefinition/gas-baseline"
GAS_WEIGHT_EXTENSION = f"{BASE}/StructureDefinition/gas-weight"
# goal-achievement code of a GAS level (domain/gas.py `achievement`) -> its display
GAS_ACHIEVEMENT_DISPLAY: Mapping[str, str] = {
    "worsening": "Worsening",
    "no-change": "No Change",
    "improving": "Improving",
    "achieved": "Achieved",
}

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE)

# goal status -> (Goal.lifecycleStatus, goal-achievement code, its display)
GOAL_STATUS_MAP: Mapping[str, tuple[str, str, str]] = {
    "active": ("active", "in-progress", "In Progress"),
    "achieved": ("completed", "achieved", "Achieved"),
    "dropped": ("cancelled", "not-achieved", "Not Achieved"),
}


def _urn(*parts: object) -> str:
    """A stable `urn:uuid:` for the resource the parts identify."""
    seed = "|".join(str(part) for part in parts)
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, seed)}"


def _reference(full_url: str) -> dict[str, Any]:
    return {"reference": full_url}


def questionnaire_url(instrument: Instrument) -> str:
    """The canonical URL of an instrument's Questionnaire."""
    return f"{BASE}/Questionnaire/{quote(instrument.name, safe='-_')}"


def _machine_name(instrument: Instrument) -> str:
    """`wai-sr` -> `AllianceWaiSr`: matches FHIR's `[A-Z]([A-Za-z0-9_]){0,254}`."""
    parts = re.split(r"[^A-Za-z0-9]+", instrument.name)
    return ("Alliance" + "".join(part[:1].upper() + part[1:] for part in parts))[:255]


def _score_names(instrument: Instrument) -> tuple[str, ...]:
    return (*SCORES, *instrument.extra)


def _score_link_id(name: str) -> str:
    return f"score-{name}"


def _is_integer(instrument: Instrument) -> bool:
    return instrument.decimals == 0


def _item_label(instrument: Instrument, number: int) -> str:
    """A neutral label: the score a direct-entry item *is*, or just its number."""
    if instrument.direct_entry:
        for name, items in instrument.keys.items():
            if items == (number,):
                return name
    return f"Item {number}"


def _range_extensions(instrument: Instrument) -> list[dict[str, Any]]:
    if _is_integer(instrument):
        # Only whole values can be entered, so the whole bounds inside the range are exact.
        low = -int(-instrument.item_min // 1)  # ceil
        high = int(instrument.item_max // 1)  # floor
        return [
            {"url": MIN_VALUE_EXTENSION, "valueInteger": low},
            {"url": MAX_VALUE_EXTENSION, "valueInteger": high},
        ]
    return [
        {"url": MIN_VALUE_EXTENSION, "valueDecimal": instrument.item_min},
        {"url": MAX_VALUE_EXTENSION, "valueDecimal": instrument.item_max},
    ]


def _questionnaire_full_url(instrument: Instrument) -> str:
    # The structure is part of the seed: two differently built instruments of the same
    # name (custom instruments of two clinics) never share an id.
    keys = sorted((name, tuple(items)) for name, items in instrument.keys.items())
    return _urn(
        "Questionnaire",
        questionnaire_url(instrument),
        instrument.title,
        instrument.item_count,
        instrument.item_min,
        instrument.item_max,
        instrument.decimals,
        instrument.dimension_score,
        keys,
        instrument.extra,
    )


def questionnaire(instrument: Instrument) -> dict[str, Any]:
    """An instrument's structure as a Questionnaire (no item wording)."""
    item_type = "integer" if _is_integer(instrument) else "decimal"
    items: list[dict[str, Any]] = [
        {
            "extension": _range_extensions(instrument),
            "linkId": str(number),
            "text": _item_label(instrument, number),
            "type": item_type,
            "required": True,
        }
        for number in range(1, instrument.item_count + 1)
    ]
    items += [
        {
            "linkId": _score_link_id(name),
            "text": f"{name} score",
            "type": "decimal",
            "readOnly": True,
        }
        for name in _score_names(instrument)
    ]
    return {
        "resourceType": "Questionnaire",
        "url": questionnaire_url(instrument),
        "name": _machine_name(instrument),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": items,
    }


def patient(profile: PatientProfile) -> dict[str, Any]:
    """Only the pseudonymous code and whether care is active: nothing that names anyone."""
    return {
        "resourceType": "Patient",
        "identifier": [{"system": PATIENT_CODE_SYSTEM, "value": profile.code}],
        "active": profile.status == "active",
    }


def _item_answer(instrument: Instrument, session: SessionRecord, value: float) -> dict[str, Any]:
    if not _is_integer(instrument):
        return {"valueDecimal": value}
    if not float(value).is_integer():
        raise ValueError(
            f"session {session.id}: {instrument.name} takes whole numbers, got {value!r}"
        )
    return {"valueInteger": int(value)}


def _score_value(session: SessionRecord, name: str) -> float | None:
    if name in SCORES:
        return float(getattr(session, name))
    value = session.extra.get(name)
    return None if value is None else float(value)


def questionnaire_response(
    session: SessionRecord, instrument: Instrument, patient_url: str
) -> dict[str, Any]:
    """One rating set: every item value, then the derived scores (no session note)."""
    if len(session.items) != instrument.item_count:
        raise ValueError(
            f"session {session.id}: {instrument.name} has {instrument.item_count} items, "
            f"the session has {len(session.items)}"
        )
    items: list[dict[str, Any]] = [
        {"linkId": str(number), "answer": [_item_answer(instrument, session, value)]}
        for number, value in enumerate(session.items, 1)
    ]
    for name in _score_names(instrument):
        score = _score_value(session, name)
        if score is not None:
            items.append({"linkId": _score_link_id(name), "answer": [{"valueDecimal": score}]})
    extensions = [{"url": RATER_EXTENSION, "valueCode": session.rater}]
    if session.rupture is not None:
        extensions.append({"url": RUPTURE_EXTENSION, "valueCode": session.rupture})
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "extension": extensions,
        "questionnaire": questionnaire_url(instrument),
        "status": "completed",
        "subject": _reference(patient_url),
        "authored": session.date.isoformat(),
    }
    if session.rater == "patient":
        response["source"] = _reference(patient_url)
    response["item"] = items
    return response


def goal(record: GoalRecord, patient_url: str) -> dict[str, Any]:
    """A goal with its status, dates and review notes."""
    try:
        lifecycle, achievement, display = GOAL_STATUS_MAP[record.status]
    except KeyError:
        raise ValueError(f"goal {record.id}: unknown status {record.status!r}") from None
    level = record.gas
    if level is not None:
        achievement = gas_achievement(level, record.baseline)
        display = GAS_ACHIEVEMENT_DISPLAY[achievement]
    resource: dict[str, Any] = {"resourceType": "Goal"}
    if level is not None:
        resource["extension"] = [
            {"url": GAS_BASELINE_EXTENSION, "valueInteger": record.baseline},
            {"url": GAS_WEIGHT_EXTENSION, "valueDecimal": record.weight},
        ]
    resource |= {
        "lifecycleStatus": lifecycle,
        "achievementStatus": {
            "coding": [{"system": GOAL_ACHIEVEMENT_SYSTEM, "code": achievement, "display": display}]
        },
        "description": {"text": record.text},
        "subject": _reference(patient_url),
        "startDate": record.created.isoformat(),
    }
    if record.target is not None:
        resource["target"] = [{"dueDate": record.target.isoformat()}]
    if record.proposed_by == "patient":
        resource["expressedBy"] = _reference(patient_url)
    notes = [
        {"time": review.date.isoformat(), "text": review.note.strip()}
        for review in record.reviews
        if review.note is not None and review.note.strip()
    ]
    if notes:
        resource["note"] = notes
    if level is not None:
        resource["outcomeCode"] = [
            {
                "coding": [
                    {
                        "system": GAS_LEVEL_SYSTEM,
                        "code": level_text(level),
                        "display": LEVEL_WORDS[level],
                    }
                ],
                "text": f"GAS {level_text(level)} ({LEVEL_WORDS[level]})",
            }
        ]
    return resource


def fhir_bundle(export: PatientExport) -> dict[str, Any]:
    """The whole export as a FHIR R4 Bundle of type `collection`."""
    code = export.profile.code
    patient_url = _urn("Patient", PATIENT_CODE_SYSTEM, code)
    entries: list[dict[str, Any]] = [{"fullUrl": patient_url, "resource": patient(export.profile)}]

    by_name: dict[str, Instrument] = {}
    for instrument in export.instruments:
        if instrument.name in by_name:
            continue
        by_name[instrument.name] = instrument
        entries.append(
            {
                "fullUrl": _questionnaire_full_url(instrument),
                "resource": questionnaire(instrument),
            }
        )

    for session in export.sessions:
        used = by_name.get(session.instrument)
        if used is None:
            raise ValueError(
                f"session {session.id} uses instrument {session.instrument!r}, "
                "which the export does not describe"
            )
        entries.append(
            {
                "fullUrl": _urn("QuestionnaireResponse", code, session.date, session.rater),
                "resource": questionnaire_response(session, used, patient_url),
            }
        )

    seen: Counter[tuple[date, str]] = Counter()
    for record in export.goals:  # id order: a goal's rank among its twins survives import
        twin = (record.created, record.text)
        seen[twin] += 1
        # The code (which may hold `|`) last, the text after its length: one seed per goal.
        full_url = _urn("Goal", record.created, seen[twin], len(record.text), record.text, code)
        entries.append({"fullUrl": full_url, "resource": goal(record, patient_url)})

    bundle: dict[str, Any] = _strings_without_controls(
        {"resourceType": "Bundle", "type": "collection", "entry": entries}
    )
    return bundle


def _strings_without_controls(value: Any) -> Any:
    """Every string of `value` with `fhir_text` applied (keys are ours, and plain)."""
    if isinstance(value, str):
        return fhir_text(value)
    if isinstance(value, dict):
        return {key: _strings_without_controls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strings_without_controls(item) for item in value]
    return value
