"""The one HTTP client of the project, for both APIs and the alert webhook, sync and async alike.

- :func:`connection_url` / :meth:`Endpoint.from_connection`: an Airflow connection turned into a
  URL (and the OAuth client id and secret) — the only place that reads host/schema/port.
- :class:`ClientCredentials`: an ``httpx.Auth`` for the OAuth 2.0 client-credentials grant of both
  contracts: a token taken at ``/oauth/token``, sent as ``Bearer``; a call answered 401 (token
  expired or revoked) takes a new token and is repeated once.
- :class:`RetryPolicy`: which failures are transient (connection errors, timeouts, the statuses
  of :data:`TRANSIENT_STATUS`, a 2xx whose JSON body does not parse — a proxy that gave up
  mid-body), how long to wait (the server's ``Retry-After``, capped; else exponential backoff
  with jitter) and how many attempts. tenacity drives the loop, ``Retrying`` or ``AsyncRetrying``.
- :class:`ApiClient` / :class:`AsyncApiClient`: a call with the auth and the policy; returns the
  response (or its JSON body), raises :class:`ApiError` for an answer no retry mends (the
  server's problem details in the message) and :class:`RetriesExhausted` after the last attempt.

Nothing here logs a credential, a token, a query's secret or a response body: log lines name the
service, the method and a path (or, for a webhook, only scheme://host:port).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from . import fmt
from .config import ConfigError

log = logging.getLogger(__name__)

#: The statuses a retry may mend, for every HTTP call of the project.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
TOKEN_PATH = "/oauth/token"

__all__ = ["TRANSIENT_STATUS", "Endpoint", "connection_url", "ApiError", "TransientError", "BodyNotJson",
           "RetriesExhausted", "RetryPolicy", "ClientCredentials", "Call", "ApiClient", "AsyncApiClient", "OAuthClient",
           "async_oauth_client"]


# -- where a service is -------------------------------------------------------------------------
def connection_url(conn: Any, path: str | None = None) -> tuple[str, str]:
    """(URL, origin) of an Airflow connection: ``host`` is a host name or a full URL; ``schema``
    the scheme (``https`` when empty; a schema that is not http/https is a path prefix, as an
    Airflow ``http`` connection may carry one); ``port`` added when the host has none; ``path``
    appended (a webhook's extra path). User info in the host is dropped: credentials live in
    login/password only. ``origin`` (scheme://host[:port]) is the only part ever logged."""
    host = (conn.host or "").strip()
    if not host:
        raise ConfigError(f"kết nối {conn.conn_id!r} thiếu host. Việc cần làm: điền Host (và Port, Schema) của kết "
                          "nối theo README, rồi xóa (Clear) nhiệm vụ để chạy lại.")
    query = ""
    if "://" in host:
        parts = urlsplit(host)
        scheme, netloc, base, query = parts.scheme, parts.netloc, parts.path, parts.query
    else:
        scheme = (conn.schema or "https").strip() or "https"
        netloc, _, base = host.partition("/")
        base = f"/{base}" if base else ""
        if scheme not in ("http", "https"):
            base, scheme = f"/{scheme.strip('/')}{base}", "https"
    netloc = netloc.rpartition("@")[2]
    if conn.port and ":" not in netloc:
        netloc = f"{netloc}:{conn.port}"
    if path:
        base = base.rstrip("/") + "/" + str(path).lstrip("/")
    origin = f"{scheme}://{netloc}"
    return f"{origin}{base}{'?' + query if query else ''}", origin


@dataclass(frozen=True)
class Endpoint:
    """Where an API is and which client credentials it takes (from an Airflow connection)."""

    base_url: str
    client_id: str
    client_secret: str

    @classmethod
    def from_connection(cls, conn: Any) -> "Endpoint":
        """host/port/schema give the base URL (:func:`connection_url`); login/password are the
        OAuth client id and secret."""
        url, _origin = connection_url(conn)
        if not conn.login or not conn.password:
            raise ConfigError(f"kết nối {conn.conn_id!r} thiếu client id (login) hoặc secret (password). Việc cần "
                              "làm: điền Login và Password của kết nối, rồi xóa (Clear) nhiệm vụ để chạy lại.")
        return cls(url.rstrip("/"), conn.login, conn.password)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"


# -- what can go wrong --------------------------------------------------------------------------
_WHAT_TO_DO = {
    400: "máy chủ từ chối yêu cầu (tham số sai). Kiểm tra cấu hình và tham số của lần chạy; nếu đúng, báo người "
         "bảo trì kèm nhật ký nhiệm vụ.",
    401: "máy chủ không nhận thông tin đăng nhập. Kiểm tra client id (Login) và secret (Password) của kết nối "
         "Airflow, rồi xóa (Clear) nhiệm vụ để chạy lại.",
    403: "tài khoản của kết nối không được phép làm việc này (ví dụ báo cáo của đơn vị khác). Kiểm tra kết nối "
         "của đơn vị và mã đơn vị trong cấu hình, rồi xóa (Clear) nhiệm vụ.",
    404: "không có tài nguyên này (mã đơn vị hoặc số biên nhận sai?). Kiểm tra mã đơn vị trong cấu hình, rồi xóa "
         "(Clear) nhiệm vụ.",
    409: "Sở Nội vụ đã có phiên bản khác của báo cáo này. Người vận hành đối chiếu các phiên bản trong kho với "
         "Sở Nội vụ trước khi chạy lại.",
    413: "báo cáo vượt giới hạn 20 MiB của Sở Nội vụ. Báo người bảo trì (tệp đính kèm quá lớn).",
    422: "Sở Nội vụ từ chối nội dung báo cáo (các lỗi ở trên). Báo người bảo trì kèm nhật ký; không gửi lại bằng "
         "tay.",
}
_DEFAULT_ADVICE = ("máy chủ quá tải, bảo trì hoặc không kết nối được. Airflow sẽ tự chạy lại nhiệm vụ theo số lần "
                   "thử lại (retries); nếu vẫn lỗi, hỏi đơn vị vận hành máy chủ rồi xóa (Clear) nhiệm vụ để chạy lại.")
_OTHER_4XX = "máy chủ từ chối yêu cầu. Báo người bảo trì kèm nhật ký nhiệm vụ."
_CONTRACT = ("câu trả lời không đúng hợp đồng API. Airflow sẽ tự chạy lại nhiệm vụ theo số lần thử lại (retries); "
             "nếu vẫn lỗi, báo đơn vị vận hành máy chủ.")


class ApiError(RuntimeError):
    """A call that failed for good: status, the problem details' title/detail (and, for a 422,
    the fields in error), the URL path, and what to do, in Vietnamese."""

    def __init__(self, status: int, path: str, problem: dict | None = None, message: str | None = None):
        self.status = status
        self.path = path
        self.problem = problem or {}
        detail = message or self.problem.get("detail") or self.problem.get("title") or ""
        errors = self.problem.get("errors")
        if isinstance(errors, list) and errors:
            shown = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors[:5] if isinstance(e, dict))
            detail = f"{detail} [{shown}{'; …' if len(errors) > 5 else ''}]"
        if 200 <= status < 300:
            advice = _CONTRACT
        elif status in TRANSIENT_STATUS or status >= 500:
            advice = _DEFAULT_ADVICE
        else:
            advice = _WHAT_TO_DO.get(status, _OTHER_4XX)
        text = f"HTTP {status} tại {path}: {detail}".strip().rstrip(".:")
        super().__init__(f"{text}. Việc cần làm: {advice}")


class TransientError(RuntimeError):
    """One attempt that a later attempt may mend; ``retry_after`` is the server's wish (s)."""

    reason = "lỗi tạm thời"

    def __init__(self, message: str, retry_after: float | None = None, *, reason: str | None = None,
                 detail: str = ""):
        super().__init__(message)
        self.retry_after = retry_after
        self.detail = detail
        if reason:
            self.reason = reason


class BodyNotJson(TransientError):
    """A 2xx whose body is not the JSON it announced (cut short on the way): retried like a 503."""

    reason = "câu trả lời bị cắt ngang (JSON không trọn vẹn)"


_ADVICE = {
    BodyNotJson: ("thường do mạng hoặc proxy ngắt câu trả lời giữa chừng. Airflow sẽ tự chạy lại nhiệm vụ "
                  "theo số lần thử lại (retries); nếu vẫn lỗi, kiểm tra đường truyền/proxy tới máy chủ rồi xóa "
                  "(Clear) nhiệm vụ để chạy lại."),
}


class RetriesExhausted(RuntimeError):
    """Every attempt of one call met a transient failure; the message names the service, the
    call (method, path and, for a listing, the page) and the attempts, in Vietnamese."""

    def __init__(self, service: str, what: str, attempts: int, last: TransientError):
        self.service, self.what, self.attempts, self.last = service, what, attempts, last
        self.retry_after = last.retry_after
        advice = _ADVICE.get(type(last), _DEFAULT_ADVICE)
        detail = f" ({last.detail})" if last.detail else ""
        super().__init__(f"{service}: {what} không thành công sau {attempts} lần thử — lần cuối: {last.reason}"
                         f"{detail}. Việc cần làm: {advice}")


# -- the retry policy ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """How every HTTP call of the project retries a transient failure.

    ``attempts`` in all (1 = no retry); between them the server's ``Retry-After`` (capped at
    ``retry_after_max``), else a random exponential backoff starting near ``backoff`` seconds
    and capped at ``backoff_max``."""

    attempts: int = 8
    backoff: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 300.0

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.retry_after_max)
        return wait_random_exponential(multiplier=self.backoff, max=self.backoff_max)(state)

    def _kwargs(self, before_sleep: Callable | None, on_exhausted: Callable | None) -> dict:
        return {"retry": retry_if_exception_type(TransientError), "stop": stop_after_attempt(max(1, self.attempts)),
                "wait": self.wait, "before_sleep": before_sleep, "retry_error_callback": on_exhausted,
                "reraise": True}

    def retrying(self, before_sleep: Callable | None = None, on_exhausted: Callable | None = None) -> Retrying:
        """tenacity's ``Retrying`` for this policy; ``on_exhausted(state)`` runs (and may raise)
        after the last attempt, else the last exception is raised."""
        return Retrying(**self._kwargs(before_sleep, on_exhausted))

    def async_retrying(self, before_sleep: Callable | None = None,
                       on_exhausted: Callable | None = None) -> AsyncRetrying:
        return AsyncRetrying(**self._kwargs(before_sleep, on_exhausted))


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (the delta-seconds form; a date is ignored)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def problem_of(response: httpx.Response) -> dict:
    try:
        body = response.json()
        return body if isinstance(body, dict) else {}
    except ValueError:
        return {}


def judge(response: httpx.Response, ok: Iterable[int], service: str, what: str, path: str) -> httpx.Response:
    """The response when its status is in ``ok``; TransientError for a status a retry may mend;
    ApiError (with the problem details) for any other."""
    if response.status_code in ok:
        return response
    if response.status_code in TRANSIENT_STATUS:
        raise TransientError(f"{service}: HTTP {response.status_code} tại {what}", retry_after(response),
                             reason=f"HTTP {response.status_code}")
    raise ApiError(response.status_code, path, problem_of(response))


def parse_json(response: httpx.Response, service: str, what: str) -> Any:
    """The body's JSON; a body that does not parse is :class:`BodyNotJson` (transient)."""
    try:
        return response.json()
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise BodyNotJson(f"{service}: HTTP {response.status_code} tại {what} có nội dung không đọc được",
                          detail=f"HTTP {response.status_code}, nhận {fmt.number(len(response.content))} byte") from None


