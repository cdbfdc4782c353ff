"""Exchange: exports (Markdown, JSON, CSV, FHIR) and imports (CSV rows, JSON exports)."""
