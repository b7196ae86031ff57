"""The sandbox portal (portal-api.yaml) over a small generated dataset, plus one real-socket run."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from parreport.periods import window_for
from parreport.report.signing import generate_keypair, sign_body
from parreport.sandbox.common import FaultSettings
from parreport.sandbox.generator import GeneratorConfig, generate
from parreport.sandbox.portal_app import PortalSettings, create_portal_app
from parreport.sandbox.runner import run_sandbox
from parreport.timeutil import BadTimestamp, parse_ts
from tests.support.fakes import Clock

CLIENTS = {"etl": "s3cret"}
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def ds():
    return generate(GeneratorConfig(seed=11, dossiers_per_quarter=400))


def make_client(ds, **settings) -> TestClient:
    return TestClient(create_portal_app(ds, PortalSettings(clients=CLIENTS, **settings)))


def token(client: TestClient, client_id="etl", secret="s3cret") -> dict:
    r = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                          "client_secret": secret})
    return r


def auth(client: TestClient) -> dict:
    return {"Authorization": "Bearer " + token(client).json()["access_token"]}


def follow(client: TestClient, path: str, params: dict, headers: dict) -> tuple[list[dict], list[dict]]:
    pages, data = [], []
    cursor = None
    while True:
        q = dict(params, **({"cursor": cursor} if cursor else {}))
        r = client.get(path, params=q, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body)
        data += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            return data, pages


def test_oauth(ds):
    client = make_client(ds)
    r = token(client, secret="wrong")
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    assert {"type", "title", "status", "detail"} <= r.json().keys()
    assert token(client, client_id="nobody").status_code == 401
    r = client.post("/oauth/token", json={"grant_type": "client_credentials", "client_id": "etl",
                                          "client_secret": "s3cret"})
    assert r.status_code == 401  # form-encoded only
    r = token(client)
    assert r.status_code == 200
    assert r.json()["token_type"] == "Bearer" and r.json()["expires_in"] == 300
    assert client.get("/api/v1/don-vi", params={"ma_don_vi": ds.agency}).status_code == 401
    r = client.get("/api/v1/don-vi", params={"ma_don_vi": ds.agency}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)


def test_token_expiry(ds):
    clock = Clock(1000.0)
    client = make_client(ds, token_ttl=2, clock=clock)
    assert token(client).json()["expires_in"] == 2
    headers = auth(client)
    assert client.get("/api/v1/don-vi", params={"ma_don_vi": ds.agency}, headers=headers).status_code == 200
    clock.now += 2.5
    for _ in range(2):
        assert client.get("/api/v1/don-vi", params={"ma_don_vi": ds.agency}, headers=headers).status_code == 401
    assert client.get("/api/v1/don-vi", params={"ma_don_vi": ds.agency}, headers=auth(client)).status_code == 200


def test_don_vi(ds):
    client = make_client(ds)
    h = auth(client)
    r = client.get("/api/v1/don-vi", params={"ma_don_vi": ds.agency}, headers=h)
    assert [u["MaDonVi"] for u in r.json()["data"]] == ds.unit_codes
    centre = "000.10.20.H57"
    codes = [u["MaDonVi"] for u in client.get("/api/v1/don-vi", params={"ma_don_vi": centre}, headers=h).json()["data"]]
    assert codes[0] == centre and len(codes) == 3
    r = client.get("/api/v1/don-vi", params={"ma_don_vi": "000.99.99.H99"}, headers=h)
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    assert client.get("/api/v1/don-vi", headers=h).status_code == 400


def test_thu_tuc_paging(ds):
    client = make_client(ds)
    data, pages = follow(client, "/api/v1/thu-tuc", {"ma_don_vi": ds.agency, "limit": 7}, auth(client))
    assert pages[0]["tong_so"] == len(ds.procedures) == len(data)
    assert all("tong_so" not in p for p in pages[1:]) and pages[-1]["next_cursor"] is None
    assert [p["MaTTHC"] for p in data] == sorted(p["MaTTHC"] for p in ds.procedures)


@pytest.mark.parametrize("params", [
    {"tu_ngay": "20250101000000", "den_ngay": "20250331235959"},  # missing ma_don_vi
    {"ma_don_vi": "000.00.20.H57", "tu_ngay": "2025010100000", "den_ngay": "20250331235959"},
    {"ma_don_vi": "000.00.20.H57", "tu_ngay": "20250230000000", "den_ngay": "20250331235959"},
    {"ma_don_vi": "000.00.20.H57", "den_ngay": "20250331235959"},
    {"ma_don_vi": "000.00.20.H57", "tu_ngay": "20250401000000", "den_ngay": "20250331235959"},
    {"ma_don_vi": "000.00.20.H57", "tu_ngay": "20250101000000", "den_ngay": "20250331235959", "limit": "0"},
    {"ma_don_vi": "000.00.20.H57", "tu_ngay": "20250101000000", "den_ngay": "20250331235959", "limit": "1001"},
    {"ma_don_vi": "000.00.20.H57", "tu_ngay": "20250101000000", "den_ngay": "20250331235959", "limit": "ten"},
    {"ma_don_vi": "000.00.20.H57", "tu_ngay": "20250101000000", "den_ngay": "20250331235959", "cursor": "bogus"},
])
@pytest.mark.parametrize("path", ["/api/v1/ho-so", "/api/v1/danh-gia"])
def test_bad_parameters_are_400(ds, path, params):
    client = make_client(ds)
    r = client.get(path, params=params, headers=auth(client))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(PROBLEM) and r.json()["status"] == 400


def test_bieu06_endpoint(ds):
    client = make_client(ds)
    w = window_for(2025, 1)
    h = auth(client)
    r = client.get("/api/v1/thong-ke/bieu-06", params={"ma_don_vi": ds.agency, "tu_ngay": w.start_ts,
                                                       "den_ngay": w.end_ts}, headers=h)
    assert r.status_code == 200 and r.json()["data"] == ds.portal_bieu06(ds.agency, w.start_ts, w.end_ts)
    assert r.json()["data"][-1]["MaLinhVuc"] == "TONG"
    assert client.get("/api/v1/thong-ke/bieu-06", params={"ma_don_vi": ds.agency}, headers=h).status_code == 400


def _ts(moment) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def reference_active(rec: dict, owner_in_scope: bool, tu: str, den: str) -> bool:
    """portal-api.yaml's /ho-so rule, read independently over an emitted record."""
    if not owner_in_scope:
        return False

    def read(name):
        try:
            value = parse_ts(rec.get(name))
        except BadTimestamp:
            return "unreadable"
        return None if value is None else _ts(value)

    status = rec.get("TrangThaiHoSo")
    if status in ("1", "3"):
        nop = read("NgayNopHoSo")
        return nop in (None, "unreadable") or tu <= nop <= den
    t, k = read("NgayTiepNhan"), read("NgayKetThucXuLy")
    if t in (None, "unreadable"):
        return True
    if t > den:
        return False
    if status in ("7", "8", "9", "10"):
        return k in (None, "unreadable") or k >= tu
    return True


