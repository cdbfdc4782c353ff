"""The FHIR bundle export: valid FHIR, private, consistent and deterministic.

Validation uses `fhir.resources` 8.3, whose top-level models are FHIR R5 and which ships
no plain R4 (4.0.1) package: the R4-compatible models are `fhir.resources.R4B` (FHIR
4.3.0), which is what validates the bundle here. Patient, Questionnaire,
QuestionnaireResponse and Goal are unchanged between R4 and R4B in every element used.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from alliance_cli.domain.export import PatientExport
from alliance_cli.domain.instruments import QUICK, SRS, WAI_SR, Instrument, score_items
from alliance_cli.domain.records import (
    GoalRecord,
    GoalReviewRecord,
    PatientProfile,
    SessionRecord,
    TaskRecord,
    TaskReviewRecord,
)
from alliance_cli.render.fhir import BASE, fhir_bundle

CODE = "P-0042"
# Free text that must never leave the machine in a FHIR export.
SECRETS = {
    "name": "SENTINEL-NAME Jane Roe",
    "expectations": "SENTINEL-EXPECTATIONS",
    "beliefs": "SENTINEL-BELIEFS",
    "emotional_state": "SENTINEL-EMOTIONAL",
    "social_context": "SENTINEL-SOCIAL",
    "note": "SENTINEL-PROFILE-NOTE",
    "discharge_reason": "SENTINEL-DISCHARGE",
}
SESSION_NOTE = "SENTINEL-SESSION-NOTE"
ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"


def _session(
    id: int, when: date, rater: str, instrument: Instrument, items: tuple[float, ...]
) -> SessionRecord:
    scores = score_items(instrument, items)
    return SessionRecord(
        id=id,
        patient=CODE,
        date=when,
        rater=rater,
        instrument=instrument.name,
        bond=scores.bond,
        goal=scores.goal,
        task=scores.task,
        items=scores.items,
        note=SESSION_NOTE,
        total=scores.total,
        extra=dict(scores.extra),
    )


SESSIONS = (
    _session(1, date(2026, 1, 5), "patient", QUICK, (7.5, 6.0, 8.0)),
    _session(2, date(2026, 1, 5), "therapist", QUICK, (6.0, 6.5, 7.0)),
    _session(3, date(2026, 1, 12), "patient", WAI_SR, (4, 5, 3, 4, 4, 2, 5, 3, 4, 4, 1, 5)),
    _session(4, date(2026, 1, 19), "patient", SRS, (8.5, 7.0, 9.0, 7.5)),
    _session(5, date(2026, 1, 26), "therapist", SRS, (6.0, 6.0, 5.5, 6.0)),
)
GOALS = (
    GoalRecord(
        id=1,
        patient=CODE,
        text="Sleep before midnight on weekdays",
        proposed_by="patient",
        status="active",
        target=date(2026, 4, 1),
        created=date(2026, 1, 5),
        reviews=(GoalReviewRecord(date(2026, 2, 1), "active", "halfway there"),),
    ),
    GoalRecord(
        id=2,
        patient=CODE,
        text="Call a friend once a week",
        proposed_by="joint",
        status="achieved",
        target=None,
        created=date(2026, 1, 5),
        reviews=(GoalReviewRecord(date(2026, 2, 8), "achieved", None),),
    ),
    GoalRecord(
        id=3,
        patient=CODE,
        text="Run a marathon",
        proposed_by="therapist",
        status="dropped",
        target=date(2026, 6, 1),
        created=date(2026, 1, 12),
        reviews=(
            GoalReviewRecord(date(2026, 1, 19), "active", "too ambitious for now"),
            GoalReviewRecord(date(2026, 1, 26), "dropped", "replaced by walking"),
        ),
    ),
)
TASKS = (
    TaskRecord(
        id=1,
        patient=CODE,
        goal_id=1,
        text="Sleep diary",
        status="active",
        due=date(2026, 2, 1),
        reviews=(TaskReviewRecord(date(2026, 1, 12), "partly"),),
    ),
    TaskRecord(
        id=2,
        patient=CODE,
        goal_id=None,
        text="Read the leaflet",
        status="completed",
        due=None,
    ),
)


def _export(status: str = "active") -> PatientExport:
    profile = PatientProfile(
        code=CODE,
        status=status,
        since=date(2026, 1, 1),
        instrument="quick",
        discharged_on=None,
        **SECRETS,
    )
    return PatientExport(
        profile=profile,
        goals=GOALS,
        tasks=TASKS,
        sessions=SESSIONS,
        flags=(),
        current_flags=(),
        instruments=(QUICK, WAI_SR, SRS),
        generated=date(2026, 3, 1),
    )


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return fhir_bundle(_export())


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _references(value: Any) -> list[str]:
    """Every `reference` anywhere in a JSON value."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for v in value.values() for ref in _references(v)]
    if isinstance(value, list):
        return [ref for v in value for ref in _references(v)]
    return []


