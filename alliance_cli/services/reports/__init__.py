"""Reports: what the records say (flags, trend, summary, prep, the glance, outcomes),
streamed over the caseload read-only."""
