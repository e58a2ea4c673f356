"""The command line's runs are the code location's jobs.

``budget-etl ingest`` and ``backfill`` execute ``crawl_job``, ``process_job`` and ``backfill_job`` in process
(``JobDefinition.execute_in_process``: no daemon, no code server). Dagster records such runs without a code
location, so the UI's Runs page lists them but its Overview timeline, which groups runs by code location and
job, leaves them out. :func:`execute` records them as runs of the job of the code location that
``workspace.yaml`` defines (``budget_etl``), exactly as if the UI had launched them there.

Dagster's in-process execution takes no origin argument: the origin is added to the run Dagster creates, by
wrapping the instance's ``create_run_for_job`` for the time of the call (nothing else of the run changes).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import yaml
from dagster import DagsterInstance, JobDefinition

REPO = Path(__file__).resolve().parents[1]
WORKSPACE = REPO / "workspace.yaml"
#: Definitions() without a name: Dagster's single repository
REPOSITORY_NAME = "__repository__"


@lru_cache(maxsize=1)
def code_location() -> dict[str, str]:
    """``location_name``, ``module_name`` and ``attribute`` of the code location in workspace.yaml."""
    data = yaml.safe_load(WORKSPACE.read_text(encoding="utf-8"))
    entry = data["load_from"][0]["python_module"]
    return {
        "location_name": entry["location_name"],
        "module_name": entry["module_name"],
        "attribute": entry.get("attribute", "defs"),
    }


def job_origin(job_name: str):
    """Where the UI finds ``job_name``: the workspace's code location, its repository, the job."""
    from dagster._core.remote_origin import (
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    loc = code_location()
    target = LoadableTargetOrigin(
        executable_path=sys.executable,
        module_name=loc["module_name"],
        attribute=loc["attribute"],
        working_directory=str(REPO),
    )
    location = ManagedGrpcPythonEnvCodeLocationOrigin(target, location_name=loc["location_name"])
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY_NAME), job_name)


@contextmanager
def runs_of_the_code_location(instance: DagsterInstance, job_names: set[str]):
    """Runs of ``job_names`` created on ``instance`` inside the block carry the code location's origin."""
    original = instance.create_run_for_job

    def create_run_for_job(*args, **kwargs):
        job_def = kwargs.get("job_def", args[0] if args else None)
        if job_def is not None and job_def.name in job_names and kwargs.get("remote_job_origin") is None:
            kwargs["remote_job_origin"] = job_origin(job_def.name)
        return original(*args, **kwargs)

    instance.create_run_for_job = create_run_for_job  # type: ignore[method-assign]
    try:
        yield
    finally:
        del instance.create_run_for_job


def execute(job: JobDefinition, *, instance: DagsterInstance, **kwargs):
    """``job.execute_in_process(instance=instance, **kwargs)``, recorded as a run of the code location's job."""
    with runs_of_the_code_location(instance, {job.name}):
        return job.execute_in_process(instance=instance, **kwargs)
