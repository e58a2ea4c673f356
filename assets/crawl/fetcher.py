"""Polite, robust HTTP(S) and file:// fetching.

* identifies itself (``FetchPolicy.user_agent``), honours robots.txt (fetched
  once per host) unless switched off for a local mirror;
* per-host minimum interval between requests and a per-host concurrency cap;
* one deadline per request (``max_duration``) covering connect, headers and body, so a
  server trickling its headers a byte at a time cannot hold a fetch longer (httpx's
  timeouts are per socket operation: each of them is cut to what is left of the
  deadline); a request past its deadline is final, not retried;
* timeouts, retries with exponential backoff on timeouts, 5xx and broken
  connections; 4xx are final;
* redirects followed by hand: capped, loops detected, never off the allowed sites
  (host *and* port: another port of the same host is another site);
* bodies streamed and aborted past ``max_bytes``;
* conditional requests (If-None-Match / If-Modified-Since) → ``not_modified``.

:meth:`Fetcher.fetch` never raises for network problems: the outcome is in
the returned :class:`FetchResult` (``error`` is the reason to record).
"""

from __future__ import annotations

import contextvars
import email.utils
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

from assets.crawl.scope import normalize_sites, site_of

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "budget-etl/0.1 (+https://github.com/open-budget-data/budget-etl; open budget data)"

REDIRECT_STATUSES = {301, 302, 303, 307, 308}
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class FetchPolicy:
    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 30.0  # seconds, connect and each read
    max_duration: float = 300.0  # seconds, deadline of one request: connect, headers and body
    retries: int = 3  # further attempts after the first one
    backoff_base: float = 1.0  # delay before retry n is backoff_base * 2**(n-1)
    backoff_max: float = 60.0
    max_bytes: int = 100 * 1024 * 1024
    min_interval: float = 1.0  # seconds between two requests to one host
    max_per_host: int = 2  # concurrent requests to one host
    max_redirects: int = 10
    respect_robots: bool = True
    workers: int = 4  # documents fetched in parallel by the crawler
    verify_tls: bool = True


@dataclass
class FetchResult:
    url: str  # as requested
    final_url: str  # after redirects
    status: int | None = None  # last HTTP status (None: no response)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    error: str | None = None  # reason to record when the fetch failed
    disallowed: bool = False  # robots.txt said no (not a failure: a skip)
    not_modified: bool = False  # 304 to a conditional request
    attempts: int = 0
    redirects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.disallowed and (self.content is not None or self.not_modified)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


class _Transient(Exception):
    """A failure worth retrying; the message is the reason if retries run out."""


class _Final(Exception):
    """A failure not worth retrying."""


