"""What the ``budget-etl`` commands share: the data directory, the warehouse URL, the progress option."""

from __future__ import annotations

import os
from pathlib import Path

import click


def data_dir_of(value: str | None) -> str:
    return value or os.environ.get("BUDGET_DATA_DIR", "./data")


def warehouse_url_of(value: str | None, data_dir: str) -> str:
    return (
        value or os.environ.get("BUDGET_WAREHOUSE_URL") or f"duckdb:///{Path(data_dir).resolve() / 'warehouse.duckdb'}"
    )


PROGRESS_OPTION = click.option(
    "--progress",
    "progress_mode",
    type=click.Choice(["auto", "live", "plain", "off"]),
    default="auto",
    show_default=True,
    help="Progress on stderr: live display on a terminal, timestamped lines otherwise (auto).",
)
