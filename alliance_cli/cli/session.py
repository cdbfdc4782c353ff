"""`alliance session ...` (and `alliance rate`): per-session alliance ratings."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Annotated

import typer

from alliance_cli.cli.common import (
    CodeArgument,
    FormatOption,
    OutputFormat,
    TextFormat,
    TextFormatOption,
    YesOption,
    ask,
    confirm,
    database,
    settings,
    stdin_is_terminal,
    text_or_none,
    to_date,
    today,
)
from alliance_cli.domain.instruments import Instrument, parse_score, parse_value, rater_warning
from alliance_cli.domain.scoring_input import (
    RawRating,
    check_entry,
    check_given,
    missing_entries,
    scores_from_input,
)
from alliance_cli.domain.vocabulary import Marker, Rater
from alliance_cli.errors import Cancelled, InvalidInput
from alliance_cli.render.console import message
from alliance_cli.render.values import fmt_score

if TYPE_CHECKING:
    from datetime import date

    from alliance_cli.config import Settings
    from alliance_cli.domain.records import SessionRecord, StoredSession
    from alliance_cli.services.database import Database

app = typer.Typer(
    help="Session ratings of bond, goal and task agreement.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


RuptureOption = Annotated[
    Marker | None,
    typer.Option(
        "--rupture",
        help="Did the rater see a rupture: none, withdrawal (moving away) or "
        "confrontation (moving against)? Left out: not asked.",
    ),
]


SessionIdArgument = Annotated[int, typer.Argument(help="Session id (see `alliance session list`).")]
BondOption = Annotated[
    str | None, typer.Option("--bond", metavar="SCORE", help="Bond, 0-10 (one decimal), for quick.")
]
GoalOption = Annotated[
    str | None,
    typer.Option("--goal", metavar="SCORE", help="Agreement on goals, 0-10 (one decimal)."),
]
TaskOption = Annotated[
    str | None,
    typer.Option("--task", metavar="SCORE", help="Agreement on tasks, 0-10 (one decimal)."),
]
NoteOption = Annotated[str | None, typer.Option("--note", help="A note on the session.")]


ItemsOption = Annotated[
    str | None,
    typer.Option(
        "--items",
        metavar="N,N,...",
        help="Item values in item order, for item instruments (wai-sr: 12 values 1-5; "
        "srs: 4 values 0-10).",
    ),
]


def _prompt_value(question: str, parse: Callable[[str], float]) -> float:
    """Ask on the terminal until the answer is valid (Ctrl-C: see `ask`)."""
    while True:
        answer = ask(question)
        if answer is None:
            raise Cancelled("no rating given; nothing was stored")
        if not answer.strip():
            continue
        try:
            return parse(answer)
        except InvalidInput as problem:
            message(str(problem))


def _ask_missing(
    instrument: Instrument, raw: RawRating, previous: SessionRecord | None
) -> RawRating:
    """Prompt for what was left out, showing last time's value (same instrument only)."""
    if previous is not None and previous.instrument != instrument.name:
        previous = None
    since = f" on {previous.date.isoformat()}" if previous else ""
    scale = instrument.scale
    if instrument.direct_entry:
        given = raw.given_dimensions()
        for name in missing_entries(instrument, raw):
            last = f", last {fmt_score(getattr(previous, name))}{since}" if previous else ""
            value = _prompt_value(
                f"{name.capitalize()} ({scale}{last})",
                partial(parse_score, dimension=name, instrument=instrument),
            )
            given[name] = f"{value:g}"
        return RawRating(**given)
    values = []
    for number in range(1, instrument.item_count + 1):
        last = f", last {previous.items[number - 1]:g}{since}" if previous else ""
        value = _prompt_value(
            f"{instrument.name} item {number} of {instrument.item_count}: "
            f"{instrument.item_label(number)} ({scale}{last})",
            partial(parse_value, label=f"item {number}", instrument=instrument),
        )
        values.append(f"{value:g}")
    return RawRating(items=",".join(values))


