"""The portal and intake clients against scripted servers (httpx.MockTransport): tokens,
expiry, Retry-After, backoff, cursors, tong_so, and clear failures."""
from __future__ import annotations

import json

import httpx
import pytest

from parreport.extract import IncompleteExtract, extract_dataset, read_records
from parreport.http import ApiError, Endpoint
from parreport.intake import IntakeClient, idempotency_key
from parreport.periods import window_for
from parreport.portal import PortalClient

EP = Endpoint("http://127.0.0.1:1", "client", "secret")
W = window_for(2025, 1)


class Script:
    """A tiny portal: tokens that can expire, a paged /ho-so and injectable faults."""

    def __init__(self, records, page=2, faults=None, tong_so=None):
        self.records, self.page, self.faults = records, page, list(faults or [])
        self.tong_so = len(records) if tong_so is None else tong_so
        self.tokens: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path))
        if request.url.path == "/oauth/token":
            form = dict(x.split("=") for x in request.content.decode().split("&"))
            if form.get("client_secret") != "secret" or form.get("grant_type") != "client_credentials":
                return httpx.Response(401, json={"title": "invalid_client", "status": 401})
            token = f"t{len(self.tokens)}"
            self.tokens.add(token)
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "expires_in": 300})
        if self.faults:
            fault = self.faults.pop(0)
            if fault == "expire":
                self.tokens.clear()
            elif fault is not None:
                return httpx.Response(fault, headers={"Retry-After": "0"}, json={"status": fault})
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return httpx.Response(401, json={"title": "token expired", "status": 401})
        start = int(request.url.params.get("cursor") or 0)
        chunk = self.records[start:start + self.page]
        nxt = start + self.page
        body = {"data": chunk, "next_cursor": str(nxt) if nxt < len(self.records) else None}
        if start == 0:
            body["tong_so"] = self.tong_so
        return httpx.Response(200, json=body)


def client_for(script, **kw) -> PortalClient:
    return PortalClient(EP, page_size=2, transport=httpx.MockTransport(script), backoff_max=0.01, **kw)


def dossier(i: int, **extra) -> dict:
    return {"MaHoSo": f"H{i}", "MaTTHC": "1.1", "DonViXuLy": "A", "TrangThaiHoSo": "2",
            "NgayCapNhat": "20250101000000", "ChuHoSo": f"Nguyễn Văn {i}", "SoDienThoai": "0905123456",
            "Email": "a@b.vn", "DiaChi": "Huế", "SoGiayToChuHoSo": "046123456789",
            "TrichYeuHoSo": "Đơn của ông A", **extra}


def test_follows_every_cursor_and_checks_tong_so(tmp_path):
    script = Script([dossier(i) for i in range(5)])
    with client_for(script) as c:
        result = extract_dataset(c, "dossiers", "A", W, tmp_path)
    assert result.delivered == 5 and result.tong_so == 5 and result.pages == 3
    got = list(read_records(result.raw_dir))
    assert [r["MaHoSo"] for r in got] == [f"H{i}" for i in range(5)]


def test_personal_data_never_reaches_disk(tmp_path):
    rec = dossier(1, TaiLieuNop=[{"TenTepDinhKem": "CCCD_NguyenVanA.pdf", "DuocSoHoa": "1"}],
                  DanhSachGiayToKetQua=[{"TenGiayTo": "Quyết định", "DuongDanTep": "https://x/NguyenVanA.pdf"}],
                  TruongLa="bí mật")
    with client_for(Script([rec])) as c:
        result = extract_dataset(c, "dossiers", "A", W, tmp_path)
    text = "".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.json"))
    for secret in ("Nguyễn Văn", "0905123456", "a@b.vn", "046123456789", "Đơn của ông", "NguyenVanA", "bí mật"):
        assert secret not in text
    kept = next(read_records(result.raw_dir))
    assert kept["TaiLieuNop"] == [{"DuocSoHoa": "1"}]
    assert kept["DanhSachGiayToKetQua"][0]["DuongDanTep"]  # presence survives, the link does not
    assert {"ChuHoSo", "TruongLa", "TaiLieuNop[].TenTepDinhKem"} <= set(result.dropped_fields)


def test_fewer_records_than_tong_so_fails_clearly(tmp_path):
    with client_for(Script([dossier(i) for i in range(3)], tong_so=4)) as c:
        with pytest.raises(IncompleteExtract, match="tong_so=4"):
            extract_dataset(c, "dossiers", "A", W, tmp_path)


def test_expired_token_is_refreshed_and_the_call_repeated():
    script = Script([dossier(i) for i in range(4)], faults=[None, "expire"])
    with client_for(script) as c:
        pages = list(c.dossiers("A", W))
        assert sum(len(p.data) for p in pages) == 4
        assert c.stats["token_refreshes"] == 1
    assert [p for m, p in script.calls].count("/oauth/token") == 2


def test_retry_after_and_transient_errors_are_retried():
    script = Script([dossier(i) for i in range(2)], faults=[503, 429, 502])
    with client_for(script) as c:
        pages = list(c.dossiers("A", W))
        assert len(pages[0].data) == 2 and c.stats["retries"] == 3


def test_gives_up_after_bounded_attempts():
    script = Script([dossier(1)], faults=[503] * 10)
    with client_for(script, max_attempts=3) as c:
        with pytest.raises(Exception, match="503"):
            list(c.dossiers("A", W))
    assert len([1 for m, p in script.calls if p == "/api/v1/ho-so"]) == 3


def test_client_errors_fail_at_once_with_the_problem_detail():
    def handler(request):
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 300})
        return httpx.Response(400, json={"title": "Bad Request", "status": 400, "detail": "tu_ngay sai"})

    with PortalClient(EP, transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(ApiError, match="tu_ngay sai") as err:
            list(c.dossiers("A", W))
    assert err.value.status == 400


def test_bad_credentials_are_reported_without_the_secret():
    with PortalClient(Endpoint("http://127.0.0.1:1", "client", "wrong-secret"),
                      transport=httpx.MockTransport(Script([]))) as c:
        with pytest.raises(ApiError) as err:
            c.units("A")
    assert err.value.status == 401 and "wrong-secret" not in str(err.value)


def test_intake_submit_sends_the_key_and_reads_replays():
    seen = {}

    def handler(request):
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 300})
        seen["key"] = request.headers["Idempotency-Key"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, headers={"Idempotent-Replayed": "true"}, json={"MaTiepNhan": "R1"})

    key = idempotency_key("000.00.20.H57", 2025, 1, 1, "ab" * 32)
    with IntakeClient(EP, transport=httpx.MockTransport(handler)) as c:
        result = c.submit({"MaBaoCao": "CCHC_QUY", "Tên": "Sở"}, key)
    assert result.replayed and result.receipt["MaTiepNhan"] == "R1"
    assert seen["key"] == key and seen["body"]["Tên"] == "Sở"
    assert key.startswith("CCHC-000.00.20.H57-2025Q1-v1-") and len(key) <= 255


def test_endpoint_from_connection_shapes():
    class C:
        conn_id, host, port, schema, login, password = "dvc_portal", "127.0.0.1", 8081, "http", "id", "s"

    assert Endpoint.from_connection(C()).base_url == "http://127.0.0.1:8081"
    C.host, C.port, C.schema = "https://portal.example.vn/api-root", None, ""
    assert Endpoint.from_connection(C()).base_url == "https://portal.example.vn/api-root"
    C.login = None
    with pytest.raises(ValueError, match="client id"):
        Endpoint.from_connection(C())
