"""Crawl stage: county portals (or a local mirror / folder) → raw store + manifest entries.

Modules (imported by name, like every stage's: a package that imported its modules here would import the
worker, hence the extraction, whenever ``assets.crawl.detect`` is imported, a cycle)::

    sources.py    SourceConfig, SourcesError, load_sources
    raw_store.py  RawStore
    fetcher.py    Fetcher, FetchPolicy, FetchResult, DEFAULT_USER_AGENT
    crawler.py    PreviousFetch, CrawlStats, crawl_source, previous_from_entries

``assets/crawl/assets.py`` is the Dagster definition of the stage.
"""
