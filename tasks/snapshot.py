"""The Parquet snapshot of the analyst views, written after each cycle beside the database.

Analysts read it while the next cycle writes the database, which DuckDB would not let them open
(see docs/schema.md). A failed snapshot is logged and reported in the run summary; it never fails
the cycle, whose work is already committed.
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from newsmon.analyst.views import export_views, snapshot_dir
from newsmon.store import connect
from tasks.runlog import run_logger


@task(name="snapshot-views", cache_policy=NO_CACHE)
def snapshot_views(db_path: Path) -> str:
    """Write `<db stem>-snapshot/<view>.parquet`; return the folder, or 'failed: <reason>'."""
    folder = snapshot_dir(db_path)
    logger = run_logger("newsmon.snapshot")
    try:
        # Read-only: other readers may share the file; only a writer would make us wait.
        con = connect(db_path, read_only=True, wait_s=30)
        try:
            written = export_views(con, folder)
        finally:
            con.close()
    except Exception as exc:  # noqa: BLE001 - any failure is reported, the cycle stands
        logger.warning("snapshot of the analyst views failed: %s", exc)
        return f"failed: {type(exc).__name__}: {exc}"
    logger.info("snapshot in %s: %s", folder, ", ".join(f"{w.view} {w.rows}" for w in written))
    return str(folder)
