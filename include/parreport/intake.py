"""Client of the Sở Nội vụ report intake (contracts/report-api.yaml)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .http import ApiError, Endpoint, OAuthClient

MAX_BODY = 20 * 1024 * 1024


@dataclass
class Submission:
    status: int  # 201 accepted, 200 replay of an accepted request
    replayed: bool
    receipt: dict


def idempotency_key(agency: str, year: int, quarter: int, version: int, content_sha: str) -> str:
    """Derived from agency, quarter, version and the signed content: the same report always
    travels under the same key, another report never does."""
    key = f"CCHC-{agency}-{year}Q{quarter}-v{version}-{content_sha[:32]}"
    if not (1 <= len(key) <= 255 and all(33 <= ord(c) <= 126 for c in key)):
        raise ValueError(f"khóa Idempotency-Key không hợp lệ: {key!r}")
    return key


class IntakeClient(OAuthClient):
    def __init__(self, endpoint: Endpoint, **kw):
        super().__init__(endpoint, name="Sở Nội vụ", **kw)

    def submit(self, body: dict[str, Any], key: str) -> Submission:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(content) > MAX_BODY:
            raise ApiError(413, "/api/v1/bao-cao", None,
                           f"báo cáo {len(content)} byte vượt giới hạn 20 MiB của Sở Nội vụ")
        # The same body under the same key: a retry after an answer lost or cut short on the way
        # back is answered 200 with the stored receipt (Idempotent-Replayed), never a second report.
        response, receipt = self.send("POST", "/api/v1/bao-cao", content=content, ok=(200, 201),
                                      headers={"Idempotency-Key": key, "Content-Type": "application/json"},
                                      parse_json=True)
        if not isinstance(receipt, dict):
            raise ApiError(response.status_code, "/api/v1/bao-cao", None, "biên nhận không phải đối tượng JSON")
        replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        return Submission(response.status_code, replayed, receipt)

    def versions(self, agency: str, year: int, quarter: int) -> list[dict]:
        body = self.get_json("/api/v1/bao-cao", {"MaDonViBaoCao": agency, "Nam": year, "Quy": quarter})
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ApiError(200, "/api/v1/bao-cao", None, "danh sách phiên bản không có mảng 'data'")
        return data

    def receipt(self, receipt_no: str) -> dict:
        return receipt_body(self.get_json(receipt_path(receipt_no)), receipt_no)


def receipt_path(receipt_no: str) -> str:
    return f"/api/v1/bao-cao/{receipt_no}"


def receipt_body(body: Any, receipt_no: str) -> dict:
    """A BienNhan must be a JSON object."""
    if not isinstance(body, dict):
        raise ApiError(200, receipt_path(receipt_no), None, "biên nhận không phải đối tượng JSON")
    return body
