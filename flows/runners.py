"""Which Prefect task runner runs the heavy stages (page fetching, extraction, NLP).

Chosen from the environment when the flow module is imported, because a Prefect flow's task
runner is fixed at decoration time, and the environment is what a deployment's work pool (job
variables) and `newsmon run`/`serve` both control:

    NEWSMON_TASK_RUNNER   thread (default) | dask
    NEWSMON_DASK_ADDRESS  scheduler of an existing Dask cluster (tcp://host:8786); unset: a
                          temporary LocalCluster of NEWSMON_DASK_WORKERS worker processes
    NEWSMON_DASK_WORKERS  worker processes of that LocalCluster, and the fan-out width (2)

Whatever the runner, tasks that write DuckDB are called directly in the flow, never submitted:
the flow process stays the single writer (docs/scaling.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

TASK_RUNNER_ENV = "NEWSMON_TASK_RUNNER"
DASK_ADDRESS_ENV = "NEWSMON_DASK_ADDRESS"
DASK_WORKERS_ENV = "NEWSMON_DASK_WORKERS"
RUNNERS = ("thread", "dask")


def runner_name(env: Mapping[str, str] = os.environ) -> str:
    """Return the configured runner name (thread or dask), or raise ValueError naming the fix."""
    name = (env.get(TASK_RUNNER_ENV) or "thread").strip().lower()
    if name not in RUNNERS:
        raise ValueError(
            f"{TASK_RUNNER_ENV}={name!r} is not a task runner; use one of {', '.join(RUNNERS)}"
        )
    return name


def dask_workers(env: Mapping[str, str] = os.environ) -> int:
    """Return the number of Dask workers to plan for (NEWSMON_DASK_WORKERS, default 2)."""
    raw = env.get(DASK_WORKERS_ENV) or "2"
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{DASK_WORKERS_ENV}={raw!r} must be a whole number") from None
    if value < 1:
        raise ValueError(f"{DASK_WORKERS_ENV}={raw!r} must be at least 1")
    return value


def fanout_width(env: Mapping[str, str] = os.environ) -> int:
    """Return how many pieces a heavy stage is split into: 1 on threads, the workers on Dask.

    On threads a stage stays one task: fetching is already concurrent inside it, and spaCy
    pipelines are not shared across threads.
    """
    return dask_workers(env) if runner_name(env) == "dask" else 1


def task_runner_from_env(env: Mapping[str, str] = os.environ) -> Any:
    """Return the Prefect task runner the environment asks for (threads by default)."""
    from prefect.task_runners import ThreadPoolTaskRunner

    if runner_name(env) == "thread":
        return ThreadPoolTaskRunner()
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise ValueError(
            f"{TASK_RUNNER_ENV}=dask needs prefect-dask: pip install 'newsmon[dask]'"
        ) from exc
    address = env.get(DASK_ADDRESS_ENV)
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        # Processes, one thread each: extraction and spaCy are CPU-bound and hold the GIL.
        cluster_kwargs={"n_workers": dask_workers(env), "processes": True,
                        "threads_per_worker": 1, "dashboard_address": None},
    )
