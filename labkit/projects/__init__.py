"""The lab framework: runner, event log, checks, discovery (docs/architecture.md)."""
