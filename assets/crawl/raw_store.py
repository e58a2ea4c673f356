"""Content-addressed raw store: every fetched body, kept forever.

``<root>/<sha[:2]>/<sha><ext>`` where ``ext`` comes from the content
(``.pdf`` / ``.html`` / ``.bin``), never from the URL.  Files are written
atomically (temporary file in the same directory, fsync, hard link into
place) and never overwritten: a changed document at the same URL is a new
sha256, the old version stays.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

EXTENSIONS = (".pdf", ".html", ".bin")


def sniff_extension(data: bytes) -> str:
    """File extension from the content itself."""
    head = data[:1024]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n\x00").startswith(b"%PDF"):
        return ".pdf"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title", b"<script")):
        return ".html"
    if lowered.startswith(b"<!--") and (b"<html" in lowered or b"<body" in lowered):
        return ".html"
    return ".bin"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RawStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _dir(self, sha: str) -> Path:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValueError(f"not a sha256 hex digest: {sha!r}")
        return self.root / sha[:2]

    def _find(self, sha: str) -> Path | None:
        d = self._dir(sha)
        for ext in EXTENSIONS:
            p = d / f"{sha}{ext}"
            if p.exists():
                return p
        return None

    def put(self, data: bytes) -> tuple[str, Path, bool]:
        """Store ``data``; returns ``(sha256, path, is_new)``."""
        sha = sha256_hex(data)
        existing = self._find(sha)
        if existing is not None:
            return sha, existing, False
        d = self._dir(sha)
        d.mkdir(parents=True, exist_ok=True)
        final = d / f"{sha}{sniff_extension(data)}"
        fd, tmp = tempfile.mkstemp(prefix=f".{sha[:8]}.", suffix=".tmp", dir=d)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, final)  # fails if it exists: never overwrite
                is_new = True
            except FileExistsError:
                is_new = False  # a concurrent put of the same content won
            except OSError:
                # file system without hard links: rename unless present
                with self._lock:
                    if final.exists():
                        is_new = False
                    else:
                        os.replace(tmp, final)
                        is_new = True
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return sha, final, is_new

    def exists(self, sha: str) -> bool:
        return self._find(sha) is not None

    def path(self, sha: str) -> Path:
        """Path of the stored content; ``FileNotFoundError`` when absent."""
        p = self._find(sha)
        if p is None:
            raise FileNotFoundError(f"sha256 {sha} is not in the raw store {self.root}")
        return p

    def open(self, sha: str) -> BinaryIO:
        return self.path(sha).open("rb")

    def read(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()
