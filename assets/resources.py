"""Dagster resources: the HTTP fetcher, the raw store, the warehouse, the sources file.

Each is a ``ConfigurableResource`` whose fields default from the environment
(``BUDGET_DATA_DIR``, ``BUDGET_WAREHOUSE_URL``, ``BUDGET_SOURCES``), so the
same definitions serve ``dagster dev``, the CLI and the tests.

**Secrets.** The warehouse URL may carry a password.  Resource config is stored in
Dagster's run storage (run and repository snapshots) and shown on the UI's resource
page, so the URL is never a config value: :func:`warehouse_resource` puts it in the
process environment and configures ``WarehouseResource(url=EnvVar(...))``: storage,
snapshots, logs and the UI show the variable's name only.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from dagster import ConfigurableResource, EnvVar

from assets.crawl.fetcher import DEFAULT_USER_AGENT, Fetcher, FetchPolicy
from assets.crawl.raw_store import RawStore
from assets.crawl.sources import SourceConfig, load_sources
from assets.extract.worker import Limits, WorkerPool
from assets.load.warehouse import Warehouse

WAREHOUSE_URL_ENV = "BUDGET_WAREHOUSE_URL"
_URL_VARS: dict[str, str] = {}
_URL_VARS_LOCK = threading.Lock()


def warehouse_url_var(url: str) -> str:
    """The environment variable holding ``url`` in this process (set here): ``BUDGET_WAREHOUSE_URL`` when it
    already holds it, else ``BUDGET_WAREHOUSE_URL_<n>`` (one per URL, so several warehouses' definitions can
    live in one process).  Child processes (spawned backfill workers) inherit it."""
    with _URL_VARS_LOCK:
        if os.environ.get(WAREHOUSE_URL_ENV) == url:
            return WAREHOUSE_URL_ENV
        name = _URL_VARS.get(url)
        if name is None:
            name = _URL_VARS[url] = f"{WAREHOUSE_URL_ENV}_{len(_URL_VARS) + 1}"
        os.environ[name] = url
        return name


def warehouse_resource(url: str | None = None, data_dir: str | None = None) -> WarehouseResource:
    """A WarehouseResource whose URL (and any password in it) never enters Dagster config: it is read from
    the environment when the resource is initialised (``dagster.EnvVar``).  Without ``url``:
    ``$BUDGET_WAREHOUSE_URL`` (by name), else the DuckDB file of the data dir (a path, no secret)."""
    if url:
        return WarehouseResource(url=EnvVar(warehouse_url_var(url)))
    if os.environ.get(WAREHOUSE_URL_ENV):
        return WarehouseResource(url=EnvVar(WAREHOUSE_URL_ENV))
    return WarehouseResource(url=default_warehouse_url(data_dir))


def default_data_dir() -> str:
    return os.environ.get("BUDGET_DATA_DIR", "./data")


def default_warehouse_url(data_dir: str | None = None) -> str:
    url = os.environ.get("BUDGET_WAREHOUSE_URL")
    if url:
        return url
    path = Path(data_dir or default_data_dir()).resolve() / "warehouse.duckdb"
    return f"duckdb:///{path}"


class SourcesResource(ConfigurableResource):
    """The YAML sources file: one entry per region (see README)."""

    path: str = os.environ.get("BUDGET_SOURCES", "examples/sources.yaml")

    def sources(self) -> list[SourceConfig]:
        return load_sources(self.path)

    def by_region(self, region_code: str) -> list[SourceConfig]:
        return [s for s in self.sources() if s.region_code == region_code]


class HttpFetcherResource(ConfigurableResource):
    """Polite HTTP client settings (per-host rate limit, retries, size cap)."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout_s: float = 30.0
    #: deadline of one request: connect, headers and body
    max_duration_s: float = 300.0
    retries: int = 3
    backoff_base_s: float = 1.0
    min_interval_s: float = 0.5
    max_per_host: int = 2
    max_bytes: int = 100 * 1024 * 1024
    respect_robots: bool = True

    def policy(self) -> FetchPolicy:
        return FetchPolicy(
            user_agent=self.user_agent,
            timeout=self.timeout_s,
            max_duration=self.max_duration_s,
            retries=self.retries,
            backoff_base=self.backoff_base_s,
            min_interval=self.min_interval_s,
            max_per_host=self.max_per_host,
            max_bytes=self.max_bytes,
            respect_robots=self.respect_robots,
        )

    def fetcher(self) -> Fetcher:
        return Fetcher(self.policy())


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def machine_cores() -> int:
    """The cores this process may run on (its CPU affinity: a container's or taskset's share), else the
    machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_extract_workers() -> int:
    """``BUDGET_EXTRACT_WORKERS`` when set (0: the cores), else the cores this process may use."""
    n = int(_env_number("BUDGET_EXTRACT_WORKERS", 0))
    return n if n > 0 else machine_cores()


class ExtractionResource(ConfigurableResource):
    """Limits of every step that parses a PDF (the crawl's look at the first pages, extraction, the 说明's
    text) and the worker processes that enforce them (assets/extract/worker.py).  Defaults from the
    environment: ``BUDGET_PDF_MEMORY_MB``, ``BUDGET_PDF_SECONDS``, ``BUDGET_PDF_MAX_PAGES``,
    ``BUDGET_EXTRACT_WORKERS`` (documents of one partition extracted at the same time, each in its own worker
    process under the limits; default: the cores, :func:`machine_cores`; 0 also means the cores)."""

    memory_mb: int = int(_env_number("BUDGET_PDF_MEMORY_MB", 1024))
    seconds: float = _env_number("BUDGET_PDF_SECONDS", 300.0)
    max_pages: int = int(_env_number("BUDGET_PDF_MAX_PAGES", 1000))
    workers: int = default_extract_workers()

    def limits(self) -> Limits:
        return Limits(memory_bytes=self.memory_mb * 1024 * 1024, seconds=self.seconds, max_pages=self.max_pages)

    def pool(self) -> WorkerPool:
        return WorkerPool(self.workers if self.workers > 0 else machine_cores(), self.limits())


class RawStoreResource(ConfigurableResource):
    """Content-addressed store of every fetched byte, under the data dir."""

    data_dir: str = default_data_dir()

    def store(self) -> RawStore:
        return RawStore(Path(self.data_dir) / "raw")

    def cache_dir(self, name: str) -> Path:
        path = Path(self.data_dir) / name
        path.mkdir(parents=True, exist_ok=True)
        return path


class WarehouseResource(ConfigurableResource):
    """The SQL warehouse: DuckDB file by default, PostgreSQL in production."""

    url: str = ""

    def resolved_url(self) -> str:
        return self.url or default_warehouse_url()

    def open(self) -> Warehouse:
        wh = Warehouse(self.resolved_url())
        wh.ensure_schema()
        return wh
