"""OAuth 2.0 client-credentials HTTP client shared by the portal and intake clients.

- takes a token at /oauth/token and takes a new one when a call answers 401 (expired token);
- retries transient failures (connection errors, timeouts, 429, 500, 502, 503, 504) with
  exponential backoff, honouring ``Retry-After`` (tenacity drives the loop);
- fails at once, with the server's problem details, on any other status.
Nothing here logs a credential, a token or a response body.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

log = logging.getLogger(__name__)

TRANSIENT_STATUS = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 300.0


@dataclass(frozen=True)
class Endpoint:
    """Where a service is and which client credentials it takes (from an Airflow connection)."""

    base_url: str
    client_id: str
    client_secret: str

    @classmethod
    def from_connection(cls, conn: Any) -> "Endpoint":
        """host/port/schema give the base URL; login/password are the OAuth client id and secret."""
        host = (conn.host or "").strip()
        if not host:
            raise ValueError(f"kết nối {conn.conn_id!r} thiếu host")
        if "://" in host:
            parts = urlsplit(host)
            scheme, netloc, path = parts.scheme, parts.netloc, parts.path.rstrip("/")
        else:
            scheme = (conn.schema or "https").strip() or "https"
            netloc, _, path = host.partition("/")
            path = f"/{path}".rstrip("/") if path else ""
            if scheme not in ("http", "https"):
                # An Airflow http connection may carry a path in schema; the scheme is then https.
                path, scheme = f"/{scheme.strip('/')}{path}", "https"
        if conn.port and ":" not in netloc:
            netloc = f"{netloc}:{conn.port}"
        if not conn.login or not conn.password:
            raise ValueError(f"kết nối {conn.conn_id!r} thiếu client id (login) hoặc secret (password)")
        return cls(f"{scheme}://{netloc}{path}", conn.login, conn.password)


class ApiError(RuntimeError):
    """A call that failed for good: status, the problem details' title/detail, the URL path."""

    def __init__(self, status: int, path: str, problem: dict | None = None, message: str | None = None):
        self.status = status
        self.path = path
        self.problem = problem or {}
        detail = message or self.problem.get("detail") or self.problem.get("title") or ""
        super().__init__(f"HTTP {status} tại {path}: {detail}".strip())


class TransientError(RuntimeError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None


def _problem(response: httpx.Response) -> dict:
    try:
        body = response.json()
        return body if isinstance(body, dict) else {}
    except ValueError:
        return {}


class _WaitRetryAfter:
    """Wait what the server asked for (Retry-After), else exponential backoff with jitter."""

    def __init__(self, backoff_max: float):
        self._fallback = wait_random_exponential(multiplier=0.5, max=backoff_max)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return exc.retry_after
        return self._fallback(state)


class OAuthClient:
    def __init__(self, endpoint: Endpoint, *, timeout: float = 60.0, max_attempts: int = 8,
                 backoff_max: float = 30.0, name: str = "api", transport: httpx.BaseTransport | None = None):
        self.endpoint = endpoint
        self.name = name
        self._http = httpx.Client(base_url=endpoint.base_url, timeout=timeout, transport=transport)
        self._token: str | None = None
        self._lock = threading.Lock()
        self._max_attempts = max_attempts
        self._wait = _WaitRetryAfter(backoff_max)
        self.stats = {"requests": 0, "retries": 0, "token_refreshes": 0}

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- token -----------------------------------------------------------------------------
    def _fetch_token(self) -> str:
        data = {"grant_type": "client_credentials", "client_id": self.endpoint.client_id,
                "client_secret": self.endpoint.client_secret}
        for attempt in self._retrying():
            with attempt:
                try:
                    response = self._http.post("/oauth/token", data=data)
                except httpx.TransportError as exc:
                    raise TransientError(f"{self.name}: lỗi kết nối khi lấy token: {exc.__class__.__name__}") from exc
                if response.status_code in TRANSIENT_STATUS:
                    raise TransientError(f"{self.name}: HTTP {response.status_code} khi lấy token",
                                         _retry_after(response))
                if response.status_code != 200:
                    raise ApiError(response.status_code, "/oauth/token", _problem(response),
                                   "không lấy được token (kiểm tra client id/secret của kết nối)")
                body = response.json()
                if not isinstance(body, dict) or not body.get("access_token"):
                    raise ApiError(200, "/oauth/token", None, "câu trả lời token không có access_token")
                return body["access_token"]
        raise AssertionError("unreachable")  # pragma: no cover

    def _bearer(self, refresh: bool = False) -> str:
        with self._lock:
            if self._token is None or refresh:
                if refresh:
                    self.stats["token_refreshes"] += 1
                self._token = self._fetch_token()
            return self._token

    # -- requests --------------------------------------------------------------------------
    def _retrying(self) -> Retrying:
        def before_sleep(state: RetryCallState) -> None:
            self.stats["retries"] += 1
            exc = state.outcome.exception() if state.outcome else None
            log.warning("%s: thử lại lần %d sau %.1f s (%s)", self.name, state.attempt_number,
                        state.upcoming_sleep, exc)

        return Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, TransientError)),
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            before_sleep=before_sleep,
            reraise=True,
        )

    def request(self, method: str, path: str, *, params: dict | None = None, json: Any = None,
                content: bytes | None = None, headers: dict | None = None,
                ok: tuple[int, ...] = (200,)) -> httpx.Response:
        """One call with token handling and retries; returns the response when its status is in ``ok``."""
        for attempt in self._retrying():
            with attempt:
                return self._once(method, path, params=params, json=json, content=content,
                                  headers=headers, ok=ok)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method, path, *, params, json, content, headers, ok) -> httpx.Response:
        refreshed = False
        while True:
            self.stats["requests"] += 1
            all_headers = {"Authorization": f"Bearer {self._bearer()}", **(headers or {})}
            try:
                response = self._http.request(method, path, params=params, json=json, content=content,
                                              headers=all_headers)
            except httpx.TransportError as exc:
                raise TransientError(f"{self.name}: lỗi kết nối {method} {path}: {exc.__class__.__name__}") from exc
            if response.status_code == 401 and not refreshed:
                # The token expired (or was revoked): take a new one and repeat the call once.
                self._bearer(refresh=True)
                refreshed = True
                continue
            if response.status_code in ok:
                return response
            if response.status_code in TRANSIENT_STATUS:
                raise TransientError(f"{self.name}: HTTP {response.status_code} tại {method} {path}",
                                     _retry_after(response))
            raise ApiError(response.status_code, path, _problem(response))
