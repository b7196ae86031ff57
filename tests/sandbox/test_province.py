"""The sandbox serving a province: several agencies behind one portal, each with its own intake
login and signing key, and the faults that fail one agency's branch only."""
from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from parreport.periods import window_for
from parreport.report.signing import generate_keypair, sign_body
from parreport.sandbox.generator import GeneratorConfig, generate
from parreport.sandbox.intake_app import IntakeSettings, create_intake_app
from parreport.sandbox.portal_app import PortalSettings, create_portal_app
from parreport.sandbox.province import agency_seed, generate_province, province_agencies
from parreport.sandbox.runner import run_sandbox
from tests.support.reports import minimal_report

A, B, C = "000.00.20.H57", "000.00.21.H57", "000.00.22.H57"
W = window_for(2025, 1)


@pytest.fixture(scope="module")
def province():
    return generate_province(GeneratorConfig(seed=7, dossiers_per_quarter=200), 3)


def portal(province, **settings) -> tuple[TestClient, dict]:
    client = TestClient(create_portal_app(province, PortalSettings(clients={"etl": "pw"}, **settings)))
    tok = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "etl",
                                            "client_secret": "pw"}).json()["access_token"]
    return client, {"Authorization": f"Bearer {tok}"}


def listing(client, headers, path, unit, **params) -> list[dict]:
    out, cursor = [], None
    while True:
        q = {"ma_don_vi": unit, "limit": 1000, **params, **({"cursor": cursor} if cursor else {})}
        r = client.get(path, params=q, headers=headers)
        assert r.status_code == 200, r.text
        out += r.json()["data"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return out


def test_agencies_by_count_or_codes():
    assert province_agencies(3) == [A, B, C] == province_agencies("3") == province_agencies(f"{A},{B},{C}")
    assert province_agencies(None) == [A]
    with pytest.raises(ValueError):
        province_agencies([A, A])
    with pytest.raises(ValueError):
        province_agencies(0)


def test_each_agency_is_its_own_tree_with_its_own_data(province):
    assert province.agencies == [A, B, C]
    codes = [u["MaDonVi"] for u in province.units]
    assert len(codes) == len(set(codes)), "MaDonVi codes are distinct across the province"
    roots = {u["MaDonVi"]: u["TenDonVi"] for u in province.units if u["MaDonViCha"] is None}
    assert set(roots) == {A, B, C} and len(set(roots.values())) == 3
    for code in (A, B, C):
        tree = province.scope(code)
        assert all(province.agency_of(unit) == code for unit in tree) and len(tree) > 5
    # different seeds: the agencies' quarters differ
    sizes = {code: len(province.listing(code, W.start_ts, W.end_ts)) for code in (A, B, C)}
    heads = {code: province.deliveries(province.listing(code, W.start_ts, W.end_ts)[:20])[0]["MaHoSo"]
             for code in (A, B, C)}
    assert all(heads[code].startswith(code) for code in heads)
    assert len({tuple(province.dataset(c).cols["proc"][:50]) for c in (A, B, C)}) == 3, sizes


def test_the_first_agency_is_the_single_agency_sandbox(province):
    single = generate(GeneratorConfig(seed=7, dossiers_per_quarter=200))
    assert province.dataset(A).config.seed == agency_seed(7, 0) == 7
    ids = single.listing(A, W.start_ts, W.end_ts)
    assert province.listing(A, W.start_ts, W.end_ts).tolist() == ids.tolist()
    assert province.deliveries(ids) == single.deliveries(ids)
    assert [province.rating(j) for j in province.ratings_in(A, W.start_ts, W.end_ts)] == \
           [single.rating(j) for j in single.ratings_in(A, W.start_ts, W.end_ts)]


def test_the_portal_serves_every_agency_from_its_own_data(province):
    client, headers = portal(province)
    window = {"tu_ngay": W.start_ts, "den_ngay": W.end_ts}
    for code in (A, B, C):
        ds = province.dataset(code)
        units = client.get("/api/v1/don-vi", params={"ma_don_vi": code}, headers=headers).json()["data"]
        assert [u["MaDonVi"] for u in units] == ds.scope(code)
        dossiers = listing(client, headers, "/api/v1/ho-so", code, **window)
        assert dossiers == ds.listing_records(code, W.start_ts, W.end_ts)
        ratings = listing(client, headers, "/api/v1/danh-gia", code, **window)
        assert ratings == [ds.rating(int(j)) for j in ds.ratings_in(code, W.start_ts, W.end_ts)]
        assert listing(client, headers, "/api/v1/thu-tuc", code) == ds.procedures_of(code)
        bieu = client.get("/api/v1/thong-ke/bieu-06", params={"ma_don_vi": code, **window}, headers=headers)
        assert bieu.json()["data"] == ds.portal_bieu06(code, W.start_ts, W.end_ts)
    sub = province.scope(B)[3]
    assert listing(client, headers, "/api/v1/ho-so", sub, **window) == \
           province.dataset(B).listing_records(sub, W.start_ts, W.end_ts)
    assert client.get("/api/v1/don-vi", params={"ma_don_vi": "000.00.99.H57"}, headers=headers).status_code == 404
    assert client.get("/_sandbox/health").json()["agencies"] == [A, B, C]


def test_a_failing_agency_fails_only_its_own_dossier_listings(province):
    client, headers = portal(province, failing_agencies={B: 403})
    window = {"tu_ngay": W.start_ts, "den_ngay": W.end_ts}
    for unit in (B, province.scope(B)[-1]):
        r = client.get("/api/v1/ho-so", params={"ma_don_vi": unit, **window}, headers=headers)
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
        assert B in r.json()["detail"]
    assert listing(client, headers, "/api/v1/danh-gia", B, **window)  # the rest of B still answers
    for code in (A, C):
        assert listing(client, headers, "/api/v1/ho-so", code, **window)


@pytest.fixture(scope="module")
def keys():
    return {code: generate_keypair() for code in (A, B)}


def intake(keys, **settings) -> TestClient:
    return TestClient(create_intake_app(IntakeSettings(
        clients=IntakeSettings.clients_from({"a": {"secret": "pa", "agency": A}, "b": {"secret": "pb", "agency": B}}),
        public_keys={f"kid-{code}": keys[code][1] for code in keys},
        key_agencies={f"kid-{code}": code for code in keys}, **settings)))


def post(client: TestClient, client_id: str, secret: str, body: dict, key: str):
    tok = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                            "client_secret": secret}).json()["access_token"]
    return client.post("/api/v1/bao-cao", content=json.dumps(body, ensure_ascii=False).encode(),
                       headers={"Authorization": f"Bearer {tok}", "Idempotency-Key": key,
                                "Content-Type": "application/json"})


