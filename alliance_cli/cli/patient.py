"""`alliance patient ...`: add, list, show, edit, discharge, reactivate, delete."""

from __future__ import annotations

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
    text_or_none,
    to_date,
)
from alliance_cli.domain.text import check_code
from alliance_cli.render.console import message

if TYPE_CHECKING:
    from alliance_cli.services.patients import PatientDetails

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


def _details(
    name: str | None,
    since: str | None,
    expectations: str | None,
    beliefs: str | None,
    emotional_state: str | None,
    social_context: str | None,
    note: str | None,
) -> PatientDetails:
    from alliance_cli.services.patients import PatientDetails

    return PatientDetails(
        name=_keep_empty(name, "name"),
        since=to_date(since, "--since"),
        expectations=_keep_empty(expectations, "expectations"),
        beliefs=_keep_empty(beliefs, "beliefs"),
        emotional_state=_keep_empty(emotional_state, "emotional state"),
        social_context=_keep_empty(social_context, "social context"),
        note=_keep_empty(note, "note"),
    )


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
    fmt: TextFormatOption = TextFormat.text,
) -> None:
    """Add a patient under a pseudonymous code."""
    from alliance_cli.render import views
    from alliance_cli.services.patients import add_patient

    details = _details(name, since, expectations, beliefs, emotional_state, social_context, note)
    with database(ctx) as db:
        profile = add_patient(db, check_code(code), details)
    message(f"Added patient {profile.code}.")
    if fmt == TextFormat.json:
        views.profile(profile, fmt.value)


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Include discharged patients.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List active patients with their session count and last session."""
    from alliance_cli.render import views
    from alliance_cli.services.patients import list_patients

    with database(ctx) as db:
        rows = list_patients(db, include_discharged=all_)
    if not rows and fmt == OutputFormat.table:
        message("No patients yet: add one with `alliance patient add CODE`.")
        return
    views.patients(rows, fmt.value)


@app.command("show")
def show(
    ctx: typer.Context,
    code: CodeArgument,
    recent: Annotated[int, typer.Option("--recent", min=1, help="Rating sets to show.")] = 10,
    fmt: TextFormatOption = TextFormat.text,
) -> None:
    """Show a patient's profile, goals, tasks and recent sessions."""
    from alliance_cli.render import views
    from alliance_cli.services.patients import show_patient

    with database(ctx) as db:
        overview = show_patient(db, code, recent=recent)
    views.overview(overview, fmt.value)


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
    fmt: TextFormatOption = TextFormat.text,
) -> None:
    """Change a patient's profile; an empty value ("") clears a field."""
    from alliance_cli.render import views
    from alliance_cli.services.patients import PatientDetails, edit_patient

    details = _details(name, since, expectations, beliefs, emotional_state, social_context, note)
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
) -> None:
    """Mark a patient as discharged (kept, but hidden from `patient list`)."""
    from alliance_cli.services.patients import discharge_patient

    on = to_date(when, "--date")
    assert on is not None
    with database(ctx) as db:
        profile = discharge_patient(db, code, on, text_or_none(reason, "reason"))
    message(f"Discharged {profile.code} on {on.isoformat()}.")


@app.command("reactivate")
def reactivate(ctx: typer.Context, code: CodeArgument) -> None:
    """Resume care for a discharged patient."""
    from alliance_cli.services.patients import reactivate_patient

    with database(ctx) as db:
        profile = reactivate_patient(db, code)
    message(f"{profile.code} is active again.")


@app.command("delete")
def delete(ctx: typer.Context, code: CodeArgument, yes: YesOption = False) -> None:
    """Erase a patient and everything attached (right to erasure). Cannot be undone."""
    from alliance_cli.services.patients import count_attached, delete_patient

    with database(ctx) as db:
        if not yes:
            counts = count_attached(db, code)
            confirm(
                f"Erase {code} with {counts.sessions} rating sets, {counts.goals} goals "
                f"and {counts.tasks} tasks? This cannot be undone.",
                yes=yes,
                refusal=f"refusing to erase {code} without confirmation",
            )
        erased = delete_patient(db, code)
    message(
        f"Erased {code}: {erased.sessions} rating sets, {erased.goals} goals, {erased.tasks} tasks."
    )
