"""``budget-etl``: the command line.

Each command lives in the module that needs it and is imported only when it runs (:class:`LazyCommands`): the
run commands (``ingest``, ``backfill``: :mod:`pipelines.cli_runs`) load the Dagster definitions and the
extraction stack, the read commands (``query``, ``export``, ``report``: :mod:`pipelines.cli_read`) only the
warehouse, so ``budget-etl query`` and ``--help`` start without them."""

from __future__ import annotations

import importlib
import sys

import click

from pipelines.interrupts import EXIT_INTERRUPTED

#: command → ("module:attribute" of its click command, its line in `budget-etl --help`)
COMMANDS = {
    "ingest": ("pipelines.cli_runs:ingest", "Crawl every source, then extract, normalize, validate and load..."),
    "backfill": ("pipelines.cli_runs:backfill", "Crawl the regions, then run backfill_job for every year × region..."),
    "query": ("pipelines.cli_read:query", "Print the result of a SQL query (read-only)."),
    "export": ("pipelines.cli_read:export", "Write mart views to files (Parquet or CSV) for notebooks and..."),
    "report": ("pipelines.cli_read:report", "Per document: status, document set, tables found, rows loaded..."),
}


class LazyCommands(click.Group):
    """A click group whose commands are imported when used (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name][0].split(":")
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help`` without importing the commands."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # Ctrl-C outside a run (e.g. while migrating): 130, no traceback
            click.echo("\ninterrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


@click.group(cls=LazyCommands)
@click.version_option(package_name="budget-etl", prog_name="budget-etl")
def main() -> None:
    """ETL of Chinese department budget (部门预算) PDFs into a SQL warehouse.

    Exit codes: 0 everything ran; 1 nothing ran (invalid input, unreachable warehouse, refused query);
    3 a source failed (unreachable, blocked, missing, truncated at a cap); 4 a partition run failed;
    130 stopped by Ctrl-C."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
