"""Client of the provincial portal's statistics API (contracts/portal-api.yaml).

Follows every cursor to the end, refreshes the token when it expires, honours Retry-After and
retries transient failures (see http.py); yields the pages as received. It does not judge the
data: extract.py strips personal data and checks the counts.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .http import ApiError, Endpoint, OAuthClient
from .periods import Window


@dataclass
class Page:
    endpoint: str
    number: int
    params: dict[str, Any]
    data: list[Any]
    tong_so: int | None = None
    next_cursor: str | None = None


@dataclass
class ListingCheck:
    endpoint: str
    tong_so: int | None
    delivered: int
    pages: int
    problems: list[str] = field(default_factory=list)


class PortalClient(OAuthClient):
    def __init__(self, endpoint: Endpoint, *, page_size: int = 500, **kw):
        super().__init__(endpoint, name="cổng DVC", **kw)
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size phải trong khoảng 1–1000")
        self.page_size = page_size

    def _get_json(self, path: str, params: dict[str, Any]) -> dict:
        body = self.request("GET", path, params=params).json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ApiError(200, path, None, "câu trả lời không có mảng 'data' như hợp đồng API")
        return body

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[Page]:
        """Every page of a cursor-paged listing, in delivery order."""
        cursor: str | None = None
        number = 0
        seen_cursors: set[str] = set()
        while True:
            query = {**params, "limit": self.page_size}
            if cursor is not None:
                query["cursor"] = cursor
            body = self._get_json(path, query)
            number += 1
            next_cursor = body.get("next_cursor")
            tong_so = body.get("tong_so") if number == 1 else None
            if number == 1 and not (isinstance(tong_so, int) and not isinstance(tong_so, bool)):
                raise ApiError(200, path, None, "trang đầu thiếu 'tong_so' (số nguyên) như hợp đồng API")
            yield Page(path, number, {k: v for k, v in query.items() if k != "cursor"}, body["data"],
                       tong_so, next_cursor)
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