def test_bundle_validates_as_fhir_r4b(bundle: dict[str, Any]) -> None:
    model = Bundle.model_validate(bundle)
    assert model.type == "collection"
    assert model.entry is not None
    kinds = Counter(e.resource.get_resource_type() for e in model.entry if e.resource is not None)
    assert kinds == {
        "Patient": 1,
        "Questionnaire": 3,
        "QuestionnaireResponse": len(SESSIONS),
        "Goal": len(GOALS),
    }
    # The round trip keeps everything: no element was silently dropped by the model.
    assert json.loads(model.model_dump_json(exclude_none=True)) == bundle


@pytest.mark.parametrize("damage", ["no-description", "bad-date", "unknown-element"])
def test_validation_really_checks_the_entries(bundle: dict[str, Any], damage: str) -> None:
    """The model checks each entry as its own resource type (it does not check codes
    against their value sets, so the code mappings are asserted separately below)."""
    broken = copy.deepcopy(bundle)
    goal = _resources(broken, "Goal")[0]
    if damage == "no-description":
        del goal["description"]  # required (1..1)
    elif damage == "bad-date":
        goal["startDate"] = "05/01/2026"
    else:
        goal["nickname"] = "x"
    with pytest.raises(ValidationError):
        Bundle.model_validate(broken)


def test_bundle_is_a_collection_of_uuid_entries(bundle: dict[str, Any]) -> None:
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert all(url.startswith("urn:uuid:") for url in urls)
    assert len(set(urls)) == len(urls)


def test_patient_carries_only_the_code(bundle: dict[str, Any]) -> None:
    (patient,) = _resources(bundle, "Patient")
    assert patient == {
        "resourceType": "Patient",
        "identifier": [{"system": f"{BASE}/patient-code", "value": CODE}],
        "active": True,
    }
    assert "name" not in patient
    (discharged,) = _resources(fhir_bundle(_export("discharged")), "Patient")
    assert discharged["active"] is False


def test_no_private_text_anywhere(bundle: dict[str, Any]) -> None:
    text = json.dumps(bundle)
    for secret in (*SECRETS.values(), SESSION_NOTE, "Jane", "Roe", "SENTINEL"):
        assert secret not in text


def test_one_questionnaire_per_instrument(bundle: dict[str, Any]) -> None:
    questionnaires = {q["url"]: q for q in _resources(bundle, "Questionnaire")}
    assert len(questionnaires) == 3
    for instrument in (QUICK, WAI_SR, SRS):
        q = questionnaires[f"{BASE}/Questionnaire/{instrument.name}"]
        assert q["status"] == "active"
        assert q["title"] == instrument.title
        assert q["name"][0].isupper() and q["name"].replace("_", "").isalnum()
        answerable = [item for item in q["item"] if not item.get("readOnly")]
        assert [item["linkId"] for item in answerable] == [
            str(n) for n in range(1, instrument.item_count + 1)
        ]
        expected_type = "integer" if instrument.decimals == 0 else "decimal"
        assert {item["type"] for item in answerable} == {expected_type}
        scores = [item for item in q["item"] if item.get("readOnly")]
        assert [item["linkId"] for item in scores] == [
            f"score-{name}" for name in ("bond", "goal", "task", "total", *instrument.extra)
        ]
        assert {item["type"] for item in scores} == {"decimal"}
    quick = questionnaires[f"{BASE}/Questionnaire/quick"]
    assert [item["text"] for item in quick["item"][:3]] == ["bond", "goal", "task"]
    wai = questionnaires[f"{BASE}/Questionnaire/wai-sr"]
    assert [item["text"] for item in wai["item"][:12]] == [f"Item {n}" for n in range(1, 13)]
    assert wai["item"][0]["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 1},
        {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 5},
    ]