#: the deadline (time.monotonic()) of the request this thread is making, None outside a request
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("fetch_deadline", default=None)


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` cut to what is left of the current request's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("request deadline reached")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self.inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        )

    def get_extra_info(self, info: str):
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend):
        self.inner = inner

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _DeadlineStream(
            self.inner.connect_tcp(host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options)
        )

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _DeadlineStream(
            self.inner.connect_unix_socket(path, _left(timeout, httpcore.ConnectTimeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def _deadline_transport(**kw) -> httpx.HTTPTransport:
    """httpx's transport with every socket operation bounded by the request's deadline."""
    transport = httpx.HTTPTransport(**kw)
    pool = transport._pool  # httpcore.ConnectionPool (no proxy: trust_env is off)
    if not hasattr(pool, "_network_backend"):  # pragma: no cover - a changed httpcore must fail loudly
        raise RuntimeError("httpcore.ConnectionPool has no _network_backend: cannot bound requests by a deadline")
    pool._network_backend = _DeadlineBackend(pool._network_backend)
    return transport


def host_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


class _HostState:
    def __init__(self, max_per_host: int):
        self.lock = threading.Lock()
        self.next_time = 0.0
        self.semaphore = threading.BoundedSemaphore(max(1, max_per_host))
        self.robots: RobotFileParser | None = None
        self.robots_loaded = False
        self.robots_lock = threading.Lock()


def _raise_for_status(status: int, hdrs: dict[str, str], max_bytes: int) -> None:
    """A response not to read: a status worth retrying (``_Transient``, with its Retry-After), an error
    status or a declared length over the cap (``_Final``)."""
    if status in RETRY_STATUSES:
        exc = _Transient(f"HTTP {status}")
        exc.status = status  # type: ignore[attr-defined]
        exc.retry_after = _retry_after(hdrs.get("retry-after"))  # type: ignore[attr-defined]
        raise exc
    if status >= 400:
        exc2 = _Final(f"HTTP {status}")
        exc2.status = status  # type: ignore[attr-defined]
        raise exc2
    length = hdrs.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes and "content-encoding" not in hdrs:
        exc3 = _Final(f"file too large: > {max_bytes} bytes")
        exc3.status = status  # type: ignore[attr-defined]
        raise exc3


def _read_body(resp: httpx.Response, status: int, max_bytes: int, deadline: float, whole: str) -> bytes:
    """The response body, at most ``max_bytes`` and before the request's deadline (else ``_Final``)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            exc4 = _Final(f"file too large: > {max_bytes} bytes")
            exc4.status = status  # type: ignore[attr-defined]
            raise exc4
        chunks.append(chunk)
        if time.monotonic() >= deadline:
            raise _Final(whole)
    return b"".join(chunks)


class Fetcher:
    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.policy = policy or FetchPolicy()
        self._sleep = sleep
        self._hosts: dict[str, _HostState] = {}
        self._hosts_lock = threading.Lock()
        limits = httpx.Limits(
            max_connections=max(4, self.policy.workers * 2),
            max_keepalive_connections=max(4, self.policy.workers * 2),
        )
        if transport is None:
            transport = _deadline_transport(verify=self.policy.verify_tls, limits=limits, trust_env=False)
        self._client = httpx.Client(
            headers={
                "User-Agent": self.policy.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.8",
                "Accept-Language": "zh-CN,zh;q=0.9",
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(self.policy.timeout),
            follow_redirects=False,
            trust_env=False,
            verify=self.policy.verify_tls,
            transport=transport,
            limits=limits,
        )
        #: requests actually sent (per attempt), for statistics and tests
        self.requests_sent = 0
        self._count_lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- per-host politeness ----------------------------------------------
    def _host(self, url: str) -> _HostState:
        key = host_key(url)
        with self._hosts_lock:
            state = self._hosts.get(key)
            if state is None:
                state = self._hosts[key] = _HostState(self.policy.max_per_host)
            return state

    def _wait_turn(self, state: _HostState) -> None:
        interval = self.policy.min_interval
        if interval <= 0:
            return
        with state.lock:
            now = time.monotonic()
            start = max(now, state.next_time)
            state.next_time = start + interval
        if start > now:
            self._sleep(start - now)

    # -- robots.txt ---------------------------------------------------------
    def allowed_by_robots(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return True
        state = self._host(url)
        with state.robots_lock:
            if not state.robots_loaded:
                state.robots = self._load_robots(f"{parts.scheme}://{parts.netloc}/robots.txt")
                state.robots_loaded = True
        if state.robots is None:
            return True
        return state.robots.can_fetch(self.policy.user_agent, url)

    def _load_robots(self, robots_url: str) -> RobotFileParser | None:
        """robots.txt of a host; None (= everything allowed) when absent or unreadable."""
        result = self._fetch_once_with_retries(
            robots_url, {}, max_bytes=512 * 1024, retries=min(1, self.policy.retries)
        )
        if result.error or result.content is None or result.status != 200:
            if result.status in (401, 403):
                log.info("robots.txt %s: HTTP %s, treating as allow-all", robots_url, result.status)
            return None
        parser = RobotFileParser(robots_url)
        parser.parse(result.content.decode("utf-8", errors="replace").splitlines())
        return parser

    # -- fetching -----------------------------------------------------------
    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allowed_hosts: Iterable[str] | None = None,
        respect_robots: bool | None = None,
    ) -> FetchResult:
        """GET ``url`` (http, https or file). Never raises for fetch problems."""
        if urlsplit(url).scheme == "file":
            return self._fetch_file(url, last_modified=last_modified)
        respect = self.policy.respect_robots if respect_robots is None else respect_robots
        # sites (host:port); a bare host name allows its scheme-default ports
        allowed = normalize_sites(allowed_hosts) if allowed_hosts is not None else None
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified

        current = url
        seen = {url}
        redirects: list[str] = []
        total_attempts = 0
        while True:
            if respect and not self.allowed_by_robots(current):
                return FetchResult(
                    url,
                    current,
                    error="disallowed by robots.txt",
                    disallowed=True,
                    redirects=redirects,
                    attempts=total_attempts,
                )
            result = self._fetch_once_with_retries(current, headers, max_bytes=self.policy.max_bytes)
            total_attempts += result.attempts
            result.url, result.redirects, result.attempts = url, redirects, total_attempts
            if result.status not in REDIRECT_STATUSES or result.error:
                return result
            location = result.headers.get("location")
            if not location:
                result.error = f"HTTP {result.status} redirect without Location"
                return result
            target = urljoin(current, location.strip()).split("#", 1)[0]
            redirects.append(target)
            if target in seen:
                return FetchResult(
                    url,
                    target,
                    status=result.status,
                    error="redirect loop",
                    redirects=redirects,
                    attempts=total_attempts,
                )
            if len(redirects) > self.policy.max_redirects:
                return FetchResult(
                    url,
                    target,
                    status=result.status,
                    error=f"too many redirects (> {self.policy.max_redirects})",
                    redirects=redirects,
                    attempts=total_attempts,
                )
            tparts = urlsplit(target)
            if tparts.scheme not in ("http", "https"):
                return FetchResult(
                    url,
                    target,
                    status=result.status,
                    error=f"redirect to unsupported URL {target}",
                    redirects=redirects,
                )
            if allowed is not None and site_of(target) not in allowed:
                return FetchResult(
                    url,
                    target,
                    status=result.status,
                    error=f"redirect off the allowed hosts: {site_of(target)}",
                    redirects=redirects,
                    attempts=total_attempts,
                )
            seen.add(target)
            current = target

    def _fetch_once_with_retries(
        self, url: str, headers: dict[str, str], *, max_bytes: int, retries: int | None = None
    ) -> FetchResult:
        retries = self.policy.retries if retries is None else retries
        state = self._host(url)
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn(state)
            try:
                with state.semaphore:
                    with self._count_lock:
                        self.requests_sent += 1
                    result = self._attempt(url, headers, max_bytes)
                result.attempts = attempt
                return result
            except _Final as exc:
                return FetchResult(url, url, error=str(exc), attempts=attempt, status=getattr(exc, "status", None))
            except _Transient as exc:
                status = getattr(exc, "status", None)
                if attempt > retries:
                    return FetchResult(url, url, status=status, error=str(exc), attempts=attempt)
                delay = min(self.policy.backoff_max, self.policy.backoff_base * 2 ** (attempt - 1))
                retry_after = getattr(exc, "retry_after", None)
                if retry_after is not None and retry_after <= self.policy.backoff_max:
                    delay = max(delay, retry_after)
                log.info("retrying %s in %.2f s after: %s", url, delay, exc)
                if delay > 0:
                    self._sleep(delay)

    def _attempt(self, url: str, headers: dict[str, str], max_bytes: int) -> FetchResult:
        deadline = time.monotonic() + self.policy.max_duration
        token = _DEADLINE.set(deadline)
        try:
            return self._attempt_by(url, headers, max_bytes, deadline)
        finally:
            _DEADLINE.reset(token)

    def _attempt_by(self, url: str, headers: dict[str, str], max_bytes: int, deadline: float) -> FetchResult:
        timeout = self.policy.timeout
        whole = f"timeout after {self.policy.max_duration:g} s (whole request: connect, headers and body)"
        try:
            with self._client.stream("GET", url, headers=headers) as resp:
                hdrs = {k.lower(): v for k, v in resp.headers.items()}
                status = resp.status_code
                if status in REDIRECT_STATUSES or status == 304:
                    return FetchResult(url, url, status=status, headers=hdrs, not_modified=status == 304)
                _raise_for_status(status, hdrs, max_bytes)
                content = _read_body(resp, status, max_bytes, deadline, whole)
                return FetchResult(url, url, status=status, headers=hdrs, content=content)
        except httpx.TimeoutException:
            if time.monotonic() >= deadline - 0.01:  # the request's deadline, not one slow read
                raise _Final(whole) from None
            raise _Transient(f"timeout after {timeout:g} s") from None
        except httpx.RemoteProtocolError as exc:
            raise _Transient(f"connection reset: {_short(exc)}") from None
        except (httpx.ReadError, httpx.WriteError) as exc:
            raise _Transient(f"connection reset: {_short(exc)}") from None
        except httpx.ConnectError as exc:
            raise _Transient(f"connection failed: {_short(exc)}") from None
        except httpx.DecodingError as exc:
            raise _Final(f"undecodable response body: {_short(exc)}") from None
        except httpx.TransportError as exc:
            raise _Transient(f"connection error: {_short(exc)}") from None
        except httpx.InvalidURL as exc:
            raise _Final(f"invalid URL: {_short(exc)}") from None

    def _fetch_file(self, url: str, *, last_modified: str | None) -> FetchResult:
        """file:// URL of a local mirror: read from disk, 404 when missing."""
        parts = urlsplit(url)
        path = Path(url2pathname(unquote(parts.path)))
        try:
            st = path.stat()
        except OSError:
            return FetchResult(url, url, status=404, error="HTTP 404", attempts=1)
        if not path.is_file():
            index = path / "index.html"
            if index.is_file():
                path, st = index, index.stat()
            else:
                return FetchResult(url, url, status=404, error="HTTP 404", attempts=1)
        mtime_http = email.utils.formatdate(st.st_mtime, usegmt=True)
        headers = {"last-modified": mtime_http, "content-length": str(st.st_size)}
        suffix = path.suffix.lower()
        headers["content-type"] = {
            ".pdf": "application/pdf",
            ".html": "text/html",
            ".htm": "text/html",
            ".shtml": "text/html",
        }.get(suffix, "application/octet-stream")
        if last_modified:
            since = _parse_http_date(last_modified)
            if since is not None and int(st.st_mtime) <= since:
                return FetchResult(url, url, status=304, headers=headers, not_modified=True, attempts=1)
        if st.st_size > self.policy.max_bytes:
            return FetchResult(
                url,
                url,
                status=200,
                headers=headers,
                error=f"file too large: > {self.policy.max_bytes} bytes",
                attempts=1,
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            return FetchResult(url, url, error=f"cannot read file: {exc}", attempts=1)
        return FetchResult(url, url, status=200, headers=headers, content=data, attempts=1)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = _parse_http_date(value)
    return None if when is None else max(0.0, when - time.time())


def _parse_http_date(value: str) -> float | None:
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return dt.timestamp() if dt is not None else None
