"""`alliance task ...`: tasks agreed with the patient and their review."""

from __future__ import annotations

from typing import Annotated

import typer

from alliance_cli.cli.agreements import ReviewDateOption, day, require_a_change, show_list
from alliance_cli.cli.common import (
    CodeArgument,
    FormatOption,
    OutputFormat,
    database,
    to_date,
    today,
)
from alliance_cli.domain.dates import check_not_future
from alliance_cli.domain.text import required_text
from alliance_cli.domain.vocabulary import Adherence, TaskStatus
from alliance_cli.render.console import message, out

app = typer.Typer(
    help="Tasks agreed with the patient (homework, exercises).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


TaskIdArgument = Annotated[int, typer.Argument(help="Task id (see `alliance task list`).")]
GoalOption = Annotated[
    int | None, typer.Option("--goal", metavar="GOAL_ID", help="The goal this task serves.")
]
DueOption = Annotated[
    str | None, typer.Option("--due", metavar="DATE", help="When it is due (YYYY-MM-DD).")
]


@app.command("add")
def add(
    ctx: typer.Context,
    code: CodeArgument,
    text: Annotated[str, typer.Argument(help="The task as agreed.")],
    goal: GoalOption = None,
    due: DueOption = None,
    when: Annotated[
        str,
        typer.Option("--date", metavar="DATE", help="When the task was agreed (default today)."),
    ] = "today",
) -> None:
    """Add an agreed task; prints the new task's id."""
    from alliance_cli.services.care.tasks import add_task

    task_text = required_text(text, "task text")
    due_date = to_date(due, "--due")
    on = day(when)
    with database(ctx) as db:
        task = add_task(db, code, task_text, goal_id=goal, due=due_date, on=on, today=today())
    out(str(task.id))
    message(f"Added task {task.id} for {task.patient}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    code: CodeArgument,
    all_: Annotated[
        bool, typer.Option("--all", "-a", help="Include completed and dropped tasks.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List a patient's active tasks with their reviews."""
    from alliance_cli.render import views
    from alliance_cli.services.care.tasks import list_tasks

    with database(ctx) as db:
        tasks = list_tasks(db, code, include_closed=all_)
    show_list(tasks, fmt, views.tasks, nouns="tasks", closed_too=all_)


@app.command("review")
def review(
    ctx: typer.Context,
    task_id: TaskIdArgument,
    adherence: Annotated[Adherence, typer.Option("--adherence", help="done, partly or not-done.")],
    when: ReviewDateOption = "today",
) -> None:
    """Record how far the patient carried out a task."""
    from alliance_cli.services.care.tasks import review_task

    on = day(when)
    check_not_future(on, today(), what="review date")
    with database(ctx) as db:
        task = review_task(db, task_id, adherence, on)
    message(f"Task {task.id} of {task.patient}: {adherence} on {on.isoformat()}.")


@app.command("status")
def status(
    ctx: typer.Context,
    task_id: TaskIdArgument,
    new_status: Annotated[TaskStatus, typer.Argument(metavar="active|completed|dropped")],
    when: Annotated[
        str,
        typer.Option("--date", metavar="DATE", help="When its status changed (default today)."),
    ] = "today",
) -> None:
    """Close a task as completed or dropped, or reopen it."""
    from alliance_cli.services.care.tasks import set_task_status

    on = day(when)
    with database(ctx) as db:
        task = set_task_status(db, task_id, new_status, on=on, today=today())
    message(f"Task {task.id} of {task.patient} is {task.status}.")


@app.command("edit")
def edit(
    ctx: typer.Context,
    task_id: TaskIdArgument,
    text: Annotated[str | None, typer.Option("--text", help="New wording.")] = None,
    goal: GoalOption = None,
    due: DueOption = None,
    when: Annotated[
        str | None,
        typer.Option("--date", metavar="DATE", help="Correct when the task was agreed."),
    ] = None,
) -> None:
    """Reword a task, link it to a goal, change its due date or correct when it was agreed."""
    from alliance_cli.services.care.tasks import edit_task

    require_a_change({"--text": text, "--goal": goal, "--due": due, "--date": when})
    new_text = None if text is None else required_text(text, "task text")
    due_date = to_date(due, "--due")
    created = to_date(when, "--date")
    with database(ctx) as db:
        task = edit_task(
            db,
            task_id,
            text=new_text,
            due=due_date,
            goal_id=goal,
            created=created,
            today=today(),
        )
    message(f"Updated task {task.id} of {task.patient}.")