def _transport_error(exc: Exception, service: str, what: str) -> TransientError:
    return TransientError(f"{service}: lỗi kết nối tại {what}: {type(exc).__name__}",
                          reason=f"lỗi kết nối ({type(exc).__name__})")


_NETWORK_ERRORS = (httpx.TransportError, httpx.DecodingError)


# -- OAuth 2.0 client credentials ---------------------------------------------------------------
class ClientCredentials(httpx.Auth):
    """OAuth 2.0 client-credentials flow (both contracts): POST ``/oauth/token`` with the client id
    and secret (form), ``Authorization: Bearer`` on each call, one new token and one repeat of the
    call on a 401. A token answer the policy may retry (429/5xx, a body cut short) raises
    :class:`TransientError`; a refusal raises :class:`ApiError` without the secret. The same
    generator serves ``httpx.Client`` and ``httpx.AsyncClient``; two calls racing for a new token
    at worst take two tokens."""

    requires_response_body = True

    def __init__(self, endpoint: Endpoint, service: str = "api", token_path: str = TOKEN_PATH):
        self._url = endpoint.base_url.rstrip("/") + token_path
        self._path = token_path
        self._form = {"grant_type": "client_credentials", "client_id": endpoint.client_id,
                      "client_secret": endpoint.client_secret}
        self._service = service
        self._token: str | None = None
        self.tokens_taken = 0
        self.refreshes = 0

    def _token_request(self) -> httpx.Request:
        return httpx.Request("POST", self._url, data=self._form)

    def _read_token(self, response: httpx.Response) -> str:
        what = f"POST {self._path}"
        if response.status_code in TRANSIENT_STATUS:
            judge(response, (), self._service, what, self._path)  # raises TransientError
        if response.status_code != 200:
            raise ApiError(response.status_code, self._path, problem_of(response),
                           "không lấy được token (kiểm tra client id/secret của kết nối)")
        body = parse_json(response, self._service, what)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str) or not body["access_token"]:
            raise ApiError(200, self._path, None, "câu trả lời token không có access_token")
        self.tokens_taken += 1
        return body["access_token"]

    def auth_flow(self, request: httpx.Request):
        if self._token is None:
            self._token = self._read_token((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            # expired or revoked: a new token, and the call once more
            self.refreshes += 1
            self._token = self._read_token((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request


# -- the clients --------------------------------------------------------------------------------
@dataclass
class Call:
    """One call as the clients make it: what is sent, which statuses are answers, how it is
    named in messages (``label``, e.g. "trang 3", is added; ``shown`` replaces the path, for a
    URL that holds a secret), and whether the body must be JSON (then a 2xx whose body does not
    parse is retried like a 503)."""

    service: str
    method: str
    path: str
    params: dict | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict | None = None
    ok: tuple[int, ...] = (200,)
    label: str | None = None
    shown: str | None = None
    parse_json: bool = False

    @property
    def what(self) -> str:
        return f"{self.method} {self.shown or self.path}" + (f" ({self.label})" if self.label else "")

    def request_kwargs(self) -> dict:
        return {"params": self.params, "json": self.json, "content": self.content, "headers": self.headers}

    def network_error(self, exc: Exception) -> TransientError:
        return _transport_error(exc, self.service, self.what)

    def outcome(self, response: httpx.Response) -> tuple[httpx.Response, Any]:
        judge(response, self.ok, self.service, self.what, self.shown or self.path)
        return response, (parse_json(response, self.service, self.what) if self.parse_json else None)

    def exhausted(self, state: RetryCallState):
        """tenacity's ``retry_error_callback``: the last transient failure, told in full."""
        last = state.outcome.exception() if state.outcome else None
        raise RetriesExhausted(self.service, self.what, state.attempt_number, last) from last


class _Base:
    def __init__(self, *, base_url: str = "", auth: httpx.Auth | None = None, name: str = "api",
                 policy: RetryPolicy | None = None, timeout: float = 60.0, max_attempts: int | None = None,
                 backoff_max: float | None = None):
        policy = policy or RetryPolicy()
        if max_attempts is not None:
            policy = RetryPolicy(max_attempts, policy.backoff, policy.backoff_max, policy.retry_after_max)
        if backoff_max is not None:
            policy = RetryPolicy(policy.attempts, min(policy.backoff, backoff_max), backoff_max,
                                 policy.retry_after_max)
        self.name, self.policy, self.auth = name, policy, auth
        self._base_url, self._timeout = base_url, timeout
        self._requests = self._retries = 0

    @property
    def stats(self) -> dict:
        refreshes = getattr(self.auth, "refreshes", 0)
        return {"requests": self._requests, "retries": self._retries, "token_refreshes": refreshes}

    def _before_sleep(self, state: RetryCallState) -> None:
        self._retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.warning("%s: thử lại lần %d sau %.1f s (%s)", self.name, state.attempt_number + 1,
                    state.upcoming_sleep, exc)

    def _call(self, method: str, path: str, ok: Iterable[int] = (200,), **kw) -> Call:
        return Call(self.name, method, path, ok=tuple(ok), **kw)


class ApiClient(_Base):
    """Synchronous calls with an auth (OAuth, Basic, none) and the retry policy."""

    def __init__(self, *, transport: httpx.BaseTransport | None = None, follow_redirects: bool = False, **kw):
        super().__init__(**kw)
        self._http = httpx.Client(base_url=self._base_url, timeout=self._timeout, auth=self.auth,
                                  transport=transport, follow_redirects=follow_redirects)

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, method: str, path: str, **kw) -> tuple[httpx.Response, Any]:
        """One call (keywords: the fields of :class:`Call`), retried by the policy:
        (response, its JSON when ``parse_json`` else None)."""
        call = self._call(method, path, **kw)
        return self.policy.retrying(self._before_sleep, call.exhausted)(self._attempt, call)

    def _attempt(self, call: Call) -> tuple[httpx.Response, Any]:
        self._requests += 1
        try:
            response = self._http.request(call.method, call.path, **call.request_kwargs())
        except _NETWORK_ERRORS as exc:
            raise call.network_error(exc) from None
        return call.outcome(response)

    def request(self, method: str, path: str, **kw) -> httpx.Response:
        """:meth:`send` without parsing: the response."""
        return self.send(method, path, **kw)[0]

    def get_json(self, path: str, params: dict | None = None, *, label: str | None = None) -> Any:
        return self.send("GET", path, params=params, label=label, parse_json=True)[1]


class AsyncApiClient(_Base):
    """The same on ``httpx.AsyncClient`` (the receipt trigger runs in the triggerer's event loop)."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None, **kw):
        super().__init__(**kw)
        self._http = httpx.AsyncClient(base_url=self._base_url, timeout=self._timeout, auth=self.auth,
                                       transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    async def send(self, method: str, path: str, **kw) -> tuple[httpx.Response, Any]:
        call = self._call(method, path, **kw)
        return await self.policy.async_retrying(self._before_sleep, call.exhausted)(self._attempt, call)

    async def _attempt(self, call: Call) -> tuple[httpx.Response, Any]:
        self._requests += 1
        try:
            response = await self._http.request(call.method, call.path, **call.request_kwargs())
        except _NETWORK_ERRORS as exc:
            raise call.network_error(exc) from None
        return call.outcome(response)

    async def get_json(self, path: str, params: dict | None = None, *, label: str | None = None) -> Any:
        return (await self.send("GET", path, params=params, label=label, parse_json=True))[1]


class OAuthClient(ApiClient):
    """An API of the contracts: the endpoint's base URL, client-credentials auth, the policy."""

    def __init__(self, endpoint: Endpoint, *, name: str = "api", **kw):
        self.endpoint = endpoint
        super().__init__(base_url=endpoint.base_url, auth=ClientCredentials(endpoint, name), name=name, **kw)


def async_oauth_client(endpoint: Endpoint, *, name: str = "api", **kw) -> AsyncApiClient:
    """:class:`OAuthClient`'s asynchronous twin."""
    return AsyncApiClient(base_url=endpoint.base_url, auth=ClientCredentials(endpoint, name), name=name, **kw)
