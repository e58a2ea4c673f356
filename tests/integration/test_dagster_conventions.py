"""Dagster 1.13 conventions: `dg` works on the project, assets carry kinds, owners and code versions, the
warehouse's core tables are assets of the load, and the mart views are assets with the data dictionary's column
schema, downstream of the core tables their SQL reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from dagster import AssetKey

from assets.extract.document import EXTRACTOR_VERSION
from assets.load.assets import LOAD_NODE
from pipelines import conventions
from pipelines.definitions import ALL_ASSETS, MART_VIEWS, defs
from warehouse_schema import tables as t
from warehouse_schema.dictionary import load
from warehouse_schema.views import view_dependencies

#: the core tables the load writes, named from the schema's metadata
LOADED = {"core/document", *(f"core/{tb.name}" for tb in t.DOCUMENT_TABLES)}

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_dg_cli_is_dagsters_release():
    assert version("dagster-dg-cli") == version("dagster") == "1.13.27"


def test_assets_carry_kinds_owners_and_code_versions():
    graph = defs.get_repository_def().asset_graph
    pipeline = {k.to_user_string() for a in ALL_ASSETS for k in a.keys}
    assert pipeline == {
        "crawled_documents",
        "raw/manifest",
        "core/dim_region",
        "extracted_documents",
        "normalized_documents",
        "validated_documents",
        "previous_year_compared",
        *LOADED,
    }
    assert {
        "core/fact_function_expenditure",
        "core/fact_three_public",
        "core/quality_finding",
        "core/extracted_table",
    } <= LOADED
    for name in pipeline:
        node = graph.get(AssetKey.from_user_string(name))
        assert node.kinds and len(node.kinds) <= 3, name
        assert node.owners == ["team:budget-etl"], name
        assert node.code_version, name
    assert graph.get(AssetKey("extracted_documents")).code_version == str(EXTRACTOR_VERSION)
    assert graph.get(AssetKey("extracted_documents")).kinds == {"camelot", "pdf"}
    for name in LOADED:
        node = graph.get(AssetKey.from_user_string(name))
        assert node.kinds == {"sql", "duckdb", "postgres"} and node.group_name == "warehouse", name
        assert node.metadata["dagster/table_name"] == name.replace("/", "."), name
        assert [c.name for c in node.metadata["dagster/column_schema"].columns] == [
            c.name for c in t.metadata.tables[name.replace("/", ".")].columns
        ]
    load_node = next(a for a in ALL_ASSETS if a.node_def.name == LOAD_NODE)
    assert {k.to_user_string() for k in load_node.keys} == LOADED
    # each core table the load writes has its partitioned row check
    assert {(c.asset_key.to_user_string(), c.name) for c in load_node.check_specs} == {
        (name, "rows_as_planned") for name in LOADED
    }


def test_last_years_document_is_a_declared_dependency():
    """previous_year_compared reads the core tables of its year and of the year before (same region)."""
    graph = defs.get_repository_def().asset_graph
    key = AssetKey("previous_year_compared")
    assert {AssetKey(["core", "document"]), AssetKey(["core", "fact_function_expenditure"])} <= graph.get(
        key
    ).parent_keys
    (dep,) = [
        d for d in defs.get_assets_def(key).specs_by_key[key].deps if d.asset_key == AssetKey(["core", "document"])
    ]
    parts = defs.get_assets_def(key).partitions_def
    upstream = dep.partition_mapping.get_upstream_mapped_partitions_result_for_partitions(
        parts.subset_with_partition_keys(["410329|2024"]), parts, parts
    ).partitions_subset.get_partition_keys()
    assert sorted(upstream) == ["410329|2023", "410329|2024"]


def test_the_crawl_declares_what_it_writes():
    graph = defs.get_repository_def().asset_graph
    crawl = next(a for a in ALL_ASSETS if a.node_def.name == "crawled_documents")
    assert {k.to_user_string() for k in crawl.keys} == {"crawled_documents", "raw/manifest", "core/dim_region"}
    assert graph.get(AssetKey(["raw", "manifest"])).metadata["dagster/table_name"] == "raw.manifest"


def test_code_version_follows_the_stage_sources(tmp_path, monkeypatch):
    (tmp_path / "stage").mkdir()
    (tmp_path / "stage" / "a.py").write_text("x = 1\n")
    (tmp_path / "stage" / "notes.txt").write_text("not code")
    monkeypatch.setattr(conventions, "REPO", tmp_path)
    before = conventions.source_digest(["stage"])
    (tmp_path / "stage" / "notes.txt").write_text("changed, but not a source file")
    assert conventions.source_digest(["stage"]) == before
    (tmp_path / "stage" / "a.py").write_text("x = 2\n")
    assert conventions.source_digest(["stage"]) != before
    with pytest.raises(FileNotFoundError, match="no source files under nowhere"):
        conventions.source_digest(["nowhere"])


def test_mart_views_are_assets_with_the_dictionarys_column_schema():
    d = load()
    graph = defs.get_repository_def().asset_graph
    assert {s.key for s in MART_VIEWS} == {AssetKey(v.split(".")) for v in d.views}
    for name, view in d.views.items():
        node = graph.get(AssetKey(name.split(".")))
        assert node.group_name == "mart" and node.parent_keys == {
            AssetKey(d.split(".")) for d in view_dependencies()[name]
        }
        assert node.parent_keys <= set(graph.get_all_asset_keys()), name  # every table it reads is an asset
        schema = node.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == [
            (c.name, c.type, c.description) for c in view.columns
        ]
        assert node.metadata["dagster/table_name"] == name
        assert node.description.startswith(view.description)
    # the processing jobs leave the views out: there is nothing to run for a view
    job = defs.resolve_job_def("process_job")
    assert AssetKey(["mart", "three_public"]) not in job.asset_layer.executable_asset_keys


def test_view_dependencies_are_read_from_the_sql():
    deps = view_dependencies()
    assert deps["mart.three_public"] == [
        "core.dim_region",
        "core.document",
        "core.extracted_table",
        "core.fact_three_public",
    ]
    assert deps["mart.quality_findings"] == ["core.quality_finding"]
    assert deps["mart.function_codes"] == ["core.dim_function_code"]


def test_dg_checks_and_lists_the_project(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME",)}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(BIN.parent),
        DAGSTER_HOME=str(tmp_path),
        DO_NOT_TRACK="1",
    )
    check = subprocess.run(
        [str(BIN / "dg"), "check", "defs"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All definitions loaded successfully" in check.stdout + check.stderr
    listed = subprocess.run(
        [str(BIN / "dg"), "list", "defs", "--json"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assets = {a["asset_key"]: a for a in data["assets"]}
    assert set(assets["extracted_documents"]["kinds"]) == {"camelot", "pdf"}
    assert set(assets["mart/expenditure_by_function"]["dependency_keys"]) == {
        "core/dim_function_code",
        "core/dim_region",
        "core/document",
        "core/extracted_table",
        "core/fact_function_expenditure",
    }
    assert {j["name"] for j in data["jobs"]} >= {"crawl_job", "process_job", "backfill_job"}
