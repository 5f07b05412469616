"""The batch queue: SQLite job store, scheduler with per-device slots, job log, process lock."""
