"""`alliance session ...` (and `alliance rate`): per-session alliance ratings."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from alliance_cli.cli.common import (
    CodeArgument,
    FormatOption,
    OutputFormat,
    TextFormat,
    TextFormatOption,
    YesOption,
    confirm,
    database,
    stdin_is_terminal,
    text_or_none,
    to_date,
    today,
)
from alliance_cli.domain.instruments import DIMENSIONS, QUICK, parse_score, quick_scores
from alliance_cli.errors import Cancelled, InvalidInput
from alliance_cli.render.console import message
from alliance_cli.render.values import fmt_score

if TYPE_CHECKING:
    from alliance_cli.domain.records import SessionRecord

app = typer.Typer(
    help="Session ratings of bond, goal and task agreement.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class Rater(StrEnum):
    patient = "patient"
    therapist = "therapist"


SessionIdArgument = Annotated[int, typer.Argument(help="Session id (see `alliance session list`).")]
BondOption = Annotated[str | None, typer.Option("--bond", help="Bond, 0-10 (one decimal).")]
GoalOption = Annotated[
    str | None, typer.Option("--goal", help="Agreement on goals, 0-10 (one decimal).")
]
TaskOption = Annotated[
    str | None, typer.Option("--task", help="Agreement on tasks, 0-10 (one decimal).")
]
NoteOption = Annotated[str | None, typer.Option("--note", help="A note on the session.")]


def _parse_given(bond: str | None, goal: str | None, task: str | None) -> dict[str, float]:
    given = {"bond": bond, "goal": goal, "task": task}
    return {name: parse_score(value, name) for name, value in given.items() if value is not None}


def _prompt_score(dimension: str, previous: SessionRecord | None) -> float:
    """Ask for one rating on the terminal, showing last time's value, until it is valid."""
    last = (
        f", last {fmt_score(getattr(previous, dimension))} on {previous.date.isoformat()}"
        if previous
        else ""
    )
    question = f"{dimension.capitalize()} ({QUICK.minimum:g}-{QUICK.maximum:g}{last})"
    while True:
        try:
            answer = typer.prompt(question, err=True)
        except (EOFError, typer.Abort):
            raise Cancelled("no rating given; nothing was stored") from None
        try:
            return parse_score(str(answer), dimension)
        except InvalidInput as problem:
            message(str(problem))


def add(
    ctx: typer.Context,
    code: CodeArgument,
    when: Annotated[
        str, typer.Option("--date", metavar="DATE", help="Session date (default today).")
    ] = "today",
    bond: BondOption = None,
    goal: GoalOption = None,
    task: TaskOption = None,
    rater: Annotated[
        Rater, typer.Option("--rater", help="Who rated: patient (default) or therapist.")
    ] = Rater.patient,
    note: NoteOption = None,
    fmt: TextFormatOption = TextFormat.text,
) -> None:
    """Record a session's bond/goal/task ratings and show the change since last time.

    Ratings left out are asked for when stdin is a terminal.
    """
    from alliance_cli.render import views
    from alliance_cli.services.sessions import (
        NewRating,
        add_session,
        check_can_rate,
        previous_rating,
    )

    on = to_date(when, "--date")
    assert on is not None
    scores = _parse_given(bond, goal, task)
    note_text = text_or_none(note, "note")
    missing = [name for name in DIMENSIONS if name not in scores]
    if missing and not stdin_is_terminal():
        flags = ", ".join(f"--{name}" for name in missing)
        raise InvalidInput(
            f"missing rating {flags}",
            "give --bond, --goal and --task: stdin is not a terminal, so alliance cannot ask",
        )
    with database(ctx) as db:
        if missing:
            check_can_rate(db, code, on, rater.value, today())
            previous = previous_rating(db, code, rater.value, on)
            for name in missing:
                scores[name] = _prompt_score(name, previous)
        new = NewRating(
            date=on,
            rater=rater.value,
            instrument=QUICK.name,
            scores=quick_scores(scores["bond"], scores["goal"], scores["task"]),
            note=note_text,
        )
        stored = add_session(db, code, new, today=today())
    views.stored_session(stored, fmt.value)


app.command("add")(add)


@app.command("list")
def list_(
    ctx: typer.Context,
    code: CodeArgument,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List a patient's rating sets, oldest first."""
    from alliance_cli.render import views
    from alliance_cli.services.sessions import list_sessions

    with database(ctx) as db:
        records = list_sessions(db, code)
    if not records and fmt == OutputFormat.table:
        message(f"No sessions yet for {code}: `alliance session add {code}`.")
        return
    views.sessions(records, fmt.value)


@app.command("edit")
def edit(
    ctx: typer.Context,
    session_id: SessionIdArgument,
    when: Annotated[str | None, typer.Option("--date", metavar="DATE", help="New date.")] = None,
    rater: Annotated[Rater | None, typer.Option("--rater", help="New rater.")] = None,
    bond: BondOption = None,
    goal: GoalOption = None,
    task: TaskOption = None,
    note: Annotated[str | None, typer.Option("--note", help='New note ("" removes it).')] = None,
) -> None:
    """Correct a stored rating set (only the options given change)."""
    from alliance_cli.render import views
    from alliance_cli.services.sessions import RatingChanges, edit_session

    scores = _parse_given(bond, goal, task)
    changes = RatingChanges(
        date=to_date(when, "--date"),
        rater=rater.value if rater else None,
        bond=scores.get("bond"),
        goal=scores.get("goal"),
        task=scores.get("task"),
        note=None if note is None else (text_or_none(note, "note") or ""),
    )
    if changes == RatingChanges():
        raise InvalidInput("nothing to change", "give at least one option, see --help")
    with database(ctx) as db:
        record = edit_session(db, session_id, changes, today=today())
    message(f"Updated session {record.id} of {record.patient}.")
    views.sessions([record], OutputFormat.table.value)


@app.command("delete")
def delete(ctx: typer.Context, session_id: SessionIdArgument, yes: YesOption = False) -> None:
    """Delete one rating set."""
    from alliance_cli.services.sessions import delete_session, get_session

    with database(ctx) as db:
        if not yes:
            record = get_session(db, session_id)
            confirm(
                f"Delete the {record.rater} rating of {record.patient} on "
                f"{record.date.isoformat()} (session {record.id})?",
                yes=yes,
                refusal=f"refusing to delete session {session_id} without confirmation",
            )
        deleted = delete_session(db, session_id)
    message(f"Deleted session {deleted.id} of {deleted.patient}.")