def test_one_response_per_session_with_the_items(bundle: dict[str, Any]) -> None:
    responses = _resources(bundle, "QuestionnaireResponse")
    assert len(responses) == len(SESSIONS)
    questionnaires = {q["url"]: q for q in _resources(bundle, "Questionnaire")}
    for session, response in zip(SESSIONS, responses, strict=True):
        assert response["status"] == "completed"
        assert response["authored"] == session.date.isoformat()
        assert response["questionnaire"] == f"{BASE}/Questionnaire/{session.instrument}"
        answers = {item["linkId"]: item["answer"] for item in response["item"]}
        values = [next(iter(answers[str(n)][0].values())) for n in range(1, len(session.items) + 1)]
        assert values == list(session.items)
        if session.instrument == "wai-sr":
            assert all(isinstance(v, int) for v in values)
        assert answers["score-bond"] == [{"valueDecimal": session.bond}]
        assert answers["score-goal"] == [{"valueDecimal": session.goal}]
        assert answers["score-task"] == [{"valueDecimal": session.task}]
        assert answers["score-total"] == [{"valueDecimal": session.total}]
        for name, value in session.extra.items():
            assert answers[f"score-{name}"] == [{"valueDecimal": value}]
        # Every answered linkId is declared, with a matching value type.
        declared = {
            item["linkId"]: item["type"]
            for item in questionnaires[response["questionnaire"]]["item"]
        }
        for link_id, answer in answers.items():
            (key,) = answer[0]
            assert key == "value" + declared[link_id].capitalize()
        rater = [e["valueCode"] for e in response["extension"] if e["url"].endswith("/rater")]
        assert rater == [session.rater]
        assert ("source" in response) == (session.rater == "patient")


def test_goals_map_status_and_achievement(bundle: dict[str, Any]) -> None:
    goals = _resources(bundle, "Goal")
    assert [g["description"]["text"] for g in goals] == [g.text for g in GOALS]
    assert [g["lifecycleStatus"] for g in goals] == ["active", "completed", "cancelled"]
    codings = [g["achievementStatus"]["coding"] for g in goals]
    assert all(len(c) == 1 and c[0]["system"] == ACHIEVEMENT for c in codings)
    assert [c[0]["code"] for c in codings] == ["in-progress", "achieved", "not-achieved"]
    active, achieved, dropped = goals
    assert active["target"] == [{"dueDate": "2026-04-01"}]
    assert "target" not in achieved
    assert [g["startDate"] for g in goals] == ["2026-01-05", "2026-01-05", "2026-01-12"]
    assert [n["text"] for n in active["note"]] == ["halfway there"]
    assert "note" not in achieved
    assert [n["text"] for n in dropped["note"]] == ["too ambitious for now", "replaced by walking"]
    # Only a patient-proposed goal names the patient as the one who expressed it.
    assert "expressedBy" in active
    assert "expressedBy" not in achieved and "expressedBy" not in dropped


def test_references_resolve_inside_the_bundle(bundle: dict[str, Any]) -> None:
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    (patient_url,) = [
        e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    references = _references(bundle)
    assert references  # subjects, sources, expressedBy
    assert set(references) == {patient_url}
    assert set(references) <= urls
    canonicals = {r["questionnaire"] for r in _resources(bundle, "QuestionnaireResponse")}
    assert canonicals <= {q["url"] for q in _resources(bundle, "Questionnaire")}


def test_same_export_same_bundle(bundle: dict[str, Any]) -> None:
    assert fhir_bundle(_export()) == bundle
    assert json.dumps(fhir_bundle(_export())) == json.dumps(bundle)
    other = fhir_bundle(replace(_export(), profile=replace(_export().profile, code="P-0043")))
    assert not {
        e["fullUrl"] for e in other["entry"] if e["resource"]["resourceType"] != "Questionnaire"
    } & {e["fullUrl"] for e in bundle["entry"]}


def test_empty_export_is_a_valid_bundle() -> None:
    empty = replace(_export(), goals=(), tasks=(), sessions=(), instruments=())
    result = fhir_bundle(empty)
    assert [e["resource"]["resourceType"] for e in result["entry"]] == ["Patient"]
    Bundle.model_validate(result)


def test_session_of_an_undescribed_instrument_is_refused() -> None:
    with pytest.raises(ValueError, match="srs"):
        fhir_bundle(replace(_export(), instruments=(QUICK, WAI_SR)))
