"""Dagster attributes of the assets (pipelines/assets.yaml) and the mart views as assets.

* every pipeline asset gets the ``kinds``, ``owners`` and ``code_version`` of assets.yaml, applied here so the
  asset modules stay free of presentation (``AssetsDefinition.map_asset_specs``);
* every ``mart`` view is an asset of group ``mart`` downstream of the core tables its SQL reads
  (``warehouse_schema.views.view_dependencies``; a view is current as soon as they are: nothing to materialize),
  with its description and column schema (name, type, description) from the data dictionary
  (warehouse_schema/dictionary.yaml), shown in the UI's asset page.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import yaml
from dagster import AssetKey, AssetsDefinition, AssetSpec, TableColumn, TableSchema

from assets.extract.document import EXTRACTOR_VERSION
from warehouse_schema.dictionary import load
from warehouse_schema.views import view_dependencies, views_fingerprint

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
        files = (
            [root]
            if root.is_file()
            else sorted(p for p in root.rglob("*") if p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts)
        )
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
    """Each asset's attributes from its entry in assets.yaml: the asset's key, else its op's name (a
    ``multi_asset``'s assets share their op's entry, e.g. every core table of ``warehouse_tables``)."""
    conf = attributes()
    owners = list(conf.get("owners") or [])
    versions: dict[str, str] = {}

    def entry_of(spec, node: str) -> tuple[dict, str]:
        name = spec.key.to_user_string()
        entry_name = name if name in conf["assets"] else node
        entry = conf["assets"].get(entry_name)
        if entry is None:
            raise KeyError(f"pipelines/assets.yaml has no entry for asset {name} (nor for its op {node})")
        if entry_name not in versions:
            versions[entry_name] = code_version(entry["code_version"])
        return entry, versions[entry_name]

    def attributed(spec, node: str):
        entry, version = entry_of(spec, node)
        return spec.replace_attributes(kinds=set(entry.get("kinds") or []), owners=owners, code_version=version)

    return [a.map_asset_specs(lambda s, n=a.node_def.name: attributed(s, n)) for a in assets]


def spec_attributes(specs: list[AssetSpec], entry_name: str) -> list[AssetSpec]:
    """AssetSpecs with the kinds, owners and code version of an entry at the top level of assets.yaml."""
    conf = attributes()
    entry = conf[entry_name]
    version = code_version(entry["code_version"])
    return [
        s.replace_attributes(
            kinds=set(entry.get("kinds") or []), owners=list(conf.get("owners") or []), code_version=version
        )
        for s in specs
    ]


def column_schema(view) -> TableSchema:
    return TableSchema(columns=[TableColumn(c.name, c.type, description=c.description) for c in view.columns])


def mart_view_specs() -> list[AssetSpec]:
    """One asset per mart view, downstream of the core tables its SQL reads (``view_dependencies``),
    described by the data dictionary."""
    conf = attributes()
    version = views_fingerprint()[:12]  # the views' SQL and their dictionary
    kinds = set(conf.get("mart_views", {}).get("kinds") or [])
    deps = view_dependencies()
    return [
        AssetSpec(
            key=AssetKey(name.split(".")),
            deps=[AssetKey(d.split(".")) for d in deps[name]],
            group_name="mart",
            description=f"{view.description} (a view of the warehouse: current as soon as the "
            "core tables it reads are; docs/data-dictionary.md)",
            kinds=kinds,
            owners=list(conf.get("owners") or []),
            code_version=version,
            metadata={"dagster/column_schema": column_schema(view), "dagster/table_name": name},
        )
        for name, view in load().views.items()
    ]
