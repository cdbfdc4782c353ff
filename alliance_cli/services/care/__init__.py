"""Care records: patients, sessions, goals, tasks, repairs, and the audit trail of
their changes (log, undo). One transaction per use case."""