def test_ho_so_paging_and_window_rule(ds):
    client = make_client(ds)
    w = window_for(2025, 2)
    params = {"ma_don_vi": ds.agency, "tu_ngay": w.start_ts, "den_ngay": w.end_ts, "limit": 250}
    data, pages = follow(client, "/api/v1/ho-so", params, auth(client))
    assert pages[0]["tong_so"] == len(data) and len(pages) > 2
    assert all("tong_so" not in p for p in pages[1:])
    assert data == ds.listing_records(ds.agency, w.start_ts, w.end_ts)
    expected = {rec["MaHoSo"] for rec in ds.iter_dossiers()
                if reference_active(rec, True, w.start_ts, w.end_ts)}
    assert {r["MaHoSo"] for r in data} == expected
    # the boundaries, by the window's own cases
    got = {r["MaHoSo"] for r in data}
    cases = [b for b in ds.boundary_cases if (b.rule, b.year, b.quarter) == ("nd09", 2025, 2)]
    inside = {"T_eq_S", "T_eq_S_minus_1", "T_eq_E", "K_eq_S", "K_eq_E", "K_eq_E_plus_1", "H_on_E_date",
              "H_day_after_E"}
    for b in cases:
        assert (b.ma_ho_so in got) == (b.kind in inside), b
    # a received dossier of T = E + 1 s is out unless it was unreadable; one finished at S - 1 s is out
    one = timedelta(seconds=1)
    assert not any(r.get("NgayTiepNhan") == _ts(w.end + one) and r.get("TrangThaiHoSo") not in ("1", "3")
                   for r in data)
    assert not any(r.get("NgayKetThucXuLy") == _ts(w.start - one) and r.get("TrangThaiHoSo") in ("7", "8", "9", "10")
                   and r.get("NgayTiepNhan") for r in data if r["MaHoSo"] not in ds.invalid)


