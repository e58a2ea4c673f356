"""Partitions: fiscal year × region.

Regions are dynamic: the discovery sensor (and ``budget-etl ingest``) adds a
partition for every region of the sources file.  Documents are rows of the
manifest, never partitions.
"""

from __future__ import annotations

from dagster import DynamicPartitionsDefinition, MultiPartitionKey, MultiPartitionsDefinition, StaticPartitionsDefinition

FIRST_YEAR, LAST_YEAR = 2015, 2030

region_partitions = DynamicPartitionsDefinition(name="region")
year_partitions = StaticPartitionsDefinition([str(y) for y in range(FIRST_YEAR, LAST_YEAR + 1)])
year_region_partitions = MultiPartitionsDefinition({"year": year_partitions, "region": region_partitions})


def year_region_key(year: int | str, region_code: str) -> MultiPartitionKey:
    return MultiPartitionKey({"year": str(year), "region": region_code})


def parse_years(spec: str) -> list[int]:
    """"2023-2025" → [2023, 2024, 2025]; "2019,2021" → [2019, 2021]."""
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
