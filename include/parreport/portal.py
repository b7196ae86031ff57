"""Client of the provincial portal's statistics API (contracts/portal-api.yaml).

Follows every cursor to the end (token, Retry-After and retries: see http.py); yields the pages
as received. A cursor lives 15 minutes: when a long Retry-After or a slow page outlives it, the
portal answers 400 "cursor expired" and the listing is read again from its first page — up to
``max_restarts`` times, then :class:`ListingRestartsExhausted`. A restarted listing starts again
at page 1 (``Page.number == 1``): the consumer drops what it kept of the aborted reading. It does
not judge the data: extract.py strips personal data and checks the counts.

A listing page is read without decoding its records: only the envelope is parsed (msgspec), and
the ``data`` array is kept as the JSON text received (``Page.raw``), so extraction can cut the
personal data out of the text instead of decoding and re-encoding every record. A body that
does not parse (cut short) is retried like a 503; ``Page.data`` decodes the records on demand.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
import json
from dataclasses import dataclass
from typing import Any

import httpx

from .http import ApiError, Call, Endpoint, OAuthClient, judge, parse_json
from .periods import Window

log = logging.getLogger(__name__)

MAX_LISTING_RESTARTS = 3
_EXPIRED = re.compile(r"expir|hết hạn|het-han", re.IGNORECASE)


@dataclass
class Page:
    endpoint: str
    number: int
    params: dict[str, Any]
    items: list[Any] | None  # the records, decoded; None while only ``raw`` is kept
    tong_so: int | None = None
    next_cursor: str | None = None
    reading: int = 1  # 1 for the first reading of the listing, 2 after one restart, …
    raw: bytes | None = None  # the ``data`` array's JSON text as received (listing pages)

    @property
    def data(self) -> list[Any]:
        """The records, decoded (from ``raw`` on first use)."""
        if self.items is None:
            self.items = decode_json(self.raw)
        return self.items


def decode_json(text: bytes | str) -> Any:
    """JSON by msgspec (several times faster than the standard library, same values); what it
    refuses (NaN, Infinity) by the standard library."""
    try:
        return _decode(text)
    except ValueError:
        return json.loads(text)


@dataclass
class _Listing:
    """A listing page's envelope: the ``data`` array's text, ``next_cursor``, ``tong_so``."""
    raw: bytes | None
    items: list | None
    next_cursor: Any
    tong_so: Any


def listing_body(response: httpx.Response, service: str, what: str, path: str) -> _Listing:
    """The envelope of a listing page, the records left undecoded. A body the fast reader
    refuses is read by the standard library (NaN, Infinity), and one that does not parse at
    all is :class:`http.BodyNotJson` (cut short: retried)."""
    try:
        env = _ENVELOPE.decode(response.content)
    except ValueError:
        env = None
    if env is not None:
        data = bytes(env["data"]) if "data" in env else b""
        if data.startswith(b"["):
            return _Listing(data, None, _raw_value(env.get("next_cursor")), _raw_value(env.get("tong_so")))
        body: Any = {k: _raw_value(v) for k, v in env.items()}
    else:
        body = parse_json(response, service, what)
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ApiError(200, path, None, "câu trả lời không có mảng 'data' như hợp đồng API")
    return _Listing(None, body["data"], body.get("next_cursor"), body.get("tong_so"))


def _raw_value(raw) -> Any:
    return None if raw is None else decode_json(bytes(raw))


@dataclass
class _ListingCall(Call):
    """A GET of a listing page: its envelope is parsed inside the retry loop (a cut body is retried)."""

    def outcome(self, response: httpx.Response) -> tuple[httpx.Response, _Listing]:
        judge(response, self.ok, self.service, self.what, self.shown or self.path)
        return response, listing_body(response, self.service, self.what, self.shown or self.path)


try:  # msgspec comes with Airflow
    import msgspec
    from msgspec.json import decode as _decode

    _ENVELOPE = msgspec.json.Decoder(dict[str, msgspec.Raw])
except ImportError:  # pragma: no cover
    _decode = json.loads

    class _NoEnvelope:
        def decode(self, _content):
            raise ValueError("msgspec is not installed")

    _ENVELOPE = _NoEnvelope()


class CursorExpired(Exception):
    """The portal refused a cursor as expired (internal: the listing is read again)."""


class ListingRestartsExhausted(RuntimeError):
    """Every reading of a listing met an expired cursor."""

    def __init__(self, path: str, readings: int, page: int):
        self.path, self.readings, self.page = path, readings, page
        super().__init__(
            f"cổng DVC: danh sách GET {path} phải đọc lại từ đầu vì con trỏ phân trang (cursor) hết hạn, "
            f"{readings} lần liên tiếp (lần cuối ở trang {page}); hợp đồng API cho con trỏ hiệu lực 15 phút, "
            "nhưng cổng trả lời chậm hoặc bắt chờ (Retry-After) lâu hơn thế. Việc cần làm: Airflow sẽ tự chạy "
            "lại nhiệm vụ theo số lần thử lại (retries); nếu vẫn lỗi, chờ cổng ổn định (hỏi đơn vị vận hành "
            "cổng) rồi xóa (Clear) nhiệm vụ để chạy lại.")


def is_cursor_expired(exc: ApiError) -> bool:
    """A 400 whose problem details say the cursor expired (type, title, detail or code)."""
    if exc.status != 400:
        return False
    p = exc.problem
    text = " ".join(str(p.get(k) or "") for k in ("type", "title", "detail", "code"))
    return bool(_EXPIRED.search(text))


class PortalClient(OAuthClient):
    def __init__(self, endpoint: Endpoint, *, page_size: int = 500, max_restarts: int = MAX_LISTING_RESTARTS,
                 **kw):
        super().__init__(endpoint, name="cổng DVC", **kw)
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size phải trong khoảng 1–1000")
        self.page_size = page_size
        self.max_restarts = max_restarts
        self.restarts = 0

    @property
    def stats(self) -> dict:
        return {**super().stats, "listing_restarts": self.restarts}

    def _call(self, method: str, path: str, ok=(200,), listing: bool = False, **kw) -> Call:
        return (_ListingCall if listing else Call)(self.name, method, path, ok=tuple(ok), **kw)

    def _get_json(self, path: str, params: dict[str, Any], label: str | None = None) -> dict:
        body = self.get_json(path, params, label=label)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ApiError(200, path, None, "câu trả lời không có mảng 'data' như hợp đồng API")
        return body

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[Page]:
        """Every page of a cursor-paged listing, in delivery order; after an expired cursor the
        listing is read again from page 1 (bounded by ``max_restarts``)."""
        reading = 1
        while True:
            try:
                yield from self._reading(path, params, reading)
                return
            except CursorExpired as exc:
                page = int(str(exc))
                if reading > self.max_restarts:
                    raise ListingRestartsExhausted(path, reading, page) from None
                log.warning("cổng DVC: con trỏ của GET %s hết hạn ở trang %d: đọc lại danh sách từ đầu (lần %d)",
                            path, page, reading + 1)
                self.restarts += 1
                reading += 1

    def _reading(self, path: str, params: dict[str, Any], reading: int) -> Iterator[Page]:
        cursor: str | None = None
        number = 0
        seen_cursors: set[str] = set()
        while True:
            query = {**params, "limit": self.page_size}
            if cursor is not None:
                query["cursor"] = cursor
            try:
                body: _Listing = self.send("GET", path, params=query, label=f"trang {number + 1}", listing=True)[1]
            except ApiError as exc:
                if cursor is not None and is_cursor_expired(exc):
                    raise CursorExpired(str(number + 1)) from None
                raise
            number += 1
            next_cursor = body.next_cursor
            tong_so = body.tong_so if number == 1 else None
            if number == 1 and not (isinstance(tong_so, int) and not isinstance(tong_so, bool)):
                raise ApiError(200, path, None, "trang đầu thiếu 'tong_so' (số nguyên) như hợp đồng API")
            yield Page(path, number, {k: v for k, v in query.items() if k != "cursor"}, body.items,
                       tong_so, next_cursor, reading, raw=body.raw)
            if next_cursor is None:
                return
            if not isinstance(next_cursor, str) or next_cursor in seen_cursors:
                raise ApiError(200, path, None, f"next_cursor không hợp lệ hoặc lặp lại ở trang {number}")
            seen_cursors.add(next_cursor)
            cursor = next_cursor

    # -- the endpoints -----------------------------------------------------------------------
    def units(self, agency: str) -> Page:
        body = self._get_json("/api/v1/don-vi", {"ma_don_vi": agency})
        return Page("/api/v1/don-vi", 1, {"ma_don_vi": agency}, body["data"])

    def procedures(self, agency: str) -> Iterator[Page]:
        return self.pages("/api/v1/thu-tuc", {"ma_don_vi": agency})

    def dossiers(self, agency: str, window: Window) -> Iterator[Page]:
        return self.pages("/api/v1/ho-so", {"ma_don_vi": agency, "tu_ngay": window.start_ts,
                                            "den_ngay": window.end_ts})

    def ratings(self, agency: str, window: Window) -> Iterator[Page]:
        return self.pages("/api/v1/danh-gia", {"ma_don_vi": agency, "tu_ngay": window.start_ts,
                                               "den_ngay": window.end_ts})

    def bieu06(self, agency: str, window: Window) -> Page:
        params = {"ma_don_vi": agency, "tu_ngay": window.start_ts, "den_ngay": window.end_ts}
        body = self._get_json("/api/v1/thong-ke/bieu-06", params)
        return Page("/api/v1/thong-ke/bieu-06", 1, params, body["data"])
