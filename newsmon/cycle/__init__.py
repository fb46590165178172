"""The cycle's glue: per-page decisions, fan-out, run reports, the replay diff."""
