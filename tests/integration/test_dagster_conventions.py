"""Dagster 1.13 conventions: `dg` works on the project, assets carry kinds, owners and code versions, and the
mart views are assets with the data dictionary's column schema."""

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
from pipelines import conventions
from pipelines.definitions import ALL_ASSETS, MART_VIEWS, defs
from warehouse_schema.dictionary import load

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_dg_cli_is_dagsters_release():
    assert version("dagster-dg-cli") == version("dagster") == "1.13.27"


def test_assets_carry_kinds_owners_and_code_versions():
    graph = defs.get_repository_def().asset_graph
    pipeline = {a.key.to_user_string() for a in ALL_ASSETS}
    assert pipeline == {"crawled_documents", "extracted_documents", "normalized_documents", "validated_documents",
                        "warehouse_tables"}
    for name in pipeline:
        node = graph.get(AssetKey(name))
        assert node.kinds and len(node.kinds) <= 3, name
        assert node.owners == ["team:budget-etl"], name
        assert node.code_version, name
    assert graph.get(AssetKey("extracted_documents")).code_version == str(EXTRACTOR_VERSION)
    assert graph.get(AssetKey("extracted_documents")).kinds == {"camelot", "pdf"}
    assert graph.get(AssetKey("warehouse_tables")).kinds == {"sql", "duckdb", "postgres"}


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
        assert node.group_name == "mart" and node.parent_keys == {AssetKey("warehouse_tables")}
        schema = node.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == [
            (c.name, c.type, c.description) for c in view.columns]
        assert node.metadata["dagster/table_name"] == name
        assert node.description.startswith(view.description)
    # the processing jobs leave the views out: there is nothing to run for a view
    job = defs.resolve_job_def("process_job")
    assert AssetKey(["mart", "three_public"]) not in job.asset_layer.executable_asset_keys


def test_dg_checks_and_lists_the_project(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME",)}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(BIN.parent), DAGSTER_HOME=str(tmp_path),
               DO_NOT_TRACK="1")
    check = subprocess.run([str(BIN / "dg"), "check", "defs"], cwd=REPO, env=env, capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All definitions loaded successfully" in check.stdout + check.stderr
    listed = subprocess.run([str(BIN / "dg"), "list", "defs", "--json"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=300)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assets = {a["asset_key"]: a for a in data["assets"]}
    assert set(assets["extracted_documents"]["kinds"]) == {"camelot", "pdf"}
    assert assets["mart/expenditure_by_function"]["dependency_keys"] == ["warehouse_tables"]
    assert {j["name"] for j in data["jobs"]} >= {"crawl_job", "process_job", "backfill_job"}
