"""Pieces shared by the two sandbox servers: problem responses, OAuth tokens, fault injection."""
from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://sandbox.parreport.invalid/problems/"


def problem(status: int, title: str, detail: str, kind: str | None = None, headers: dict | None = None,
            **extra) -> JSONResponse:
    """An RFC 9457 problem details response."""
    body = {"type": PROBLEM_BASE + kind if kind else "about:blank", "title": title, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class Problem(Exception):
    """Raised inside a handler; turned into a problem response."""

    def __init__(self, status: int, title: str, detail: str, kind: str | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(detail)
        self.status, self.title, self.detail, self.kind, self.headers, self.extra = status, title, detail, kind, headers, extra

    def response(self) -> JSONResponse:
        return problem(self.status, self.title, self.detail, self.kind, self.headers, **self.extra)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error of the app answers application/problem+json; request validation is 400."""

    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem):
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        details = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return problem(400, "Bad Request", f"Tham số không hợp lệ: {details}", "invalid-parameter")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        return problem(exc.status_code, str(exc.detail), str(exc.detail), headers=getattr(exc, "headers", None))


# ------------------------------------------------------------------------------------------ faults
@dataclass
class FaultSettings:
    """Switchable faults, deterministic from the seed and the call number.

    rate_503 / rate_429: probability per API call; schedule: call number (1-based, counted over
    the API calls the fault layer sees) -> status forced for that call; retry_after: the
    ``Retry-After`` seconds sent with 429/503; token_max_calls: a token stops working (401)
    after that many successful API calls (a forced early expiry), whatever ``expires_in`` said.

    rate_truncate / truncate: a 2xx answer of the API cut short mid-body (a proxy that gives up),
    sent as a complete response of fewer bytes, so the client meets JSON that does not parse:
    a probability per answer, and answer numbers (1-based, counted over the 2xx answers of the
    API, ``/oauth/token`` and ``/_sandbox`` excluded) always cut. cursor_ttl: the portal's cursor
    lifetime in seconds, instead of the contract's 15 minutes; expire_cursors: numbers of the
    requests that carry a cursor (1-based) answered "cursor expired" whatever its age — the same
    outcome as a Retry-After that outlived it, without the wait.
    """

    rate_503: float = 0.0
    rate_429: float = 0.0
    schedule: dict[int, int] = field(default_factory=dict)
    retry_after: int = 1
    token_max_calls: int | None = None
    rate_truncate: float = 0.0
    truncate: set[int] = field(default_factory=set)
    cursor_ttl: float | None = None
    expire_cursors: set[int] = field(default_factory=set)

    @classmethod
    def parse(cls, spec: str | dict | None) -> "FaultSettings":
        """From a dict or a spec string: ``rate_503=0.05,rate_429=0.02,retry_after=1,
        token_max_calls=40,schedule=503@1|429@2,rate_truncate=0.08,truncate=3|7,cursor_ttl=2,
        expire_cursors=2|5``."""
        if spec is None or spec == "":
            return cls()
        if isinstance(spec, FaultSettings):
            return spec
        if isinstance(spec, str):
            items = dict(part.split("=", 1) for part in spec.split(",") if part.strip())
        else:
            items = dict(spec)
        out = cls()
        for key, value in items.items():
            key = key.strip()
            if key == "schedule":
                if isinstance(value, dict):
                    out.schedule = {int(k): int(v) for k, v in value.items()}
                else:
                    out.schedule = {int(call): int(status) for status, call in
                                    (entry.split("@") for entry in str(value).split("|") if entry)}
            elif key in ("truncate", "expire_cursors"):
                items_ = value if isinstance(value, (list, set, tuple)) else str(value).split("|")
                setattr(out, key, {int(n) for n in items_ if str(n).strip()})
            elif key in ("rate_503", "rate_429", "rate_truncate"):
                setattr(out, key, float(value))
            elif key == "cursor_ttl":
                out.cursor_ttl = None if value in (None, "", "none") else float(value)
            elif key in ("retry_after", "token_max_calls"):
                setattr(out, key, None if value in (None, "", "none") else int(value))
            else:
                raise ValueError(f"unknown fault setting {key!r}")
        return out


class FaultInjector:
    def __init__(self, settings: FaultSettings, seed: int, name: str):
        self.settings, self.seed, self.name = settings, seed, name
        self.calls = 0
        self.injected: list[tuple[int, int]] = []
        self.answers = 0
        self.truncated: list[int] = []
        self.cursor_calls = 0
        self.expired: list[int] = []

    def check(self) -> None:
        """Count one API call; raise a 429/503 Problem when a fault is due."""
        self.calls += 1
        s = self.settings
        status = s.schedule.get(self.calls)
        if status is None and (s.rate_503 or s.rate_429):
            u = random.Random(f"{self.seed}:{self.name}:{self.calls}").random()
            status = 503 if u < s.rate_503 else 429 if u < s.rate_503 + s.rate_429 else None
        if status is None:
            return
        self.injected.append((self.calls, status))
        headers = {"Retry-After": str(s.retry_after)}
        if status == 429:
            raise Problem(429, "Too Many Requests", "Quá nhiều yêu cầu; thử lại sau Retry-After giây.",
                          "rate-limited", headers)
        raise Problem(status, "Service Unavailable", "Hệ thống tạm thời không phục vụ; thử lại sau Retry-After giây.",
                      "unavailable", headers)

    def expire_cursor(self) -> bool:
        """Count one request that carries a cursor; True when it is to be answered "expired"."""
        self.cursor_calls += 1
        if self.cursor_calls in self.settings.expire_cursors:
            self.expired.append(self.cursor_calls)
            return True
        return False

    def cut(self, body: bytes) -> bytes | None:
        """Count one 2xx API answer; the first bytes of ``body`` when this answer is to be cut short."""
        self.answers += 1
        s = self.settings
        due = self.answers in s.truncate
        rnd = random.Random(f"{self.seed}:{self.name}:cut:{self.answers}")
        if not due and s.rate_truncate:
            due = rnd.random() < s.rate_truncate
        if not due or len(body) < 2:
            return None
        self.truncated.append(self.answers)
        return body[:rnd.randint(1, len(body) - 1)]


def install_truncation(app: FastAPI, faults: FaultInjector) -> None:
    """Cut 2xx answers of the API short as ``faults`` decides (not /oauth/token, not /_sandbox).
    Installed only when the fault is switched on: otherwise answers stream as they are."""
    if not (faults.settings.rate_truncate or faults.settings.truncate):
        return

    @app.middleware("http")
    async def _truncate(request: Request, call_next):
        response = await call_next(request)
        path = request.url.path
        if not 200 <= response.status_code < 300 or path.startswith("/_sandbox") or path == "/oauth/token":
            return response
        body = b"".join([chunk async for chunk in response.body_iterator])
        cut = faults.cut(body)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return Response(content=body if cut is None else cut, status_code=response.status_code, headers=headers)


# ------------------------------------------------------------------------------------------ OAuth
@dataclass
class _Token:
    client_id: str
    expires_at: float
    calls: int = 0


class TokenIssuer:
    """OAuth 2.0 client-credentials tokens kept in memory.

    A token answers 401 once ``expires_in`` seconds have passed (or after
    ``FaultSettings.token_max_calls`` API calls), until a new one is taken.
    """

    def __init__(self, secrets_by_client: dict[str, str], ttl: int, max_calls: int | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.secrets = dict(secrets_by_client)
        self.ttl, self.max_calls, self.clock = ttl, max_calls, clock
        self.tokens: dict[str, _Token] = {}

    def issue_from_form(self, form) -> dict:
        grant = form.get("grant_type")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if grant != "client_credentials":
            raise Problem(401, "Unauthorized", "grant_type phải là client_credentials (form-urlencoded).",
                          "invalid-client")
        expected = self.secrets.get(client_id) if isinstance(client_id, str) else None
        if expected is None or not isinstance(secret, str) or not secrets.compare_digest(expected.encode(), secret.encode()):
            raise Problem(401, "Unauthorized", "client_id hoặc client_secret không đúng.", "invalid-client")
        token = secrets.token_urlsafe(32)
        now = self.clock()
        # forget expired tokens now and then
        self.tokens = {k: v for k, v in self.tokens.items() if v.expires_at > now}
        self.tokens[token] = _Token(client_id, now + self.ttl)
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(self.ttl)}

    def authenticate(self, authorization: str | None) -> str:
        """The client id of a valid bearer token; raises a 401 Problem otherwise."""
        challenge = {"WWW-Authenticate": 'Bearer realm="sandbox"'}
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Problem(401, "Unauthorized", "Thiếu access token (Authorization: Bearer ...).", "unauthorized",
                          challenge)
        token = self.tokens.get(authorization[7:].strip())
        if token is None:
            raise Problem(401, "Unauthorized", "Access token không hợp lệ.", "unauthorized", challenge)
        if self.clock() >= token.expires_at:
            raise Problem(401, "Unauthorized", "Access token đã hết hạn; hãy lấy token mới.", "token-expired",
                          challenge)
        if self.max_calls is not None and token.calls >= self.max_calls:
            raise Problem(401, "Unauthorized", "Access token đã bị thu hồi; hãy lấy token mới.", "token-expired",
                          challenge)
        token.calls += 1
        return token.client_id


def install_token_route(app: FastAPI, tokens: TokenIssuer) -> None:
    """POST /oauth/token: the client-credentials grant both contracts specify, the same way."""

    @app.post("/oauth/token")
    async def oauth_token(request: Request):
        form = await request.form() if request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded") else {}
        return JSONResponse(tokens.issue_from_form(form), headers={"Cache-Control": "no-store"})
