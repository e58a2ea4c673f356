"""Where a source may go: sites (host *and* port), the root of a ``file://`` mirror, folder paths.

A *site* is ``host:port``.  A start URL allows its own site; on a scheme's default port (80 / 443) it
allows both default ports of its host (portals redirect http → https).  ``allowed_hosts`` entries are
``host`` (its default ports) or ``host:port``.  A link or a redirect to another port of the same host is
another site: not requested.

A ``file://`` mirror is confined to its root (``mirror_root`` in the sources file, default: the folder of
its start page): a ``../`` link or an absolute ``file://`` link out of it is never read.

A document of a ``folder:`` source is recorded as ``folder:<region code>/<path relative to the folder>``
(percent-encoded), never with an absolute local path.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

DEFAULT_PORTS = {"http": 80, "https": 443}
FOLDER_SCHEME = "folder:"


def site_of(url: str) -> str | None:
    """``host:port`` of an http(s) URL (the scheme's default port when none is written), else None."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:  # a port that is not a number
        return None
    return f"{parts.hostname.lower()}:{port}"


def sites_of_entry(entry: str) -> set[str]:
    """Sites an ``allowed_hosts`` entry names: ``host`` → both default ports, ``host:port`` → that one."""
    entry = entry.strip().lower()
    if not entry:
        return set()
    host, sep, port = entry.rpartition(":")
    if sep and port.isdigit() and host:
        return {f"{host}:{int(port)}"}
    return {f"{entry}:{p}" for p in DEFAULT_PORTS.values()}


def allowed_sites(start_urls: Iterable[str], allowed_hosts: Iterable[str]) -> set[str]:
    sites: set[str] = set()
    for entry in allowed_hosts:
        sites |= sites_of_entry(entry)
    for url in start_urls:
        site = site_of(url)
        if site is None:
            continue
        host, port = site.rsplit(":", 1)
        sites |= sites_of_entry(host) if int(port) in DEFAULT_PORTS.values() else {site}
    return sites


def normalize_sites(allowed: Iterable[str]) -> set[str]:
    """Entries of either form (``host``, ``host:port``) as sites."""
    out: set[str] = set()
    for entry in allowed:
        out |= sites_of_entry(entry)
    return out


# --------------------------------------------------------------------------- file:// mirrors


def file_path(url: str) -> Path:
    return Path(url2pathname(unquote(urlsplit(url).path)))


def mirror_root(start_url: str, root: str | None = None) -> Path:
    """The folder a ``file://`` mirror is confined to: ``root`` when given, else its start page's folder."""
    if root:
        return Path(url2pathname(unquote(urlsplit(root).path))) if root.startswith("file:") else Path(root)
    path = file_path(start_url)
    return path if start_url.endswith("/") else path.parent


def inside(path: Path, root: Path) -> bool:
    """``path`` (symbolic links and ``..`` resolved) lies under ``root``."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- folder sources


def folder_url(region_code: str, root: Path, path: Path) -> str:
    """``folder:<region>/<relative path>`` of a file of a folder source (percent-encoded as URL paths are)."""
    rel = path.relative_to(root).as_posix()
    return f"{FOLDER_SCHEME}{region_code}/{quote(rel, safe='/')}"


def is_folder_url(url: str) -> bool:
    return url.startswith(FOLDER_SCHEME)
