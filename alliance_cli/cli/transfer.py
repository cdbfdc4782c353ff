"""`alliance export` and `alliance import`: a patient's history or the whole database,
in and out in standard forms."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from alliance_cli.cli.common import database, settings, today
from alliance_cli.cli.completion import complete_code
from alliance_cli.errors import InvalidInput
from alliance_cli.render.console import message

if TYPE_CHECKING:
    from alliance_cli.domain.export import PatientExport
    from alliance_cli.services.database import Database


class ExportFormat(StrEnum):
    markdown = "markdown"
    json = "json"
    csv = "csv"
    fhir = "fhir"


class ImportFormat(StrEnum):
    csv = "csv"
    json = "json"


OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file (0600) instead of stdout."),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace an existing --output file.")]


def export(
    ctx: typer.Context,
    code: Annotated[
        str | None, typer.Argument(help="The patient to export.", autocompletion=complete_code)
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every patient (json or csv): the whole database.")
    ] = False,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="markdown, json, csv or fhir.")
    ] = ExportFormat.markdown,
    output: OutputOption = None,
    force: ForceOption = False,
    for_patient: Annotated[
        bool,
        typer.Option(
            "--for-patient",
            help="Markdown to share with the patient: plain language, no therapist notes.",
        ),
    ] = False,
) -> None:
    """Export one patient's history (Markdown, JSON, CSV, FHIR R4) or, with --all, everyone."""
    from alliance_cli.cli.output import deliver
    from alliance_cli.render.progress import progress
    from alliance_cli.services.exchange.export import all_exports, patient_export

    if (code is None) == (not all_):
        raise InvalidInput("give a patient code, or --all", "e.g. alliance export P014")
    if all_ and fmt not in (ExportFormat.json, ExportFormat.csv):
        raise InvalidInput("--all exports json or csv", "add --format json")
    if for_patient and fmt != ExportFormat.markdown:
        raise InvalidInput("--for-patient is a Markdown document", "drop --format")
    config = settings(ctx)
    with database(ctx) as db:
        if all_:
            with progress("Exporting") as tracker:
                exports = all_exports(
                    db, config, today(), started=tracker.started, advance=tracker.advance
                )
        else:
            assert code is not None
            exports = [patient_export(db, code, config, today())]
        chart = None
        if fmt == ExportFormat.markdown and code:
            chart = _chart(db, code, ctx, for_patient=for_patient)
    deliver(_render(exports, fmt, for_patient=for_patient, chart=chart), output, force=force)


def _chart(db: Database, code: str, ctx: typer.Context, *, for_patient: bool) -> str | None:
    from alliance_cli.render.trend_chart import trend_chart
    from alliance_cli.services.reports.trend import trend_data

    data = trend_data(db, code, settings(ctx))
    if len(data.ratings) < 2:
        return None
    return trend_chart(data, "all", width=72, height=16, color=False, for_patient=for_patient)


def _render(
    exports: list[PatientExport], fmt: ExportFormat, *, for_patient: bool, chart: str | None
) -> str:
    if fmt == ExportFormat.markdown:
        from alliance_cli.render.markdown import patient_markdown

        return patient_markdown(exports[0], for_patient=for_patient, chart=chart)
    if fmt == ExportFormat.json:
        from alliance_cli.render.formats import to_json
        from alliance_cli.render.json_export import export_document

        return to_json(export_document(exports, today().isoformat()))
    if fmt == ExportFormat.fhir:
        from alliance_cli.render.fhir import fhir_bundle
        from alliance_cli.render.formats import to_json

        return to_json(fhir_bundle(exports[0]))
    from alliance_cli.domain.exchange_format import CSV_EXPORT_COLUMNS
    from alliance_cli.render.formats import csv_text, session_dict

    return csv_text(CSV_EXPORT_COLUMNS, [session_dict(s) for e in exports for s in e.sessions])


def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A CSV of session rows, or a JSON export.")],
    fmt: Annotated[
        ImportFormat | None,
        typer.Option("--format", "-f", help="csv or json (default: from the file name)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report, write nothing.")
    ] = False,
) -> None:
    """Import session rows (CSV) or a JSON export; all or nothing, and safe to repeat."""
    from alliance_cli.render.progress import progress
    from alliance_cli.services.exchange.import_json import import_json
    from alliance_cli.services.exchange.importer import import_csv

    kind = fmt or (ImportFormat.json if file.suffix.lower() == ".json" else ImportFormat.csv)
    config = settings(ctx)
    # A dry run writes nothing, so it never creates a database either.
    with database(ctx, create=not dry_run) as db, progress(f"Importing {file.name}") as tracker:
        run = import_json if kind == ImportFormat.json else import_csv
        report = run(
            db,
            file,
            config,
            today(),
            dry_run=dry_run,
            started=tracker.started,
            advance=tracker.advance,
        )
    verb = "Would add" if report.dry_run else "Added"
    from alliance_cli.domain.words import plural

    skipped = report.sessions_skipped
    repairs = f", {plural(report.repairs_added, 'repair')}" if report.repairs_added else ""
    message(
        f"{verb} {plural(report.patients_added, 'patient')}, "
        f"{plural(report.sessions_added, 'rating set')}, {plural(report.goals_added, 'goal')}, "
        f"{plural(report.tasks_added, 'task')}, {plural(report.reviews_added, 'review')}"
        f"{repairs}; "
        f"{plural(skipped, 'rating set')} {'was' if skipped == 1 else 'were'} already there."
    )