def test_ho_so_sub_unit_scope(ds):
    client = make_client(ds)
    w = window_for(2025, 2)
    centre = "000.10.20.H57"
    data, _ = follow(client, "/api/v1/ho-so", {"ma_don_vi": centre, "tu_ngay": w.start_ts, "den_ngay": w.end_ts,
                                                "limit": 1000}, auth(client))
    units = {r.get("DonViXuLy") for r in data if r["MaHoSo"] not in ds.invalid}
    assert units == set(ds.scope(centre)) and len(units) == 3


def test_duplicates_on_other_pages(ds):
    client = make_client(ds)
    w = window_for(2025, 4)
    params = {"ma_don_vi": ds.agency, "tu_ngay": w.start_ts, "den_ngay": w.end_ts, "limit": 100}
    _, pages = follow(client, "/api/v1/ho-so", params, auth(client))
    where: dict[str, list[int]] = {}
    for n, p in enumerate(pages):
        for rec in p["data"]:
            where.setdefault(rec["MaHoSo"], []).append(n)
    twice = {ma: ps for ma, ps in where.items() if len(ps) > 1}
    assert twice and any(len(set(ps)) > 1 for ps in twice.values())
    assert pages[0]["tong_so"] == sum(len(ps) for ps in where.values())
    client2 = make_client(ds, deliver_duplicates=False)
    data, _ = follow(client2, "/api/v1/ho-so", params, auth(client2))
    assert len(data) == len({r["MaHoSo"] for r in data}) == len(where)


def test_danh_gia(ds):
    client = make_client(ds)
    w = window_for(2025, 3)
    params = {"ma_don_vi": ds.agency, "tu_ngay": w.start_ts, "den_ngay": w.end_ts, "limit": 100}
    data, pages = follow(client, "/api/v1/danh-gia", params, auth(client))
    assert pages[0]["tong_so"] == len(data)
    dates = {r["NgayDanhGia"] for r in data}
    assert w.start_ts in dates and w.end_ts in dates and _ts(w.end + timedelta(seconds=1)) not in dates
    unreadable = [r for r in data if r["MaDanhGia"] in ds.invalid_ratings
                  and ds.invalid_ratings[r["MaDanhGia"]] == {"bad_timestamp"}]
    assert unreadable  # included in every window
    # scope: own DonViXuLy or the rated dossier's
    unit = "000.05.20.H57"
    sub, _ = follow(client, "/api/v1/danh-gia", dict(params, ma_don_vi=unit, limit=1000), auth(client))
    scope = set(ds.scope(unit))
    for r in sub:
        assert r["DonViXuLy"] in scope or ds.dossier_by_id(r["MaHoSo"])["DonViXuLy"] in scope


def test_cursor_expiry_and_mismatch(ds):
    clock = Clock(1000.0)
    client = make_client(ds, cursor_ttl=900, token_ttl=10_000, clock=clock)
    h = auth(client)
    w = window_for(2025, 2)
    params = {"ma_don_vi": ds.agency, "tu_ngay": w.start_ts, "den_ngay": w.end_ts, "limit": 10}
    cursor = client.get("/api/v1/ho-so", params=params, headers=h).json()["next_cursor"]
    r = client.get("/api/v1/ho-so", params=dict(params, cursor=cursor, tu_ngay="20250316000000"), headers=h)
    assert r.status_code == 400
    clock.now += 899
    assert client.get("/api/v1/ho-so", params=dict(params, cursor=cursor), headers=h).status_code == 200
    clock.now += 2
    r = client.get("/api/v1/ho-so", params=dict(params, cursor=cursor), headers=h)
    assert r.status_code == 400 and "cursor-expired" in r.json()["type"]


def test_faults_with_retry_after(ds):
    client = make_client(ds, faults=FaultSettings.parse("schedule=503@1|429@2,retry_after=2"))
    h = auth(client)
    params = {"ma_don_vi": ds.agency}
    r1 = client.get("/api/v1/don-vi", params=params, headers=h)
    r2 = client.get("/api/v1/don-vi", params=params, headers=h)
    r3 = client.get("/api/v1/don-vi", params=params, headers=h)
    assert (r1.status_code, r2.status_code, r3.status_code) == (503, 429, 200)
    assert r1.headers["retry-after"] == "2" and r2.headers["retry-after"] == "2"
    assert r1.headers["content-type"].startswith(PROBLEM)
    # rates are deterministic from the seed
    def statuses():
        c = make_client(ds, faults=FaultSettings(rate_503=0.3, rate_429=0.2))
        hh = auth(c)
        return [c.get("/api/v1/don-vi", params=params, headers=hh).status_code for _ in range(30)]
    first = statuses()
    assert first == statuses() and {200, 429, 503} <= set(first)


