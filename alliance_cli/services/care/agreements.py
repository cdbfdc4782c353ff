"""What goals and tasks share: each is agreed with a patient on a day of care, listed
with its reviews, and followed by dated events (reviews, status changes) in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlmodel import Session, col, select

from alliance_cli.domain.dates import check_care_date
from alliance_cli.errors import InvalidInput
from alliance_cli.store.models import Goal, Patient, Task

Agreement = TypeVar("Agreement", Goal, Task)


@dataclass(frozen=True)
class Kind:
    """How the messages name one kind of agreement and the events that follow it."""

    noun: str  # "goal"
    made: str  # "set": the goal was set on its date
    event_date: str  # "review date": what the date of an event is called
    events: str  # "reviews"
    latest_event: str  # "the latest review": the one a new event may not precede
    first_event: str  # "the first review": the one its date may not follow
    followed: str  # "reviewed": what happens to it after it is agreed


GOAL = Kind(
    noun="goal",
    made="set",
    event_date="review date",
    events="reviews",
    latest_event="the latest review",
    first_event="the first review",
    followed="reviewed",
)
TASK = Kind(
    noun="task",
    made="agreed",
    event_date="status date",
    events="status changes",
    latest_event="the last status change",
    first_event="the first review or status change",
    followed="reviewed or closed",
)


def agreements_of(
    session: Session, model: type[Agreement], patient_id: int | None, *, only: str | None
) -> Sequence[Agreement]:
    """A patient's goals or tasks in the order they were added; with `only`, those of
    that status alone."""
    query = select(model).where(model.patient_id == patient_id).order_by(col(model.id))
    if only is not None:
        query = query.where(model.status == only)
    return session.exec(query).all()


def check_care_day(
    session: Session, patient_id: int, when: date, today: date, *, what: str
) -> None:
    """`when` is a day of the patient's care (see `check_care_date`)."""
    patient = session.get(Patient, patient_id)
    check_care_date(when, today, None if patient is None else patient.since, what=what)


def check_next_event(
    session: Session, kind: Kind, item: Goal | Task, on: date, today: date, latest: date | None
) -> None:
    """An event on `on` comes on a day of care, after the item was agreed and after its
    `latest` event: events are recorded in the order they happened."""
    check_care_day(session, item.patient_id, on, today, what=kind.event_date)
    if on < item.created:
        raise InvalidInput(
            f"{kind.event_date} {on.isoformat()} is before {kind.noun} {item.id} was "
            f"{kind.made} ({item.created.isoformat()})",
            f"correct the {kind.noun}'s date first: "
            f"`alliance {kind.noun} edit {item.id} --date DATE`",
        )
    if latest is not None and on < latest:
        raise InvalidInput(
            f"{kind.event_date} {on.isoformat()} is before {kind.latest_event} of "
            f"{kind.noun} {item.id} ({latest.isoformat()})",
            f"record {kind.events} in the order they happened",
        )


def check_new_date(
    session: Session, kind: Kind, item: Goal | Task, created: date, today: date, first: date | None
) -> None:
    """A corrected date of agreement is a day of care, not after the `first` event."""
    check_care_day(session, item.patient_id, created, today, what=f"{kind.noun} date")
    if first is not None and created > first:
        raise InvalidInput(
            f"{kind.noun} date {created.isoformat()} is after {kind.first_event} of "
            f"{kind.noun} {item.id} ({first.isoformat()})",
            f"a {kind.noun} is {kind.made} before it is {kind.followed}",
        )
