"""Crawl stage: county portals (or a local mirror / folder) → raw store + manifest entries.

Public API::

    from assets.crawl import (
        SourceConfig, SourcesError, load_sources,          # sources.py
        RawStore,                                          # raw_store.py
        Fetcher, FetchPolicy, FetchResult,                 # fetcher.py
        PreviousFetch, CrawlStats, crawl_source, previous_from_entries,  # crawler.py
    )

``assets/crawl/assets.py`` (the Dagster asset) is the integrator's and is not
imported here.
"""

from assets.crawl.crawler import CrawlStats, PreviousFetch, crawl_source, previous_from_entries
from assets.crawl.fetcher import DEFAULT_USER_AGENT, Fetcher, FetchPolicy, FetchResult
from assets.crawl.raw_store import RawStore
from assets.crawl.sources import SourceConfig, SourcesError, load_sources

__all__ = [
    "DEFAULT_USER_AGENT",
    "CrawlStats",
    "Fetcher",
    "FetchPolicy",
    "FetchResult",
    "PreviousFetch",
    "RawStore",
    "SourceConfig",
    "SourcesError",
    "crawl_source",
    "load_sources",
    "previous_from_entries",
]
