"""A local portal for tests and the benchmark: an HTTP server on 127.0.0.1.

Routes are static bodies (with ETag / Last-Modified and conditional GET) or
handler functions for faults (5xx, hangs, resets, redirect loops, endless
bodies).  Every request is logged in :attr:`LocalPortal.log`.

Also :func:`make_pdf`, a small PDF with Chinese text (reportlab, a dev
dependency, imported on first use).
"""

from __future__ import annotations

import email.utils
import hashlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlsplit

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


@dataclass
class Logged:
    method: str
    path: str  # as requested (percent-encoded)
    status: int
    headers: dict[str, str]
    body_bytes: int = 0
    started: float = 0.0  # time.monotonic() when the request arrived


@dataclass
class Static:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    etag: bool = True
    last_modified: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[BaseHTTPRequestHandler], int]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms per response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence stderr
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        portal = self.server.portal
        started = time.monotonic()
        path = self.path
        route = portal.routes.get(path)
        if route is None:
            route = portal.routes.get(urlsplit(path).path)
        status = 0
        sent = 0
        try:
            if route is None:
                body = b"<html><body><h1>404 Not Found</h1></body></html>"
                status, sent = self._send(404, body, "text/html")
            elif isinstance(route, Static):
                status, sent = self._static(route)
            else:
                status = route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with portal.lock:
                portal.log.append(
                    Logged(
                        "GET" if self.command == "GET" else self.command,
                        path,
                        status,
                        dict(self.headers.items()),
                        sent,
                        started,
                    )
                )

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, int]:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
            return status, len(body)
        return status, 0

    def _static(self, route: Static) -> tuple[int, int]:
        headers = dict(route.extra_headers)
        etag = None
        if route.etag:
            etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
            headers["ETag"] = etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if (etag and inm and etag in [t.strip() for t in inm.split(",")]) or (
            not inm and ims and route.last_modified and ims == route.last_modified
        ):
            self.send_response(304)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return 304, 0
        return self._send(200, route.body, route.content_type, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    portal: LocalPortal

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (the crawler's deadline, a cancelled fetch) is normal here: no traceback on
        stderr, where it would be mixed into the output a test reads. Anything else is still printed."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class LocalPortal:
    """``with LocalPortal() as portal: portal.add("/a.html", b"..."); portal.url("/a.html")``."""

    def __init__(self) -> None:
        self.routes: dict[str, Static | Handler] = {}
        self.log: list[Logged] = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()  # releases hanging handlers on close
        self._server = _Server(("127.0.0.1", 0), _RequestHandler)
        self._server.portal = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> LocalPortal:
        self._thread.start()
        return self

    def close(self) -> None:
        self.stop_event.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalPortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + quote(path, safe="/%?=&:_-.~")

    # -- routes ---------------------------------------------------------------
    def add(self, path: str, body: bytes | str, content_type: str | None = None, **kw: object) -> str:
        """Serve ``body`` at ``path`` (raw Chinese paths are stored percent-encoded, UTF-8)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type is None:
            content_type = "application/pdf" if path.lower().endswith(".pdf") else "text/html; charset=utf-8"
        key = quote(path, safe="/%?=&:_-.~")
        self.routes[key] = Static(body, content_type, **kw)  # type: ignore[arg-type]
        return self.url(path)

    def handle(self, path: str, handler: Handler) -> str:
        self.routes[quote(path, safe="/%?=&:_-.~")] = handler
        return self.url(path)

    def requests(self, path: str | None = None, method: str = "GET") -> list[Logged]:
        with self.lock:
            return [
                r for r in self.log if r.method == method and (path is None or r.path == quote(path, safe="/%?=&:_-.~"))
            ]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    # -- faults -----------------------------------------------------------------
    def fail_then(
        self, path: str, failures: int, body: bytes, status: int = 500, content_type: str = "application/pdf"
    ) -> str:
        """``failures`` × HTTP ``status``, then ``body``."""
        count = {"n": 0}

        def handler(h: BaseHTTPRequestHandler) -> int:
            count["n"] += 1
            if count["n"] <= failures:
                return _send(h, status, b"<html><body>Service Unavailable</body></html>", "text/html")
            return _send(h, 200, body, content_type)

        return self.handle(path, handler)

    def hang(self, path: str, seconds: float, body: bytes = b"%PDF-1.4\n") -> str:
        """Accept, then say nothing for ``seconds`` (past the client's timeout)."""

        def handler(h: BaseHTTPRequestHandler) -> int:
            self.stop_event.wait(seconds)
            return _send(h, 200, body, "application/pdf")

        return self.handle(path, handler)

    def reset_mid_body(self, path: str, body: bytes, resets: int | None = None) -> str:
        """Send the headers and half the body, then reset the connection (``resets`` times, None = always)."""
        count = {"n": 0}

        def handler(h: BaseHTTPRequestHandler) -> int:
            count["n"] += 1
            if resets is not None and count["n"] > resets:
                return _send(h, 200, body, "application/pdf")
            h.send_response(200)
            h.send_header("Content-Type", "application/pdf")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            sock: socket.socket = h.connection
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            h.close_connection = True
            return 200

        return self.handle(path, handler)

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        def handler(h: BaseHTTPRequestHandler) -> int:
            h.send_response(status)
            h.send_header("Location", to)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return status

        return self.handle(path, handler)

    def endless(
        self, path: str, chunk: bytes = b"%PDF-1.4\n" + b"0" * 65527, announce_length: int | None = None
    ) -> str:
        """A body that never ends (chunked), or one that announces ``announce_length`` up front."""

        def handler(h: BaseHTTPRequestHandler) -> int:
            h.send_response(200)
            h.send_header("Content-Type", "application/pdf")
            if announce_length is not None:
                h.send_header("Content-Length", str(announce_length))
            else:
                h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            deadline = time.monotonic() + 10
            try:
                while time.monotonic() < deadline and not self.stop_event.is_set():
                    if announce_length is not None:
                        h.wfile.write(chunk)
                    else:
                        h.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except OSError:
                pass
            h.close_connection = True
            return 200

        return self.handle(path, handler)


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> int:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
    return status


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


# ---------------------------------------------------------------------------
# PDFs

_font_registered = False


def make_pdf(pages: list[list[str]] | list[str], *, title: str | None = None) -> bytes:
    """A small PDF: one page per entry, each a list of lines (Chinese OK)."""
    global _font_registered
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if not _font_registered:
        pdfmetrics.registerFont(TTFont("WQY", CJK_FONT, subfontIndex=0))
        _font_registered = True
    if pages and isinstance(pages[0], str):
        pages = [pages]  # type: ignore[list-item]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    if title:
        c.setTitle(title)
    for page in pages:
        y = 780
        for line in page:  # type: ignore[union-attr]
            c.setFont("WQY", 14)
            c.drawString(60, y, line)
            y -= 28
        c.showPage()
    c.save()
    return buf.getvalue()


def budget_pdf(
    department: str = "伊川县政务服务中心", year: int = 2024, region: str = "洛阳市伊川县", kind: str = "部门预算"
) -> bytes:
    """Title page "2024年洛阳市伊川县政务服务中心部门预算" and a 部门名称 header page."""
    short = department[len("伊川县") :] if department.startswith("伊川县") else department
    return make_pdf(
        [
            [f"{year}年{region}{short}{kind}", "", f"二〇{_cn(year % 100)}年一月"],
            [
                f"部门名称：{department}        单位：万元",
                "部门收支总表",
                "项目  预算数",
                "一般公共预算拨款收入  123.45",
            ],
        ]
    )


def _cn(n: int) -> str:
    digits = "〇一二三四五六七八九"
    return digits[n // 10] + digits[n % 10]


# ---------------------------------------------------------------------------
# hostile inputs (tests/integration/test_hostile_documents.py, bench/bench_hostile.py): generated, never committed


def bomb_pdf(inflated: int = 512 << 20) -> bytes:
    """A one-page PDF whose content stream inflates to ``inflated`` bytes (spaces): 512 MiB from ~520 KB.
    pdfium holds about twice that while reading the page's text."""
    import zlib

    co = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    parts = [co.compress(chunk) for _ in range(inflated // len(chunk))]
    parts.append(co.compress(b" " * (inflated % len(chunk))))
    parts.append(co.flush())
    data = b"".join(parts)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def join_pdfs(*pdfs: bytes) -> bytes:
    """The pages of ``pdfs`` in one PDF (pdfium copies the page streams without decoding them)."""
    import io

    import pypdfium2 as pdfium

    out = pdfium.PdfDocument.new()
    for data in pdfs:
        out.import_pages(pdfium.PdfDocument(data))
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def budget_with_bomb(inflated: int = 512 << 20, department: str = "伊川县政务服务中心") -> bytes:
    """A budget whose first three pages read normally (the crawl's look passes: year, department) and whose
    fourth page is a decompression bomb: only extraction, which reads every page, meets it."""
    return join_pdfs(budget_pdf(department), make_pdf(["说明"]), bomb_pdf(inflated))


def many_pages_pdf(pages: int = 2000, department: str = "伊川县政务服务中心", tables: bool = False) -> bytes:
    """``pages`` pages: a budget's two first pages, then pages of text; ``tables``: each of those pages carries
    a table title and a small ruled table, so extraction runs camelot on every page."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    first = budget_pdf(department)
    make_pdf(["x"])  # registers the CJK font
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for i in range(pages - 2):  # the budget's title page and 部门名称 page are the first two
        if tables:
            c.setFont("WQY", 14)
            c.drawString(160, 780, "一般公共预算支出预算表")
            c.setFont("WQY", 10)
            xs, ys = [60, 200, 340, 480], [740, 720, 700, 680]
            for x in xs:
                c.line(x, ys[0], x, ys[-1])
            for y in ys:
                c.line(xs[0], y, xs[-1], y)
            for r, row in enumerate(
                [["科目编码", "科目名称", "合计"], ["2010101", "行政运行", f"{i}.00"], ["合计", "", f"{i}.00"]]
            ):
                for k, cell in enumerate(row):
                    c.drawString(xs[k] + 4, ys[r] - 14, cell)
        else:
            c.setFont("Helvetica", 12)
            c.drawString(60, 780, f"page {i + 2}")
        c.showPage()
    c.save()
    return join_pdfs(first, buf.getvalue())


def encrypted_pdf(user_password: str, owner_password: str = "owner", department: str = "伊川县政务服务中心") -> bytes:
    """A budget title page encrypted by reportlab: ``user_password=""`` is an owner-password-only PDF (opens
    without a password, copying and printing restricted)."""
    import io

    from reportlab.lib import pdfencrypt
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    global _font_registered
    make_pdf(["x"])  # registers the CJK font
    enc = pdfencrypt.StandardEncryption(user_password, ownerPassword=owner_password, canPrint=0, canCopy=0)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, encrypt=enc)
    short = department[len("伊川县") :] if department.startswith("伊川县") else department
    for line_no, line in enumerate([f"2024年洛阳市伊川县{short}部门预算", f"部门名称：{department}"]):
        c.setFont("WQY", 14)
        c.drawString(60, 780 - 28 * line_no, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def trickle_headers(portal: LocalPortal, path: str, body: bytes, *, interval: float = 1.0, lines: int = 90) -> str:
    """Serve ``body`` after ``lines`` header lines sent one every ``interval`` seconds (a server that keeps
    a client waiting while never being silent for a whole read timeout)."""

    def handler(h: BaseHTTPRequestHandler) -> int:
        try:
            h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n")
            h.wfile.flush()
            for i in range(lines):
                if portal.stop_event.wait(interval):
                    break
                h.wfile.write(f"X-Trickle-{i}: {i}\r\n".encode())
                h.wfile.flush()
            h.wfile.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            h.wfile.flush()
        except OSError:
            pass
        h.close_connection = True
        return 200

    return portal.handle(path, handler)
