"""The export files' contracts: the JSON export's format name, schema versions and
keys; the CSV export's columns.

The writers (render/json_export.py, cli/transfer.py) and the readers
(services/exchange/import_json.py, importer.py) take them from here, so each file format
is defined once (README, "Export formats").
"""

from __future__ import annotations

EXPORT_FORMAT = "alliance-export"
# 2: goals' GAS `baseline` and `weight`, each review's `gas`, the patient's `ending`.
# Version 1 files (without them) still import: their goals get the defaults, their
# discharges read `unknown`.
EXPORT_SCHEMA_VERSION = 2
READABLE_SCHEMA_VERSIONS = (1, 2)

# The keys of each object, in the order the export writes them.
DOCUMENT_KEYS = ("format", "schema_version", "alliance_version", "generated", "patients")
PROFILE_TEXT_KEYS = (
    "name",
    "expectations",
    "beliefs",
    "emotional_state",
    "social_context",
    "note",
    "discharge_reason",
)
PATIENT_KEYS = (
    "code",
    "name",
    "status",
    "since",
    "instrument",
    "expectations",
    "beliefs",
    "emotional_state",
    "social_context",
    "note",
    "discharged_on",
    "discharge_reason",
    "ending",
    "goals",
    "tasks",
    "sessions",
    "repairs",
)
GOAL_KEYS = (
    "id",
    "text",
    "proposed_by",
    "status",
    "target",
    "created",
    "baseline",
    "weight",
    "reviews",
)
GOAL_REVIEW_KEYS = ("date", "status", "note", "gas")
TASK_KEYS = ("goal", "text", "status", "due", "created", "status_changed", "reviews")
TASK_REVIEW_KEYS = ("date", "adherence")
SESSION_KEYS = (
    "date",
    "rater",
    "instrument",
    "bond",
    "goal",
    "task",
    "total",
    "items",
    "extra",
    "note",
    "rupture",
)
REPAIR_KEYS = ("date", "strategy", "note", "flag", "outcome")
REPAIR_FLAG_KEYS = ("kind", "dimension", "date", "rater", "instrument")
# Written for the reader of the file; an import computes it again.
COMPUTED_KEYS = frozenset({"outcome"})

# The CSV of rating sets (`export --format csv`), one row a set, free text last.
CSV_EXPORT_COLUMNS = (
    "patient",
    "date",
    "rater",
    "instrument",
    "bond",
    "goal",
    "task",
    "total",
    "items",
    "rupture",
    "note",
)
# Columns `import` reads past: computed again from the scores, or the database's own.
CSV_IGNORED = ("total", "extra", "id")
# The columns `import` reads.
CSV_COLUMNS = tuple(c for c in CSV_EXPORT_COLUMNS if c not in CSV_IGNORED)
