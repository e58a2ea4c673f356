"""Crawl sources: where the 部门预算 of one region are published.

The sources file is YAML::

    sources:
      - region_code: "410329"          # 6-digit 行政区划代码, as a string
        region_name: 伊川县
        start_urls:
          - https://www.yichuan.gov.cn/zwgk/bmys/index.html
        allowed_hosts: [yichuan.gov.cn]  # optional, besides the start URLs' sites (host, or host:port)
        respect_robots: true             # optional (false for a local mirror)
        max_pages: 200                   # optional: list/article pages per source
        max_documents: 1000              # optional: attachments fetched per source
      - region_code: "410300"
        region_name: 洛阳市（本地镜像）
        folder: /data/mirror/luoyang     # every *.pdf under it, recursively
      - region_code: "410329"
        region_name: 伊川县（镜像）
        start_urls: ["file:///data/mirror/yichuan/zwgk/index.html"]
        mirror_root: /data/mirror/yichuan   # a file:// mirror reads nothing outside (default: the start page's folder)

Reaching ``max_pages`` or ``max_documents`` is reported as a source problem (the run's exit code says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from assets.crawl.scope import allowed_sites


class SourcesError(ValueError):
    """The sources file is missing or invalid; the message names the entry and the problem."""


@dataclass
class SourceConfig:
    region_code: str
    region_name: str
    start_urls: list[str] = field(default_factory=list)
    allowed_hosts: list[str] = field(default_factory=list)
    folder: str | None = None
    respect_robots: bool = True
    max_pages: int = 200
    #: link depth followed from the start pages; pagination keeps the depth of
    #: its list page, so 2 = list pages → article pages → pages linked from articles
    max_depth: int = 2
    #: attachments fetched per source (a page of 10,000 links must not take hours); more are reported
    max_documents: int = 1000
    #: the folder a file:// mirror is confined to (default: the folder of its start page)
    mirror_root: str | None = None

    def sites(self) -> set[str]:
        """Allowed sites (``host:port``): the start URLs' and ``allowed_hosts``' (assets/crawl/scope.py)."""
        return allowed_sites(self.start_urls, self.allowed_hosts)

    def hosts(self) -> set[str]:
        """Allowed host names (lower case, without port)."""
        hosts = {h.strip().lower() for h in self.allowed_hosts if h.strip()}
        for url in self.start_urls:
            host = urlsplit(url).hostname
            if host:
                hosts.add(host.lower())
        return hosts


_REGION_CODE = re.compile(r"^\d{6}$")
_HOST = re.compile(r"^[\w.\-]+(:\d{1,5})?$")
_KNOWN_KEYS = {
    "region_code",
    "region_name",
    "start_urls",
    "allowed_hosts",
    "folder",
    "respect_robots",
    "max_pages",
    "max_depth",
    "max_documents",
    "mirror_root",
}


def _entry_error(index: int, entry: Any, problem: str) -> SourcesError:
    name = None
    if isinstance(entry, dict):
        name = entry.get("region_name") or entry.get("region_code")
    label = f"sources[{index}]" + (f" ({name})" if name else "")
    return SourcesError(f"{label}: {problem}")


class _BadField(Exception):
    """A problem of one field of a source entry (``_parse_entry`` names the entry)."""


def _region_code(entry: dict) -> str:
    code = entry.get("region_code")
    if code is None:
        raise _BadField("missing field 'region_code'")
    if isinstance(code, int) and not isinstance(code, bool):
        # YAML reads 410329 as an int; accept it only when it is exactly 6 digits
        code = str(code)
    if not isinstance(code, str) or not _REGION_CODE.match(code):
        raise _BadField(f'bad region_code {code!r}: expected a 6-digit string such as "410329"')
    return code


def _region_name(entry: dict) -> str:
    name = entry.get("region_name")
    if not isinstance(name, str) or not name.strip():
        raise _BadField("missing field 'region_name'")
    return name


def _start_urls(entry: dict) -> list[str]:
    start_urls = entry.get("start_urls") or []
    if isinstance(start_urls, str):
        start_urls = [start_urls]
    if not isinstance(start_urls, list) or not all(isinstance(u, str) and u.strip() for u in start_urls):
        raise _BadField("'start_urls' must be a list of URLs")
    start_urls = [u.strip() for u in start_urls]
    for url in start_urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "file") or (parts.scheme != "file" and not parts.hostname):
            raise _BadField(f"bad start URL {url!r}: expected http(s):// or file://")
    return start_urls


def _folder(entry: dict, base_dir: Path) -> str | None:
    folder = entry.get("folder")
    if folder is not None:
        if not isinstance(folder, str) or not folder.strip():
            raise _BadField("'folder' must be a path")
        folder_path = Path(folder).expanduser()
        if not folder_path.is_absolute():
            folder_path = base_dir / folder_path
        folder = str(folder_path)
    return folder


def _allowed_hosts(entry: dict) -> list[str]:
    allowed = entry.get("allowed_hosts") or []
    if isinstance(allowed, str):
        allowed = [allowed]
    if not isinstance(allowed, list) or not all(isinstance(h, str) for h in allowed):
        raise _BadField("'allowed_hosts' must be a list of host names")
    for h in allowed:
        if not _HOST.match(h.strip()):
            raise _BadField(f"bad allowed host {h!r}: expected a host name, or host:port")
    return allowed


def _mirror_root(entry: dict, base_dir: Path) -> str | None:
    root = entry.get("mirror_root")
    if root is not None:
        if not isinstance(root, str) or not root.strip():
            raise _BadField("'mirror_root' must be a path")
        root_path = Path(root.removeprefix("file://")).expanduser()
        root = str(root_path if root_path.is_absolute() else base_dir / root_path)
    return root


def _limits(entry: dict) -> dict[str, int]:
    ints: dict[str, int] = {}
    for key, default in (("max_pages", 200), ("max_depth", 2), ("max_documents", 1000)):
        value = entry.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _BadField(f"'{key}' must be a non-negative integer")
        ints[key] = value
    return ints


def _source_config(entry: dict, base_dir: Path) -> SourceConfig:
    """A mapping of the sources file as a SourceConfig, its fields checked in the order they are listed."""
    unknown = sorted(set(map(str, entry)) - _KNOWN_KEYS)
    if unknown:
        raise _BadField(f"unknown key(s): {', '.join(unknown)}")
    code = _region_code(entry)
    name = _region_name(entry)
    start_urls = _start_urls(entry)
    folder = _folder(entry, base_dir)
    if not start_urls and not folder:
        raise _BadField("needs 'start_urls' or 'folder'")
    allowed = _allowed_hosts(entry)
    root = _mirror_root(entry, base_dir)
    respect = entry.get("respect_robots", True)
    if not isinstance(respect, bool):
        raise _BadField("'respect_robots' must be true or false")
    ints = _limits(entry)
    return SourceConfig(
        region_code=code,
        region_name=name.strip(),
        start_urls=start_urls,
        allowed_hosts=[h.strip().lower() for h in allowed if h.strip()],
        folder=folder,
        respect_robots=respect,
        max_pages=ints["max_pages"],
        max_depth=ints["max_depth"],
        max_documents=ints["max_documents"],
        mirror_root=root,
    )


def _parse_entry(index: int, entry: Any, base_dir: Path) -> SourceConfig:
    if not isinstance(entry, dict):
        raise _entry_error(index, entry, f"expected a mapping, got {type(entry).__name__}")
    try:
        return _source_config(entry, base_dir)
    except _BadField as exc:
        raise _entry_error(index, entry, str(exc)) from None


def load_sources(path: str | Path) -> list[SourceConfig]:
    """Parse the sources YAML file (top key ``sources:``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourcesError(f"sources file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"cannot read sources file {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourcesError(f"invalid YAML in sources file {path}: {exc}") from None
    if not isinstance(data, dict) or "sources" not in data:
        raise SourcesError(f"sources file {path}: expected a top-level key 'sources:'")
    entries = data["sources"]
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f"sources file {path}: 'sources' must be a non-empty list")
    sources = [_parse_entry(i, e, path.parent) for i, e in enumerate(entries)]
    seen: dict[tuple[str, tuple[str, ...], str | None], int] = {}
    for i, s in enumerate(sources):
        key = (s.region_code, tuple(s.start_urls), s.folder)
        if key in seen:
            raise _entry_error(i, entries[i], f"duplicate of sources[{seen[key]}]")
        seen[key] = i
    return sources
