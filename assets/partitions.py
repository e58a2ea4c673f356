"""Partitions: fiscal year × region.

Regions are dynamic: the discovery sensor (and ``budget-etl ingest``) adds a
partition for every region of the sources file.  Documents are rows of the
manifest, never partitions.
"""

from __future__ import annotations

import datetime as dt

from dagster import (
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
)

FIRST_YEAR, LAST_YEAR = 2015, 2030

region_partitions = DynamicPartitionsDefinition(name="region")
year_partitions = StaticPartitionsDefinition([str(y) for y in range(FIRST_YEAR, LAST_YEAR + 1)])
year_region_partitions = MultiPartitionsDefinition({"year": year_partitions, "region": region_partitions})


def year_region_key(year: int | str, region_code: str) -> MultiPartitionKey:
    return MultiPartitionKey({"year": str(year), "region": region_code})


def parse_years(spec: str) -> list[int]:
    """ "2023-2025" → [2023, 2024, 2025]; "2019,2021" → [2019, 2021]."""
    years: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            if lo > hi:
                raise ValueError(f"year range {part!r} runs backwards")
            years.update(range(lo, hi + 1))
        else:
            years.add(int(part))
    bad = [y for y in years if not FIRST_YEAR <= y <= LAST_YEAR]
    if bad:
        raise ValueError(f"years {sorted(bad)} outside the supported range {FIRST_YEAR}-{LAST_YEAR}")
    return sorted(years)


def nightly_years(today: dt.date | None = None) -> list[int]:
    """The fiscal years a nightly run refreshes: the previous and the current one (budgets of year N are
    published from February of N; late publications and corrections of N-1 still appear)."""
    today = today or dt.date.today()
    return [y for y in (today.year - 1, today.year) if FIRST_YEAR <= y <= LAST_YEAR]


def year_region_keys(years: list[int], regions: list[str]) -> list[MultiPartitionKey]:
    """Every year × region partition key, region by region (the order a backfill runs them)."""
    return [year_region_key(y, r) for r in regions for y in years]


def split_key(key: str | MultiPartitionKey) -> tuple[int, str]:
    """ "410329|2024" (Dagster's string form, dimensions by name) or a MultiPartitionKey → (2024, "410329")."""
    if isinstance(key, MultiPartitionKey):
        dims = key.keys_by_dimension
    else:
        region, year = str(key).split("|", 1)
        dims = {"region": region, "year": year}
    return int(dims["year"]), dims["region"]