def add(
    ctx: typer.Context,
    code: CodeArgument,
    when: Annotated[
        str, typer.Option("--date", metavar="DATE", help="Session date (default today).")
    ] = "today",
    bond: BondOption = None,
    goal: GoalOption = None,
    task: TaskOption = None,
    items: ItemsOption = None,
    rater: Annotated[
        Rater, typer.Option("--rater", help="Who rated: patient (default) or therapist.")
    ] = Rater.PATIENT,
    note: NoteOption = None,
    rupture: RuptureOption = None,
    fmt: TextFormatOption = TextFormat.text,
) -> None:
    """Record a session's ratings, the change since last time, and the flags it raised.

    The patient's instrument decides the entry: --bond/--goal/--task for quick,
    --items for wai-sr, srs and custom instruments. What is left out is asked for when
    stdin is a terminal.
    """
    from alliance_cli.render import views
    from alliance_cli.services.care.sessions import (
        record_session,
    )

    on = to_date(when, "--date")
    assert on is not None
    note_text = text_or_none(note, "note")
    raw = RawRating(bond=bond, goal=goal, task=task, items=items)
    config = settings(ctx)
    complete = items is not None or None not in (bond, goal, task)
    with database(ctx) as db:
        if complete:  # the usual case: one write transaction
            stored = record_session(
                db,
                code,
                raw,
                when=on,
                rater=rater,
                note=note_text,
                settings=config,
                today=today(),
                rupture=rupture,
            )
        else:
            stored = _ask_and_store(db, code, raw, on, rater, note_text, config, rupture)
    views.stored_session(stored, fmt.value)
    warning = rater_warning(config.instrument(stored.session.instrument), rater)
    if warning and stored.previous is None:  # once: at this rater's first set on the form
        message("warning: " + warning)


def _ask_and_store(
    db: Database,
    code: str,
    raw: RawRating,
    on: date,
    rater: Rater,
    note: str | None,
    config: Settings,
    rupture: Marker | None = None,
) -> StoredSession:
    """Ask on the terminal for what was left out (never inside a write transaction)."""
    from alliance_cli.services.care.sessions import NewRating, add_session, rating_context

    context = rating_context(db, code, on, rater, today())
    instrument = config.instrument(context.instrument)
    check_entry(instrument, raw, code)
    check_given(instrument, raw)
    missing = missing_entries(instrument, raw)
    if missing and not stdin_is_terminal():
        flags = ", ".join(f"--{name}" for name in missing)
        raise InvalidInput(
            f"missing rating {flags}",
            "give every rating: stdin is not a terminal, so alliance cannot ask",
        )
    if missing:
        raw = _ask_missing(instrument, raw, context.previous)
    new = NewRating(
        date=on,
        rater=rater,
        instrument=instrument.name,
        scores=scores_from_input(instrument, raw),
        note=note,
        rupture=rupture,
    )
    return add_session(db, code, new, config, today=today())


app.command("add")(add)


@app.command("list")
def list_(
    ctx: typer.Context,
    code: CodeArgument,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List a patient's rating sets, oldest first."""
    from alliance_cli.render import views
    from alliance_cli.services.care.sessions import list_sessions

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
    items: ItemsOption = None,
    note: Annotated[str | None, typer.Option("--note", help='New note ("" removes it).')] = None,
    rupture: Annotated[
        str | None,
        typer.Option(
            "--rupture",
            metavar="none|withdrawal|confrontation",
            help='The rater\'s answer to the rupture question ("" removes it: not asked).',
        ),
    ] = None,
) -> None:
    """Correct a stored rating set (only the options given change)."""
    from alliance_cli.render import views
    from alliance_cli.services.care.sessions import RatingChanges, edit_session

    changes = RatingChanges(
        date=to_date(when, "--date"),
        rater=rater,
        ratings=RawRating(bond=bond, goal=goal, task=task, items=items),
        note=None if note is None else (text_or_none(note, "note") or ""),
        rupture=rupture,
    )
    if changes == RatingChanges():
        raise InvalidInput("nothing to change", "give at least one option, see --help")
    with database(ctx) as db:
        record = edit_session(db, session_id, changes, settings(ctx), today=today())
    message(f"Updated session {record.id} of {record.patient}.")
    views.sessions([record], OutputFormat.table.value)


@app.command("delete")
def delete(ctx: typer.Context, session_id: SessionIdArgument, yes: YesOption = False) -> None:
    """Delete one rating set."""
    from alliance_cli.services.care.sessions import delete_session, get_session

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