def test_each_agency_reports_with_its_own_login_and_key(keys):
    client = intake(keys)
    body_a = sign_body(minimal_report(A), keys[A][0], f"kid-{A}")
    body_b = sign_body(minimal_report(B), keys[B][0], f"kid-{B}")
    assert post(client, "a", "pa", body_b, "k-wrong-login").status_code == 403  # a's login, b's report
    crossed = post(client, "b", "pb", sign_body(minimal_report(B), keys[A][0], f"kid-{A}"), "k-crossed")
    assert crossed.status_code == 422 and any(e["field"] == "ChuKy" for e in crossed.json()["errors"])
    assert post(client, "a", "pa", body_a, "k-a").status_code == 201
    assert post(client, "b", "pb", body_b, "k-b").status_code == 201
    accepted = client.get("/_sandbox/accepted").json()["data"]
    assert [(r["receipt"]["MaDonViBaoCao"], r["body"]["ChuKy"]["kid"]) for r in accepted] == \
           [(A, f"kid-{A}"), (B, f"kid-{B}")]


def test_a_refused_agency_is_refused_and_binds_nothing(keys):
    client = intake(keys, refused_agencies={B})
    body_b = sign_body(minimal_report(B), keys[B][0], f"kid-{B}")
    r = post(client, "b", "pb", body_b, "k-b")
    assert r.status_code == 403 and r.json()["type"].endswith("agency-refused")
    assert post(client, "a", "pa", sign_body(minimal_report(A), keys[A][0], f"kid-{A}"), "k-a").status_code == 201
    assert [r["receipt"]["MaDonViBaoCao"] for r in client.get("/_sandbox/accepted").json()["data"]] == [A]


def test_run_sandbox_serves_a_province_with_a_login_per_agency(keys):
    public = {f"kid-{code}": {"pem": keys[code][1], "agency": code} for code in keys}
    with run_sandbox(seed=3, dossiers_per_quarter=100, agencies=[A, B], public_keys=public,
                     fail_agencies={A: 500}) as sb:
        assert sb.agencies == [A, B]
        assert {v["agency"] for v in sb.intake_clients.values()} == {A, B}
        cid, secret = sb.intake_client_for(B)
        tok = httpx.post(sb.intake_url + "/oauth/token", data={"grant_type": "client_credentials",
                                                               "client_id": cid, "client_secret": secret}).json()
        body = sign_body(minimal_report(B), keys[B][0], f"kid-{B}")
        r = httpx.post(sb.intake_url + "/api/v1/bao-cao", content=json.dumps(body).encode(), timeout=30,
                       headers={"Authorization": f"Bearer {tok['access_token']}", "Idempotency-Key": "k1",
                                "Content-Type": "application/json"})
        assert r.status_code == 201, r.text
        pid, psecret = sb.portal_client
        tok = httpx.post(sb.portal_url + "/oauth/token", data={"grant_type": "client_credentials",
                                                               "client_id": pid, "client_secret": psecret}).json()
        headers = {"Authorization": f"Bearer {tok['access_token']}"}
        window = {"tu_ngay": W.start_ts, "den_ngay": W.end_ts}
        assert httpx.get(sb.portal_url + "/api/v1/ho-so", params={"ma_don_vi": A, **window},
                         headers=headers).status_code == 500
        assert httpx.get(sb.portal_url + "/api/v1/ho-so", params={"ma_don_vi": B, **window},
                         headers=headers).status_code == 200


@pytest.mark.parametrize("args", [["--fail-agency", f"{A}=200"], ["--agencies", "0"], ["--agencies", f"{A},{A}"]])
def test_the_command_line_refuses_a_bad_province(args, monkeypatch, capsys):
    from parreport.sandbox.runner import main

    monkeypatch.setenv("SANDBOX_PORTAL_CLIENTS", json.dumps({"p": "s"}))
    monkeypatch.setenv("SANDBOX_INTAKE_CLIENTS", json.dumps({"i": {"secret": "s", "agency": A}}))
    assert main(["serve", "--dossiers-per-quarter", "50", *args]) == 2
    assert "sandbox:" in capsys.readouterr().err
