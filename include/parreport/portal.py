"""Client of the provincial portal's statistics API (contracts/portal-api.yaml).

Follows every cursor to the end (token, Retry-After and retries: see http.py); yields the pages
as received. A cursor lives 15 minutes: when a long Retry-After or a slow page outlives it, the
portal answers 400 "cursor expired" and the listing is read again from its first page — up to
``max_restarts`` times, then :class:`ListingRestartsExhausted`. A restarted listing starts again
at page 1 (``Page.number == 1``): the consumer drops what it kept of the aborted reading. It does
not judge the data: extract.py strips personal data and checks the counts.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .http import ApiError, Endpoint, OAuthClient
from .periods import Window

log = logging.getLogger(__name__)

MAX_LISTING_RESTARTS = 3
_EXPIRED = re.compile(r"expir|hết hạn|het-han", re.IGNORECASE)


@dataclass
class Page:
    endpoint: str
    number: int
    params: dict[str, Any]
    data: list[Any]
    tong_so: int | None = None
    next_cursor: str | None = None
    reading: int = 1  # 1 for the first reading of the listing, 2 after one restart, …


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
                body = self._get_json(path, query, label=f"trang {number + 1}")
            except ApiError as exc:
                if cursor is not None and is_cursor_expired(exc):
                    raise CursorExpired(str(number + 1)) from None
                raise
            number += 1
            next_cursor = body.get("next_cursor")
            tong_so = body.get("tong_so") if number == 1 else None
            if number == 1 and not (isinstance(tong_so, int) and not isinstance(tong_so, bool)):
                raise ApiError(200, path, None, "trang đầu thiếu 'tong_so' (số nguyên) như hợp đồng API")
            yield Page(path, number, {k: v for k, v in query.items() if k != "cursor"}, body["data"],
                       tong_so, next_cursor, reading)
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