def test_forced_token_expiry(ds):
    client = make_client(ds, faults=FaultSettings(token_max_calls=2))
    h = auth(client)
    codes = [client.get("/api/v1/don-vi", params={"ma_don_vi": ds.agency}, headers=h).status_code for _ in range(3)]
    assert codes == [200, 200, 401]
    assert client.get("/api/v1/don-vi", params={"ma_don_vi": ds.agency}, headers=auth(client)).status_code == 200


def test_refuses_other_hosts():
    r = subprocess.run([sys.executable, "-m", "parreport.sandbox", "serve", "--host", "0.0.0.0"],
                       capture_output=True, text=True, timeout=60,
                       env={"SANDBOX_PORTAL_CLIENTS": "{}", "SANDBOX_INTAKE_CLIENTS": "{}", "PATH": ""})
    assert r.returncode == 2 and "127.0.0.1" in r.stderr


def test_real_sockets_with_the_runner():
    private, public = generate_keypair()
    with run_sandbox(seed=5, dossiers_per_quarter=150, token_ttl=60, public_keys={"k1": public},
                     review_delay=0.2) as sb:
        assert sb.portal_url.startswith("http://127.0.0.1:") and sb.intake_url.startswith("http://127.0.0.1:")
        cid, secret = sb.portal_client
        with httpx.Client(base_url=sb.portal_url, timeout=30) as http:
            tok = http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": cid,
                                                  "client_secret": secret}).json()["access_token"]
            w = window_for(2025, 1)
            r = http.get("/api/v1/ho-so", params={"ma_don_vi": "000.00.20.H57", "tu_ngay": w.start_ts,
                                                  "den_ngay": w.end_ts, "limit": 5},
                         headers={"Authorization": f"Bearer {tok}"})
            assert r.status_code == 200 and len(r.json()["data"]) == 5
            expected = generate(GeneratorConfig(seed=5, dossiers_per_quarter=150))
            assert r.json()["tong_so"] == len(expected.listing(expected.agency, w.start_ts, w.end_ts))
        icid, isecret, agency = sb.intake_client
        from tests.support.reports import minimal_report
        body = sign_body(minimal_report(agency), private, "k1")
        with httpx.Client(base_url=sb.intake_url, timeout=30) as http:
            tok = http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": icid,
                                                  "client_secret": isecret}).json()["access_token"]
            r = http.post("/api/v1/bao-cao", content=json.dumps(body),
                          headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": "run-1",
                                   "Content-Type": "application/json"})
            assert r.status_code == 201, r.text
        accepted = sb.accepted()
        assert len(accepted) == 1 and accepted[0]["body"] == body and accepted[0]["idempotency_key"] == "run-1"
        assert [e["status"] for e in sb.intake_requests()] == [201]
        process = sb.process
    assert process.poll() is not None


def test_a_listing_page_is_serialised_once_and_served_as_jsonresponse_would(ds):
    """The page cache: reading a listing twice serialises each page once; the second reading
    is the same records, byte for byte what JSONResponse writes, with fresh cursors; a page
    cache too small to keep a page still answers it."""
    w = window_for(2025, 1)
    params = {"ma_don_vi": ds.agency, "tu_ngay": w.start_ts, "den_ngay": w.end_ts, "limit": 100}
    for cache_bytes, hits in ((64 * 2**20, True), (10, False)):
        client = make_client(ds, page_cache_bytes=cache_bytes)
        h = auth(client)
        first, pages = follow(client, "/api/v1/ho-so", params, h)
        stats = client.get("/_sandbox/faults").json()["page_cache"]
        assert stats["hits"] == 0 and stats["misses"] == len(pages) > 2
        second, again = follow(client, "/api/v1/ho-so", params, h)
        stats = client.get("/_sandbox/faults").json()["page_cache"]
        assert stats["hits"] == (len(pages) if hits else 0)
        assert second == first == ds.listing_records(ds.agency, w.start_ts, w.end_ts)
        assert [p["next_cursor"] is None for p in again] == [p["next_cursor"] is None for p in pages]
        assert again[0]["tong_so"] == len(first) and all("tong_so" not in p for p in again[1:])
        r = client.get("/api/v1/ho-so", params=params, headers=h)
        assert r.headers["content-type"] == "application/json"
        assert r.content == json.dumps(r.json(), ensure_ascii=False, allow_nan=False,
                                       separators=(",", ":")).encode("utf-8")
