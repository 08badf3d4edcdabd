"""Queue workers: API, Slack and daily jobs on a real task queue (PostgreSQL)."""
