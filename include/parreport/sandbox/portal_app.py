"""The portal (source system) of portal-api.yaml, serving a generated :class:`Dataset`.

Choices where the contract leaves room (the most literal reading is taken):

- Order: every listing has one stable order. /thu-tuc by MaTTHC; /danh-gia by MaDanhGia (which
  follows NgayDanhGia); /ho-so in the dataset's delivery order (by submission, with stale
  duplicate copies placed some hundreds of records before or after the true one, so that they
  land on other pages).
- ``tong_so`` counts every record the whole listing holds, stale duplicate copies included,
  i.e. exactly the number of records a client receives by following the cursor to the end.
- The query parameters are required on every page, also with ``cursor``, and must be the same
  as on the first page (else 400). An expired cursor (older than ``cursor_ttl``, 15 minutes by
  default) or one that is not ours is 400.
- An unknown ``ma_don_vi`` is 404 on /don-vi (the contract says so) and an empty result
  elsewhere (no other status is listed for it).
- ``tu_ngay``/``den_ngay`` must be real instants and tu_ngay <= den_ngay (else 400).
- /oauth/token answers 401 for anything that is not a valid client-credentials grant (the
  contract lists no 400 there).
- Faults (429/503) are decided before authentication, as a gateway in front of the API would;
  a 2xx answer cut short (``rate_truncate``/``truncate``) after it; /oauth/token and /_sandbox/*
  never fail by fault. The ``cursor_ttl`` fault shortens the cursor lifetime; ``expire_cursors``
  answers chosen cursor-bearing requests as if their cursor had expired.
- The /_sandbox/* endpoints are not part of the contract: an inspection aid for tests.
- Speed: a listing page's ``data`` array is serialised once, on its first request, and kept
  as bytes (:class:`_PageCache`, bounded by ``page_cache_bytes``); later requests for the same
  page (same query, offset and limit) answer those bytes with a fresh cursor, as a real portal
  serving pre-serialised pages would. The bytes are exactly what ``JSONResponse`` writes.
- A province (:class:`~parreport.sandbox.province.Province`) is served like one dataset: each
  unit code is answered from the agency whose tree holds it. ``failing_agencies`` makes /ho-so
  answer a fixed status (403 by default) for every unit of those agencies, so that one agency's
  branch of a province-wide run fails while the others go on.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections import OrderedDict
from http import HTTPStatus
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from ..timeutil import BadTimestamp, parse_ts
from .common import (
    FaultInjector,
    FaultSettings,
    Problem,
    TokenIssuer,
    install_problem_handlers,
    install_token_route,
    install_truncation,
)
from .dataset import Dataset
from .province import Province

_TS = re.compile(r"^[0-9]{14}$")
_INT = re.compile(r"^[0-9]{1,7}$")


@dataclass
class PortalSettings:
    clients: dict[str, str]  # client_id -> client_secret
    token_ttl: int = 300
    cursor_ttl: float = 900.0
    faults: FaultSettings = field(default_factory=FaultSettings)
    deliver_duplicates: bool = True  # stale copies of the dataset delivered within /ho-so listings
    clock: Callable[[], float] = time.monotonic  # token and cursor expiry
    request_log_size: int = 10_000
    failing_agencies: dict[str, int] = field(default_factory=dict)  # agency -> status of its /ho-so
    page_cache_bytes: int = 1536 * 2**20  # serialised listing pages kept (least recently used dropped)


class _Listings:
    """Listing results cached by query; cursors are signed (offset, query, expiry)."""

    def __init__(self, ttl: float, clock: Callable[[], float]):
        self.ttl, self.clock = ttl, clock
        self.key = secrets.token_bytes(32)
        self.cache: OrderedDict[str, np.ndarray | list] = OrderedDict()

    def get(self, query_key: str, compute):
        if query_key in self.cache:
            self.cache.move_to_end(query_key)
            return self.cache[query_key]
        value = compute()
        self.cache[query_key] = value
        while len(self.cache) > 32:
            self.cache.popitem(last=False)
        return value

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self.key, payload, hashlib.sha256).hexdigest()[:24]

    def encode(self, query_key: str, offset: int) -> str:
        payload = json.dumps({"q": hashlib.sha256(query_key.encode()).hexdigest()[:16], "o": offset,
                              "x": round(self.clock() + self.ttl, 3)}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + self._sign(payload)

    def decode(self, cursor: str, query_key: str, expired: bool = False) -> int:
        try:
            body, sig = cursor.rsplit(".", 1)
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            ok = hmac.compare_digest(sig, self._sign(payload))
            data = json.loads(payload) if ok else None
        except (ValueError, json.JSONDecodeError):
            data = None
        if not data:
            raise Problem(400, "Bad Request", "cursor không hợp lệ.", "invalid-cursor")
        if data["q"] != hashlib.sha256(query_key.encode()).hexdigest()[:16]:
            raise Problem(400, "Bad Request", "cursor không thuộc truy vấn này (tham số khác trang đầu).",
                          "invalid-cursor")
        if expired or self.clock() > data["x"]:
            raise Problem(400, "Bad Request", "cursor đã hết hạn (hiệu lực 15 phút); hãy đọc lại từ đầu.",
                          "cursor-expired")
        return int(data["o"])


def _json_bytes(value) -> bytes:
    """``value`` serialised exactly as ``JSONResponse`` does."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


