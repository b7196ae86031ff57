"""The portal and intake clients against scripted servers (httpx.MockTransport): tokens,
expiry, Retry-After, backoff, cursors, tong_so, and clear failures."""
from __future__ import annotations

import json

import httpx
import pytest

from parreport.extract import IncompleteExtract, extract_dataset, read_records
from parreport.http import (
    TRANSIENT_STATUS,
    ApiError,
    ClientCredentials,
    Endpoint,
    RetriesExhausted,
    RetryPolicy,
    async_oauth_client,
)
from parreport.intake import IntakeClient, idempotency_key
from parreport.periods import window_for
from parreport.portal import ListingRestartsExhausted, PortalClient

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
        fault = self.faults.pop(0) if self.faults else None
        if fault == "expire":
            self.tokens.clear()
        elif isinstance(fault, int):
            return httpx.Response(fault, headers={"Retry-After": "0"}, json={"status": fault})
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return httpx.Response(401, json={"title": "token expired", "status": 401})
        cursor = request.url.params.get("cursor")
        if fault == "cursor-expired" and cursor is not None:
            return httpx.Response(400, headers={"Content-Type": "application/problem+json"}, json={
                "type": "https://portal.example.vn/problems/cursor-expired", "title": "Bad Request",
                "status": 400, "detail": "cursor expired"})
        start = int(cursor or 0)
        chunk = self.records[start:start + self.page]
        nxt = start + self.page
        body = {"data": chunk, "next_cursor": str(nxt) if nxt < len(self.records) else None}
        if start == 0:
            body["tong_so"] = self.tong_so
        if fault == "truncate":  # a proxy that gives up mid-body: a complete response of fewer bytes
            raw = json.dumps(body).encode()
            return httpx.Response(200, content=raw[:len(raw) // 2], headers={"Content-Type": "application/json"})
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


# -- bodies cut short, expired cursors (issue 9) ------------------------------------------------
def test_a_200_whose_json_is_cut_short_is_retried_like_a_503(tmp_path):
    script = Script([dossier(i) for i in range(5)], faults=[None, "truncate", "truncate", None])
    with client_for(script) as c:
        result = extract_dataset(c, "dossiers", "A", W, tmp_path)
        assert c.stats["retries"] == 2
    assert result.delivered == result.tong_so == 5 and result.pages == 3
    assert [r["MaHoSo"] for r in read_records(result.raw_dir)] == [f"H{i}" for i in range(5)]


def test_a_body_cut_short_on_every_attempt_fails_in_vietnamese_naming_endpoint_page_and_attempts():
    script = Script([dossier(i) for i in range(5)], faults=[None] + ["truncate"] * 10)
    with client_for(script, max_attempts=4) as c:
        with pytest.raises(RetriesExhausted) as err:
            list(c.dossiers("A", W))
    message = str(err.value)
    assert "GET /api/v1/ho-so (trang 2)" in message and "sau 4 lần thử" in message
    assert "bị cắt ngang" in message and "Việc cần làm" in message and "Unterminated" not in message
    assert err.value.attempts == 4 and not isinstance(err.value, ValueError)
    assert len([1 for m, p in script.calls if p == "/api/v1/ho-so"]) == 5  # page 1, then 4 tries of page 2


def test_an_expired_cursor_restarts_the_listing_and_only_the_completed_reading_is_kept(tmp_path):
    # pages of 2: page 1 and 2 read, page 3 refused (cursor expired), then a complete reading
    script = Script([dossier(i) for i in range(5)], faults=[None, None, "cursor-expired"])
    with client_for(script) as c:
        result = extract_dataset(c, "dossiers", "A", W, tmp_path)
        assert c.stats["listing_restarts"] == 1
    assert result.restarts == 1 and result.pages == 3
    assert result.delivered == result.tong_so == 5  # the completed reading, not 5 + 4 of the aborted one
    assert sorted(p.name for p in (tmp_path / "dossiers").glob("page-*.json")) == [
        "page-00001.json", "page-00002.json", "page-00003.json"]
    assert [r["MaHoSo"] for r in read_records(result.raw_dir)] == [f"H{i}" for i in range(5)]
    firsts = [p for m, p in script.calls if p == "/api/v1/ho-so"]
    assert len(firsts) == 6  # 2 pages + the refused one + 3 pages


def test_expired_cursors_restart_a_bounded_number_of_times_then_fail_clearly(tmp_path):
    script = Script([dossier(i) for i in range(5)], faults=[None, "cursor-expired"] * 10)
    with client_for(script, max_restarts=2) as c:
        with pytest.raises(ListingRestartsExhausted) as err:
            extract_dataset(c, "dossiers", "A", W, tmp_path)
    assert err.value.readings == 3 and "/api/v1/ho-so" in str(err.value)
    assert "hết hạn" in str(err.value) and "Việc cần làm" in str(err.value)
    assert len([1 for m, p in script.calls if p == "/api/v1/ho-so"]) == 6


def test_another_400_on_a_cursor_is_not_a_restart():
    def handler(request):
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t"})
        if request.url.params.get("cursor"):
            return httpx.Response(400, json={"type": "x/invalid-cursor", "status": 400, "detail": "cursor không hợp lệ"})
        return httpx.Response(200, json={"data": [dossier(1)], "next_cursor": "c1", "tong_so": 2})

    with PortalClient(EP, transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(ApiError, match="cursor không hợp lệ") as err:
            list(c.dossiers("A", W))
    assert err.value.status == 400 and c.restarts == 0


# -- the OAuth flow and the one policy --------------------------------------------------------------
def test_token_endpoint_answers_that_a_retry_may_mend_are_retried():
    answers = [httpx.Response(503, headers={"Retry-After": "0"}),
               httpx.Response(200, content=b'{"access_tok'),  # cut short
               httpx.Response(200, json={"access_token": "good"})]
    seen = []

    def handler(request):
        if request.url.path == "/oauth/token":
            return answers.pop(0)
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"data": []})

    with PortalClient(EP, transport=httpx.MockTransport(handler), backoff_max=0.01) as c:
        assert c.units("A").data == []
        assert c.stats["retries"] == 2
    assert seen == ["Bearer good"]


def test_retry_after_is_honoured_and_capped():
    policy = RetryPolicy(attempts=3, backoff=0.01, backoff_max=0.02, retry_after_max=5)

    class State:
        def __init__(self, exc):
            self.outcome = type("O", (), {"exception": lambda _self: exc})()
            self.attempt_number = 1

    from parreport.http import TransientError

    assert policy.wait(State(TransientError("x", retry_after=3))) == 3
    assert policy.wait(State(TransientError("x", retry_after=3600))) == 5
    assert 0 <= policy.wait(State(TransientError("x"))) <= 0.02


def test_one_list_of_retryable_statuses():
    import parreport.alerts as alerts
    import parreport.alerts.notifiers as notifiers

    assert TRANSIENT_STATUS == {408, 429, 500, 502, 503, 504}
    assert not hasattr(alerts, "TRANSIENT_STATUS") and not hasattr(notifiers, "TRANSIENT_STATUS")  # http.py's


def test_the_async_client_takes_a_token_renews_it_on_401_and_retries():
    import asyncio

    tokens = iter(["t1", "t2"])
    calls = []

    def handler(request):
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": next(tokens)})
        calls.append(request.headers["Authorization"])
        if len(calls) == 1:
            return httpx.Response(401, json={"title": "expired"})
        if len(calls) == 2:
            return httpx.Response(503, headers={"Retry-After": "0"})
        return httpx.Response(200, json={"MaTiepNhan": "R1"})

    async def run():
        async with async_oauth_client(EP, transport=httpx.MockTransport(handler),
                                      policy=RetryPolicy(attempts=3, backoff=0.001)) as client:
            body = await client.get_json("/api/v1/bao-cao/R1")
            return body, client.stats

    body, stats = asyncio.run(run())
    assert body == {"MaTiepNhan": "R1"} and calls == ["Bearer t1", "Bearer t2", "Bearer t2"]
    assert stats["token_refreshes"] == 1 and stats["retries"] == 1


def test_the_auth_is_one_httpx_auth_and_logs_no_secret(caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    script = Script([dossier(i) for i in range(3)], faults=[503, "truncate", None, "expire"])
    with client_for(script) as c:
        assert isinstance(c.auth, ClientCredentials)
        assert sum(len(p.data) for p in c.dossiers("A", W)) == 3
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "secret" not in logged and "Bearer" not in logged and "t0" not in logged.split()
    assert "Nguyễn" not in logged  # no body


def test_client_errors_say_what_to_do():
    err = ApiError(401, "/oauth/token", {"detail": "client_id hoặc client_secret không đúng."})
    assert "Việc cần làm" in str(err) and "Login" in str(err) and ".." not in str(err)
    err = ApiError(422, "/api/v1/bao-cao", {"detail": "Báo cáo không hợp lệ: 2 lỗi.",
                                             "errors": [{"field": "ChuKy", "message": "sai"},
                                                        {"field": "PhienBan", "message": "thiếu"}]})
    assert "ChuKy: sai" in str(err) and "PhienBan: thiếu" in str(err)
