"""The tamper-evident log's adapters outside the database: checkpoint files, the export
directory an auditor verifies offline, and the wiring of the sealer (docs/audit.md)."""
