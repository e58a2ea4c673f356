"""Workbooks to PDF with LibreOffice headless (``soffice --headless --convert-to pdf``).

The Debian package ``libreoffice-calc-nogui`` (Makefile ``SYSTEM_PACKAGES``)
provides ``soffice``.  Conversions are cached by content: the PDF of a
workbook is stored under the SHA-256 of its bytes (and of the LibreOffice
build), so the same workbook always yields the very same PDF file and a
second build of a corpus converts nothing.  Each process uses its own
LibreOffice user profile (``-env:UserInstallation``) so parallel test runs and
builds never share a profile or its lock.

Cache folder: ``$BUDGET_ETL_SOFFICE_CACHE``, else ``~/.cache/budget-etl/soffice-pdf``.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from functools import lru_cache
from pathlib import Path

#: bump when the conversion itself changes (options, filter), to invalidate cached PDFs
CONVERTER_VERSION = "1"
#: files per soffice start (one start costs ≈ 2 s; a long batch risks one slow timeout)
BATCH = 12


class ConversionError(RuntimeError):
    """LibreOffice is missing or did not write the PDF."""


def soffice_binary() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise ConversionError(
            "LibreOffice is not installed: `soffice` not found on PATH "
            "(Debian package libreoffice-calc-nogui, installed by `make setup`)"
        )
    return exe


@lru_cache(maxsize=1)
def office_build() -> str:
    """The LibreOffice build (part of the cache key): its program/versionrc, else the binary's path."""
    exe = Path(soffice_binary()).resolve()
    for rc in (exe.parent / "versionrc", exe.parent.parent / "program" / "versionrc"):
        if rc.exists():
            return hashlib.sha256(rc.read_bytes()).hexdigest()[:16]
    return str(exe)


def cache_dir() -> Path:
    d = os.environ.get("BUDGET_ETL_SOFFICE_CACHE")
    path = Path(d) if d else Path.home() / ".cache" / "budget-etl" / "soffice-pdf"
    path.mkdir(parents=True, exist_ok=True)
    return path


def content_key(data: bytes) -> str:
    return hashlib.sha256(b"%s|%s|" % (CONVERTER_VERSION.encode(), office_build().encode()) + data).hexdigest()


_profile: Path | None = None


def _profile_dir() -> Path:
    """A LibreOffice user profile private to this process (created once, removed at exit)."""
    global _profile
    if _profile is None:
        _profile = Path(tempfile.mkdtemp(prefix="budget-etl-soffice-profile-"))
        atexit.register(shutil.rmtree, _profile, True)
    return _profile


#: seconds spent in soffice by this process, and files converted (for the benchmark's figures)
STATS = {"seconds": 0.0, "converted": 0, "cached": 0, "starts": 0}


def convert_to_pdf(workbooks: list[Path], timeout_per_file: float = 60.0) -> list[Path]:
    """The PDF (in the cache) of each workbook, converting only those not cached, in batches."""
    cache = cache_dir()
    out: list[Path] = []
    todo: dict[str, Path] = {}
    for wb in workbooks:
        key = content_key(Path(wb).read_bytes())
        pdf = cache / f"{key}.pdf"
        out.append(pdf)
        if pdf.exists():
            STATS["cached"] += 1
        else:
            todo[key] = Path(wb)
    keys = list(todo)
    for i in range(0, len(keys), BATCH):
        _convert_batch({k: todo[k] for k in keys[i : i + BATCH]}, cache, timeout_per_file)
    return out


def _convert_batch(batch: dict[str, Path], cache: Path, timeout_per_file: float) -> None:
    exe = soffice_binary()
    with tempfile.TemporaryDirectory(prefix="budget-etl-soffice-") as tmp:
        src, dst = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        dst.mkdir()
        files = []
        for key, wb in batch.items():
            f = src / f"{key}{wb.suffix or '.xlsx'}"
            shutil.copyfile(wb, f)
            files.append(f)
        cmd = [
            exe,
            "--headless",
            "--norestore",
            "--nologo",
            "--nolockcheck",
            "--nodefault",
            f"-env:UserInstallation={_profile_dir().as_uri()}",
            "--convert-to",
            "pdf:calc_pdf_Export",
            "--outdir",
            str(dst),
            *map(str, files),
        ]
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=30 + timeout_per_file * len(files),
                env={**os.environ, "SAL_USE_VCLPLUGIN": "svp"},
            )
        except subprocess.TimeoutExpired as exc:
            raise ConversionError(
                f"soffice did not finish converting {len(files)} workbooks in {exc.timeout:.0f}s"
            ) from exc
        STATS["seconds"] += time.perf_counter() - started
        STATS["starts"] += 1
        for key, f in zip(batch, files, strict=False):
            made = dst / f"{f.stem}.pdf"
            if not made.exists() or made.stat().st_size == 0:
                raise ConversionError(
                    f"soffice wrote no PDF for {batch[key]} (exit {proc.returncode}): "
                    f"{(proc.stderr or proc.stdout).strip()[-500:]}"
                )
            part = cache / f".{key}.{os.getpid()}.part"
            shutil.copyfile(made, part)
            os.replace(part, cache / f"{key}.pdf")  # atomic: a parallel run sees the whole file or none
            STATS["converted"] += 1
