"""Dagster attributes of the assets (pipelines/assets.yaml) and the mart views as assets.

* every pipeline asset gets the ``kinds``, ``owners`` and ``code_version`` of assets.yaml, applied here so the
  asset modules stay free of presentation (``AssetsDefinition.map_asset_specs``);
* every ``mart`` view is an asset of group ``mart`` downstream of ``warehouse_tables`` (the views are rebuilt with
  it: nothing to materialize), with its description and column schema (name, type, description) from the data
  dictionary (warehouse_schema/dictionary.yaml), shown in the UI's asset page.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import yaml
from dagster import AssetKey, AssetsDefinition, AssetSpec, TableColumn, TableSchema

from assets.extract.document import EXTRACTOR_VERSION
from warehouse_schema.dictionary import load
from warehouse_schema.views import views_fingerprint

REPO = Path(__file__).resolve().parents[1]
ATTRIBUTES = Path(__file__).resolve().parent / "assets.yaml"
SOURCE_SUFFIXES = (".py", ".yaml", ".csv")


@lru_cache(maxsize=1)
def attributes() -> dict:
    return yaml.safe_load(ATTRIBUTES.read_text(encoding="utf-8"))


def source_digest(paths: list[str]) -> str:
    """12 hex digits over the contents (and relative names) of the source files under ``paths``."""
    h = hashlib.sha256()
    for rel in paths:
        root = REPO / rel
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in SOURCE_SUFFIXES
                                                     and "__pycache__" not in p.parts)
        if not files:
            raise FileNotFoundError(f"pipelines/assets.yaml: no source files under {rel}")
        for f in files:
            h.update(str(f.relative_to(REPO)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def code_version(spec) -> str:
    if spec == "extractor":
        return str(EXTRACTOR_VERSION)
    if isinstance(spec, list):
        return source_digest(spec)
    raise ValueError(f"pipelines/assets.yaml: code_version is `extractor` or a list of paths, not {spec!r}")


def with_attributes(assets: list[AssetsDefinition]) -> list[AssetsDefinition]:
    conf = attributes()
    owners = list(conf.get("owners") or [])
    out = []
    for a in assets:
        name = a.key.to_user_string()
        entry = conf["assets"].get(name)
        if entry is None:
            raise KeyError(f"pipelines/assets.yaml has no entry for asset {name}")
        version = code_version(entry["code_version"])
        out.append(a.map_asset_specs(lambda s, e=entry, v=version: s.replace_attributes(
            kinds=set(e.get("kinds") or []), owners=owners, code_version=v)))
    return out


def column_schema(view) -> TableSchema:
    return TableSchema(columns=[TableColumn(c.name, c.type, description=c.description) for c in view.columns])


def mart_view_specs() -> list[AssetSpec]:
    """One asset per mart view, downstream of warehouse_tables, described by the data dictionary."""
    conf = attributes()
    version = views_fingerprint()[:12]  # the views' SQL and their dictionary
    kinds = set(conf.get("mart_views", {}).get("kinds") or [])
    return [AssetSpec(key=AssetKey(name.split(".")), deps=[AssetKey("warehouse_tables")], group_name="mart",
                      description=f"{view.description} (a view of the warehouse: current as soon as "
                                  "warehouse_tables is; docs/data-dictionary.md)",
                      kinds=kinds, owners=list(conf.get("owners") or []), code_version=version,
                      metadata={"dagster/column_schema": column_schema(view), "dagster/table_name": name})
            for name, view in load().views.items()]
