"""`alliance goal ...`: goals co-created with the patient."""

from __future__ import annotations

from typing import Annotated

import typer

from alliance_cli.cli.agreements import (
    NoteOption,
    ReviewDateOption,
    day,
    require_a_change,
    show_list,
)
from alliance_cli.cli.common import (
    CodeArgument,
    FormatOption,
    OutputFormat,
    database,
    text_or_none,
    to_date,
    today,
)
from alliance_cli.domain.text import required_text
from alliance_cli.domain.vocabulary import GoalStatus, ProposedBy
from alliance_cli.render.console import message, out

app = typer.Typer(
    help="Goals agreed with the patient.", no_args_is_help=True, rich_markup_mode=None
)


TargetOption = Annotated[
    str | None, typer.Option("--target", metavar="DATE", help="Target date (YYYY-MM-DD).")
]
GoalIdArgument = Annotated[int, typer.Argument(help="Goal id (see `alliance goal list`).")]
BaselineOption = Annotated[
    str | None,
    typer.Option(
        "--baseline",
        metavar="-1|-2",
        help="GAS level where the patient starts: -1 (default), or -2 if it could be worse.",
    ),
]
WeightOption = Annotated[
    str | None,
    typer.Option("--weight", metavar="N", help="The goal's weight in the GAS T-score (> 0)."),
]


def _gas_settings(baseline: str | None, weight: str | None) -> tuple[int | None, float | None]:
    from alliance_cli.domain.gas import check_baseline, check_weight

    return (
        None if baseline is None else check_baseline(baseline),
        None if weight is None else check_weight(weight),
    )


@app.command("add")
def add(
    ctx: typer.Context,
    code: CodeArgument,
    text: Annotated[str, typer.Argument(help="The goal, in the patient's words.")],
    by: Annotated[
        ProposedBy, typer.Option("--by", help="Who proposed it: patient, therapist or joint.")
    ] = ProposedBy.JOINT,
    target: TargetOption = None,
    when: Annotated[
        str,
        typer.Option("--date", metavar="DATE", help="When the goal was set (default today)."),
    ] = "today",
    baseline: BaselineOption = None,
    weight: WeightOption = None,
) -> None:
    """Add a goal; prints the new goal's id."""
    from alliance_cli.domain.gas import DEFAULT_BASELINE, DEFAULT_WEIGHT
    from alliance_cli.services.care.goals import add_goal

    goal_text = required_text(text, "goal text")
    target_date = to_date(target, "--target")
    on = day(when)
    start, weighs = _gas_settings(baseline, weight)
    with database(ctx) as db:
        goal = add_goal(
            db,
            code,
            goal_text,
            proposed_by=by,
            target=target_date,
            on=on,
            today=today(),
            baseline=DEFAULT_BASELINE if start is None else start,
            weight=DEFAULT_WEIGHT if weighs is None else weighs,
        )
    out(str(goal.id))
    message(f"Added goal {goal.id} for {goal.patient}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    code: CodeArgument,
    all_: Annotated[
        bool, typer.Option("--all", "-a", help="Include achieved and dropped goals.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List a patient's active goals."""
    from alliance_cli.render import views
    from alliance_cli.services.care.goals import list_goals

    with database(ctx) as db:
        goals = list_goals(db, code, include_closed=all_)
    show_list(goals, fmt, views.goals, nouns="goals", closed_too=all_)


@app.command("status")
def status(
    ctx: typer.Context,
    goal_id: GoalIdArgument,
    new_status: Annotated[GoalStatus, typer.Argument(metavar="achieved|dropped|active")],
    note: NoteOption = None,
    when: ReviewDateOption = "today",
) -> None:
    """Review a goal: mark it achieved, dropped or active again."""
    from alliance_cli.services.care.goals import set_goal_status

    review_note = text_or_none(note, "note")
    on = day(when)
    with database(ctx) as db:
        goal = set_goal_status(db, goal_id, new_status, note=review_note, on=on, today=today())
    message(f"Goal {goal.id} of {goal.patient} is {goal.status}.")


@app.command("review")
def review(
    ctx: typer.Context,
    goal_id: GoalIdArgument,
    gas: Annotated[
        str,
        typer.Option(
            "--gas",
            metavar="-2..2",
            help="Goal Attainment Scaling level: -2 much less than expected, -1 less, "
            "0 the expected outcome, 1 more, 2 much more.",
        ),
    ],
    note: NoteOption = None,
    when: ReviewDateOption = "today",
) -> None:
    """Rate how far a goal was attained (GAS); earlier ratings are kept."""
    from alliance_cli.domain.gas import check_level, level_text
    from alliance_cli.services.care.goals import review_goal

    level = check_level(gas)
    review_note = text_or_none(note, "note")
    on = day(when)
    with database(ctx) as db:
        goal = review_goal(db, goal_id, level, note=review_note, on=on, today=today())
    message(f"Goal {goal.id} of {goal.patient}: GAS {level_text(level)} on {on.isoformat()}.")


@app.command("edit")
def edit(
    ctx: typer.Context,
    goal_id: GoalIdArgument,
    text: Annotated[str | None, typer.Option("--text", help="New wording.")] = None,
    target: TargetOption = None,
    by: Annotated[ProposedBy | None, typer.Option("--by", help="Who proposed it.")] = None,
    when: Annotated[
        str | None,
        typer.Option("--date", metavar="DATE", help="Correct when the goal was set."),
    ] = None,
    baseline: BaselineOption = None,
    weight: WeightOption = None,
) -> None:
    """Reword a goal, change its target date or GAS settings, or correct when it was set."""
    from alliance_cli.services.care.goals import edit_goal

    require_a_change(
        {
            "--text": text,
            "--target": target,
            "--by": by,
            "--date": when,
            "--baseline": baseline,
            "--weight": weight,
        }
    )
    new_text = None if text is None else required_text(text, "goal text")
    target_date = to_date(target, "--target")
    created = to_date(when, "--date")
    start, weighs = _gas_settings(baseline, weight)
    with database(ctx) as db:
        goal = edit_goal(
            db,
            goal_id,
            text=new_text,
            target=target_date,
            proposed_by=by,
            created=created,
            today=today(),
            baseline=start,
            weight=weighs,
        )
    message(f"Updated goal {goal.id} of {goal.patient}.")
