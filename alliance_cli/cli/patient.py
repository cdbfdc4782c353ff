"""`alliance patient ...`: add, list, show, edit, discharge, reactivate, delete."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from alliance_cli.cli.common import (
    AllCliniciansOption,
    CodeArgument,
    FormatOption,
    OutputFormat,
    TextFormat,
    TextFormatOption,
    YesOption,
    confirm,
    database,
    settings,
    text_or_none,
    to_date,
    today,
)
from alliance_cli.domain.dates import check_not_future
from alliance_cli.domain.text import check_code
from alliance_cli.domain.vocabulary import Ending
from alliance_cli.render.console import message

if TYPE_CHECKING:
    from datetime import date

    from alliance_cli.domain.trends import TrendData
    from alliance_cli.services.care.patients import PatientDetails

app = typer.Typer(
    help="Patients: pseudonymous codes and what matters to them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


NameOption = Annotated[
    str | None, typer.Option("--name", help="Real name (optional, never required).")
]
SinceOption = Annotated[
    str | None, typer.Option("--since", metavar="DATE", help="Start of care (YYYY-MM-DD).")
]
ExpectationsOption = Annotated[
    str | None, typer.Option("--expectations", help="What the patient expects from care.")
]
BeliefsOption = Annotated[
    str | None, typer.Option("--beliefs", help="The patient's beliefs about the problem.")
]
EmotionalStateOption = Annotated[
    str | None, typer.Option("--emotional-state", help="Emotional state at intake.")
]
SocialContextOption = Annotated[
    str | None, typer.Option("--social-context", help="Family and social context.")
]
NoteOption = Annotated[str | None, typer.Option("--note", help="A free note.")]
InstrumentOption = Annotated[
    str | None,
    typer.Option(
        "--instrument",
        help="How sessions are rated: quick (default), wai-sr, srs, or one from the config.",
    ),
]


def _details(
    name: str | None,
    since: str | None,
    expectations: str | None,
    beliefs: str | None,
    emotional_state: str | None,
    social_context: str | None,
    note: str | None,
    instrument: str | None,
    ctx: typer.Context,
) -> PatientDetails:
    from alliance_cli.services.care.patients import PatientDetails

    return PatientDetails(
        name=_keep_empty(name, "name"),
        since=_start_of_care(since),
        expectations=_keep_empty(expectations, "expectations"),
        beliefs=_keep_empty(beliefs, "beliefs"),
        emotional_state=_keep_empty(emotional_state, "emotional state"),
        social_context=_keep_empty(social_context, "social context"),
        note=_keep_empty(note, "note"),
        instrument=None if instrument is None else settings(ctx).instrument(instrument).name,
    )


def _start_of_care(value: str | None) -> date | None:
    """--since, which cannot lie in the future: stored, it would refuse every session
    until that day."""
    since = to_date(value, "--since")
    if since is not None:
        check_not_future(since, today(), what="start of care")
    return since


def _keep_empty(value: str | None, what: str) -> str | None:
    """None = not given; "" = given empty (clears the field in `edit`)."""
    if value is None:
        return None
    return text_or_none(value, what) or ""


@app.command("add")
def add(
    ctx: typer.Context,
    code: CodeArgument,
    name: NameOption = None,
    since: SinceOption = None,
    expectations: ExpectationsOption = None,
    beliefs: BeliefsOption = None,
    emotional_state: EmotionalStateOption = None,
    social_context: SocialContextOption = None,
    note: NoteOption = None,
    instrument: InstrumentOption = None,
    fmt: TextFormatOption = TextFormat.text,
) -> None:
    """Add a patient under a pseudonymous code."""
    from alliance_cli.render import views
    from alliance_cli.services.care.patients import add_patient

    details = _details(
        name, since, expectations, beliefs, emotional_state, social_context, note, instrument, ctx
    )
    checked = check_code(code)  # before a new database is created for it
    with database(ctx, create=True) as db:
        profile = add_patient(db, checked, details)
    message(f"Added patient {profile.code}.")
    if fmt == TextFormat.json:
        views.profile(profile, fmt.value)


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Include discharged patients.")] = False,
    flagged: Annotated[bool, typer.Option("--flagged", help="Only patients with alerts.")] = False,
    all_clinicians: AllCliniciansOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List patients: sessions, last session, latest scores, trend and flag counts."""
    from alliance_cli.render import views
    from alliance_cli.services.care.patients import list_patients

    with database(ctx) as db:
        rows = list_patients(
            db, settings(ctx), today(), include_discharged=all_, all_clinicians=all_clinicians
        )
    if flagged:
        rows = [row for row in rows if row.alerts]
    if not rows and fmt == OutputFormat.table:
        if flagged:
            message("No patient has an alert.")
        else:
            message("No patients yet: add one with `alliance patient add CODE`.")
        return
    views.patients(rows, fmt.value, clinicians=all_clinicians)


@app.command("show")
def show(
    ctx: typer.Context,
    code: CodeArgument,
    recent: Annotated[
        int, typer.Option("--recent", min=1, max=10_000, help="Rating sets to show (1-10000).")
    ] = 10,
    fmt: TextFormatOption = TextFormat.text,
) -> None:
    """The patient's dashboard: profile, current flags, active goals with their latest
    review, open tasks with adherence, recent sessions and a compact trend chart."""
    from alliance_cli.render import views
    from alliance_cli.services.care.patients import show_patient

    with database(ctx) as db:
        overview = show_patient(db, code, settings(ctx), today(), recent=recent)
    chart = None
    if fmt == TextFormat.text and overview.trend and len(overview.trend.ratings) >= 2:
        chart = _compact_chart(overview.trend)
    views.overview(overview, fmt.value, chart=chart)