class _PageCache:
    """The serialised ``data`` array of listing pages by (query, offset, end), least recently
    used dropped beyond ``max_bytes``. Pages are pure functions of the dataset (which does not
    change while served) and of their place in the listing, so a kept page is the page."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.size = max_bytes, 0
        self.pages: OrderedDict[tuple, bytes] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, key: tuple, build: Callable[[], bytes]) -> bytes:
        body = self.pages.get(key)
        if body is not None:
            self.hits += 1
            self.pages.move_to_end(key)
            return body
        self.misses += 1
        body = build()
        if len(body) <= self.max_bytes:
            self.pages[key] = body
            self.size += len(body)
            while self.size > self.max_bytes:
                self.size -= len(self.pages.popitem(last=False)[1])
        return body


def _required(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if value is None or value == "":
        raise Problem(400, "Bad Request", f"Thiếu tham số bắt buộc {name}.", "invalid-parameter")
    return value


def _timestamp(request: Request, name: str) -> str:
    value = _required(request, name)
    if not _TS.match(value):
        raise Problem(400, "Bad Request", f"{name} phải có dạng yyyyMMddHHmmss (14 chữ số): {value!r}.",
                      "invalid-parameter")
    try:
        parse_ts(value)
    except BadTimestamp:
        raise Problem(400, "Bad Request", f"{name} không phải thời điểm có thật: {value!r}.", "invalid-parameter")
    return value


def _window(request: Request) -> tuple[str, str]:
    tu, den = _timestamp(request, "tu_ngay"), _timestamp(request, "den_ngay")
    if tu > den:
        raise Problem(400, "Bad Request", "tu_ngay phải không muộn hơn den_ngay.", "invalid-parameter")
    return tu, den


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return 100
    if not _INT.match(raw) or not 1 <= int(raw) <= 1000:
        raise Problem(400, "Bad Request", f"limit phải là số nguyên từ 1 đến 1000: {raw!r}.", "invalid-parameter")
    return int(raw)


def _failing_agency(dataset: Dataset | Province, settings: PortalSettings, unit: str) -> None:
    """The fault ``failing_agencies``: a unit of a failing agency gets that agency's status."""
    agency = dataset.agency_of(unit)
    status = settings.failing_agencies.get(agency) if agency else None
    if status:
        raise Problem(status, HTTPStatus(status).phrase,
                      f"Cổng DVC không phục vụ hồ sơ của đơn vị {agency} (lỗi giả lập của sandbox).", "agency-failing")


def create_portal_app(dataset: Dataset | Province, settings: PortalSettings) -> FastAPI:
    app = FastAPI(title="Sandbox — cổng dịch vụ công (portal-api.yaml)", docs_url=None, redoc_url=None,
                  openapi_url=None)
    install_problem_handlers(app)
    tokens = TokenIssuer(settings.clients, settings.token_ttl, settings.faults.token_max_calls, settings.clock)
    faults = FaultInjector(settings.faults, dataset.config.seed, "portal")
    cursor_ttl = settings.faults.cursor_ttl if settings.faults.cursor_ttl is not None else settings.cursor_ttl
    listings = _Listings(cursor_ttl, settings.clock)
    page_cache = _PageCache(settings.page_cache_bytes)
    log: list[dict] = []
    app.state.dataset, app.state.settings, app.state.faults, app.state.tokens = dataset, settings, faults, tokens
    app.state.request_log = log
    app.state.page_cache = page_cache

    @app.middleware("http")
    async def _log_requests(request: Request, call_next):
        response = await call_next(request)
        if not request.url.path.startswith("/_sandbox"):
            log.append({"n": len(log) + 1, "method": request.method, "path": request.url.path,
                        "query": dict(request.query_params), "status": response.status_code})
            del log[:-settings.request_log_size]
        return response

    install_truncation(app, faults)

    def guard(request: Request) -> str:
        faults.check()
        return tokens.authenticate(request.headers.get("authorization"))

    def page(request: Request, query_key: str, compute, materialise) -> Response:
        """One page of a listing: ``{"data": [...], "next_cursor": ..., "tong_so": ...}`` (tong_so
        on the first page only), byte for byte what ``JSONResponse`` would write; the ``data``
        array comes serialised from the page cache."""
        limit = _limit(request)
        cursor = request.query_params.get("cursor")
        items = listings.get(query_key, compute)
        offset = 0 if cursor is None else listings.decode(cursor, query_key, faults.expire_cursor())
        end = min(offset + limit, len(items))
        data = page_cache.get((query_key, offset, end),
                              lambda: _json_bytes(materialise(items[offset:end])))
        next_cursor = listings.encode(query_key, end) if end < len(items) else None
        tail = b',"next_cursor":' + (_json_bytes(next_cursor) if next_cursor else b"null")
        if cursor is None:
            tail += b',"tong_so":' + str(int(len(items))).encode()
        return Response(b'{"data":' + data + tail + b"}", media_type="application/json")

    install_token_route(app, tokens)

    @app.get("/api/v1/don-vi")
    async def don_vi(request: Request):
        guard(request)
        root = _required(request, "ma_don_vi")
        scope = dataset.scope(root)
        if scope is None:
            raise Problem(404, "Not Found", f"Không có đơn vị {root!r}.", "unknown-unit")
        units = {u["MaDonVi"]: u for u in dataset.units}
        return JSONResponse({"data": [units[c] for c in scope]})

    @app.get("/api/v1/thu-tuc")
    async def thu_tuc(request: Request):
        guard(request)
        unit = _required(request, "ma_don_vi")
        key = f"thu-tuc|{unit}"
        return page(request, key, lambda: dataset.procedures_of(unit), list)

    @app.get("/api/v1/ho-so")
    async def ho_so(request: Request):
        guard(request)
        unit = _required(request, "ma_don_vi")
        tu, den = _window(request)
        _failing_agency(dataset, settings, unit)
        key = f"ho-so|{unit}|{tu}|{den}"
        return page(request, key, lambda: dataset.listing(unit, tu, den, settings.deliver_duplicates),
                    dataset.deliveries)

    @app.get("/api/v1/danh-gia")
    async def danh_gia(request: Request):
        guard(request)
        unit = _required(request, "ma_don_vi")
        tu, den = _window(request)
        key = f"danh-gia|{unit}|{tu}|{den}"
        return page(request, key, lambda: dataset.ratings_in(unit, tu, den),
                    lambda js: [dataset.rating(int(j)) for j in js])

    @app.get("/api/v1/thong-ke/bieu-06")
    async def bieu_06(request: Request):
        guard(request)
        unit = _required(request, "ma_don_vi")
        tu, den = _window(request)
        return JSONResponse({"data": dataset.portal_bieu06(unit, tu, den)})

    # ---------------------------------------------------------------- inspection (not in the contract)
    @app.get("/_sandbox/requests")
    async def sandbox_requests():
        return {"data": log}

    @app.get("/_sandbox/faults")
    async def sandbox_faults():
        return {"calls": faults.calls, "injected": [{"call": c, "status": s} for c, s in faults.injected],
                "answers": faults.answers, "truncated": faults.truncated, "expired_cursors": faults.expired,
                "page_cache": {"pages": len(page_cache.pages), "bytes": page_cache.size, "hits": page_cache.hits,
                               "misses": page_cache.misses}}

    @app.get("/_sandbox/health")
    async def sandbox_health():
        return {"status": "ok", "dossiers": len(dataset), "seed": dataset.config.seed,
                "agencies": dataset.agencies}

    return app