def _compact_chart(data: TrendData) -> str:
    import shutil
    import sys

    from alliance_cli.render.console import wants_color
    from alliance_cli.render.trend_chart import trend_chart

    width = max(40, min(shutil.get_terminal_size((80, 24)).columns, 80))
    return trend_chart(data, width=width, height=12, color=wants_color(sys.stdout))


@app.command("edit")
def edit(
    ctx: typer.Context,
    code: CodeArgument,
    new_code: Annotated[
        str | None, typer.Option("--code", help="Change the patient's code.")
    ] = None,
    name: NameOption = None,
    since: SinceOption = None,
    expectations: ExpectationsOption = None,
    beliefs: BeliefsOption = None,
    emotional_state: EmotionalStateOption = None,
    social_context: SocialContextOption = None,
    note: NoteOption = None,
    instrument: InstrumentOption = None,
    fmt: TextFormatOption = TextFormat.text,
) -> None:
    """Change a patient's profile; an empty value ("") clears a field.

    A new --instrument applies to later sessions; earlier ones keep theirs.
    """
    from alliance_cli.render import views
    from alliance_cli.services.care.patients import PatientDetails, edit_patient

    details = _details(
        name, since, expectations, beliefs, emotional_state, social_context, note, instrument, ctx
    )
    renamed = None if new_code is None else check_code(new_code)
    if details == PatientDetails() and renamed is None:
        from alliance_cli.errors import InvalidInput

        raise InvalidInput("nothing to change", "give at least one option, see --help")
    with database(ctx) as db:
        profile = edit_patient(db, code, details, new_code=renamed)
    message(f"Updated patient {profile.code}.")
    views.profile(profile, fmt.value)


@app.command("discharge")
def discharge(
    ctx: typer.Context,
    code: CodeArgument,
    when: Annotated[
        str, typer.Option("--date", metavar="DATE", help="Discharge date (default today).")
    ] = "today",
    reason: Annotated[str | None, typer.Option("--reason", help="Why care ended.")] = None,
    ending: Annotated[
        Ending | None,
        typer.Option(
            "--ending",
            help="How care ended: mutual (agreed), dropout (the patient stopped), referred, "
            "moved or other; asked for on a terminal.",
        ),
    ] = None,
) -> None:
    """Mark a patient as discharged (kept, but hidden from `patient list`)."""
    from alliance_cli.services.care.patients import discharge_patient

    on = to_date(when, "--date")
    assert on is not None
    said = text_or_none(reason, "reason")
    how = ending if ending is not None else _ask_ending(code)
    with database(ctx) as db:
        profile = discharge_patient(db, code, on, said, how)
    message(f"Discharged {profile.code} on {on.isoformat()} ({how}).")


def _ask_ending(code: str) -> Ending:
    """How care ended, asked on a terminal; without one, the option is required."""
    from alliance_cli.cli.common import ask, stdin_is_terminal
    from alliance_cli.domain.records import ENDINGS
    from alliance_cli.errors import Cancelled, MissingOption

    choices = "|".join(ENDINGS)
    if not stdin_is_terminal():
        raise MissingOption(f"how care ended is required: give --ending {choices}")
    while True:
        answer = ask(f"How did care with {code} end? ({choices})")
        if answer is None:
            raise Cancelled("nothing was changed")
        reply = answer.strip().lower()
        if reply in ENDINGS:
            return Ending(reply)
        sys.stderr.write(f"Answer one of: {', '.join(ENDINGS)}.\n")


@app.command("reactivate")
def reactivate(ctx: typer.Context, code: CodeArgument) -> None:
    """Resume care for a discharged patient."""
    from alliance_cli.services.care.patients import reactivate_patient

    with database(ctx) as db:
        profile = reactivate_patient(db, code)
    message(f"{profile.code} is active again.")


@app.command("transfer")
def transfer(
    ctx: typer.Context,
    code: CodeArgument,
    clinician: Annotated[
        str, typer.Argument(metavar="CLINICIAN", help="Who takes the patient over.")
    ],
) -> None:
    """Hand a patient over to another clinician's caseload, with the whole history."""
    from alliance_cli.clinician import name_problem
    from alliance_cli.errors import InvalidInput
    from alliance_cli.services.care.patients import transfer_patient

    problem = name_problem(clinician)
    if problem:
        raise InvalidInput(f"the clinician name {problem}")
    with database(ctx) as db:
        transfer_patient(db, code, clinician)
    message(f"{code} is now in {clinician}'s caseload.")


@app.command("delete")
def delete(ctx: typer.Context, code: CodeArgument, yes: YesOption = False) -> None:
    """Erase a patient and everything attached (right to erasure). Cannot be undone."""
    from alliance_cli.domain.words import plural
    from alliance_cli.services.care.patients import count_attached, delete_patient

    with database(ctx) as db:
        if not yes:
            counts = count_attached(db, code)
            confirm(
                f"Erase {code} with {plural(counts.sessions, 'rating set')}, "
                f"{plural(counts.goals, 'goal')} and {plural(counts.tasks, 'task')}? "
                "This cannot be undone.",
                yes=yes,
                refusal=f"refusing to erase {code} without confirmation",
            )
        erased = delete_patient(db, code)
    message(
        f"Erased {code}: {plural(erased.sessions, 'rating set')}, "
        f"{plural(erased.goals, 'goal')}, {plural(erased.tasks, 'task')}."
    )
