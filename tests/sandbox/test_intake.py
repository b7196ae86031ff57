"""The sandbox intake (report-api.yaml): OAuth, idempotency, versions, validation, signature."""
from __future__ import annotations

import copy
import json

import pytest
from fastapi.testclient import TestClient

from parreport.report.signing import content_sha256, generate_keypair, sign_body
from parreport.sandbox.common import FaultSettings
from parreport.sandbox.intake_app import IntakeSettings, create_intake_app
from tests.support.fakes import Clock
from tests.support.reports import minimal_report

AGENCY = "000.00.20.H57"
OTHER = "000.00.11.H57"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def keys():
    return generate_keypair()


@pytest.fixture()
def env(keys, tmp_path):
    private, public = keys
    wall = Clock()
    settings = IntakeSettings(
        clients=IntakeSettings.clients_from({"hue-ldtbxh": {"secret": "pw", "agency": AGENCY},
                                             "other": {"secret": "pw2", "agency": OTHER}}),
        public_keys={"k1": public}, review_delay=10, wall_clock=wall)
    client = TestClient(create_intake_app(settings))
    tok = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "hue-ldtbxh",
                                            "client_secret": "pw"}).json()["access_token"]

    class Env:
        pass

    e = Env()
    e.client, e.wall, e.private, e.settings = client, wall, private, settings
    e.headers = {"Authorization": f"Bearer {tok}"}

    def sign(body):
        return sign_body(body, private, "k1")

    def post(body, key="key-1", headers=None, raw: bytes | None = None):
        h = dict(e.headers, **({"Idempotency-Key": key} if key is not None else {}), **(headers or {}))
        h.setdefault("Content-Type", "application/json")
        return client.post("/api/v1/bao-cao", content=raw if raw is not None else json.dumps(body, ensure_ascii=False),
                           headers=h)

    e.sign, e.post = sign, post
    return e


def test_accepted_then_replayed(env):
    body = env.sign(minimal_report())
    r = env.post(body)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["TrangThai"] == "DA_TIEP_NHAN" and receipt["LyDoTraLai"] is None
    assert receipt["SHA256"] == content_sha256(body)
    assert receipt["ThoiDiemTiepNhan"].endswith("+07:00")
    assert (receipt["MaDonViBaoCao"], receipt["Nam"], receipt["Quy"], receipt["PhienBan"]) == (AGENCY, 2025, 1, 1)
    # same key, signed again (a different JWS): the stored answer
    again = env.sign(minimal_report())
    assert again["ChuKy"]["jws"] != body["ChuKy"]["jws"]
    r2 = env.post(again)
    assert r2.status_code == 200 and r2.headers["Idempotent-Replayed"] == "true" and r2.json() == receipt
    # same key, other content
    r3 = env.post(env.sign(minimal_report(value=96)))
    assert r3.status_code == 422 and r3.headers["content-type"].startswith(PROBLEM)
    # new key, same identity and content: the stored receipt
    r4 = env.post(env.sign(minimal_report()), key="key-2")
    assert r4.status_code == 200 and r4.headers["Idempotent-Replayed"] == "true" and r4.json() == receipt
    # new key, same identity, other content
    assert env.post(env.sign(minimal_report(value=97)), key="key-3").status_code == 409
    assert len(env.client.get("/_sandbox/accepted").json()["data"]) == 1


def test_versions(env):
    assert env.post(env.sign(minimal_report()), key="v1").status_code == 201
    assert env.post(env.sign(minimal_report(version=3, reason="sửa")), key="v3").status_code == 409
    r = env.post(env.sign(minimal_report(version=2)), key="v2")
    assert r.status_code == 422 and any(e["field"] == "LyDoDieuChinh" for e in r.json()["errors"])
    r = env.post(env.sign(minimal_report(version=2, reason="  ")), key="v2")
    assert r.status_code == 422
    r = env.post(env.sign(minimal_report(version=2, reason="Điều chỉnh số liệu Biểu 06", value=98)), key="v2")
    assert r.status_code == 201
    listing = env.client.get("/api/v1/bao-cao", params={"MaDonViBaoCao": AGENCY, "Nam": 2025, "Quy": 1},
                             headers=env.headers).json()["data"]
    assert [x["PhienBan"] for x in listing] == [1, 2]
    other_quarter = env.client.get("/api/v1/bao-cao", params={"MaDonViBaoCao": AGENCY, "Nam": 2025, "Quy": 2},
                                   headers=env.headers).json()["data"]
    assert other_quarter == []


def test_signature_problems(env):
    body = env.sign(minimal_report())
    tampered = copy.deepcopy(body)
    tampered["ChiTieu"][0]["TuSo"] = 99
    r = env.post(tampered)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["ChuKy"]
    unknown = sign_body(minimal_report(), env.private, "unknown-kid")
    assert env.post(unknown).status_code == 422
    missing = {k: v for k, v in body.items() if k != "ChuKy"}
    r = env.post(missing)
    assert r.status_code == 422 and {"ChuKy"} <= {e["field"] for e in r.json()["errors"]}
    # refused requests bound nothing: the same key is still free
    assert env.post(body).status_code == 201


def test_schema_errors_listed(env):
    body = minimal_report()
    body["ChiTieu"][1]["GiaTri"] = "abc"
    body["ChiTieu"].append({"MaChiTieu": "X", "PhamVi": AGENCY, "TuSo": -1, "MauSo": 1, "GiaTri": 1,
                            "DonViTinh": "%", "MucTieu": None, "DatMucTieu": None, "Extra": 1})
    del body["NgayLap"]
    body["KyBaoCao"]["Quy"] = 5
    body["KyBaoCao"]["TuNgay"] = "2024-02-30"
    body["TepDinhKem"][0]["SHA256"] = "00"
    body["Unexpected"] = True
    r = env.post(env.sign(body))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"ChiTieu[1].GiaTri", "ChiTieu[2].TuSo", "ChiTieu[2].Extra", "NgayLap", "KyBaoCao.Quy",
            "KyBaoCao.TuNgay", "Unexpected", "TepDinhKem[0].SHA256"} <= fields
    assert "ChuKy" not in fields  # the signature itself verifies
    assert all(e["message"] for e in r.json()["errors"])
    assert env.post(None, raw=b"not json").status_code == 400
    assert env.post([1, 2]).status_code == 422


def test_idempotency_key_header(env):
    body = env.sign(minimal_report())
    assert env.post(body, key=None).status_code == 400
    assert env.post(body, key="has space").status_code == 400
    assert env.post(body, key="x" * 256).status_code == 400
    assert env.post(body, key="x" * 255).status_code == 201


def test_other_agency_is_403(env):
    r = env.post(env.sign(minimal_report(agency=OTHER)))
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    r = env.client.get("/api/v1/bao-cao", params={"MaDonViBaoCao": OTHER, "Nam": 2025, "Quy": 1},
                       headers=env.headers)
    assert r.status_code == 403
    assert env.post(env.sign(minimal_report())).status_code == 201  # the key was not bound by the 403


def test_too_large_is_413(env):
    big = b'{"pad": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    r = env.post(None, raw=big)
    assert r.status_code == 413 and r.headers["content-type"].startswith(PROBLEM)


def test_auth_required(env):
    r = env.client.post("/api/v1/bao-cao", content=b"{}", headers={"Idempotency-Key": "k"})
    assert r.status_code == 401
    r = env.client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "hue-ldtbxh",
                                              "client_secret": "bad"})
    assert r.status_code == 401
    assert env.client.get("/api/v1/bao-cao/SNV-1").status_code == 401


def test_receipt_state_moves_on(env):
    r = env.post(env.sign(minimal_report()))
    receipt_id = r.json()["MaTiepNhan"]
    got = env.client.get(f"/api/v1/bao-cao/{receipt_id}", headers=env.headers).json()
    assert got["TrangThai"] == "DA_TIEP_NHAN"
    env.wall.now += 11
    got = env.client.get(f"/api/v1/bao-cao/{receipt_id}", headers=env.headers).json()
    assert got["TrangThai"] == "DA_DUYET"
    assert env.client.get("/api/v1/bao-cao/SNV-0000-999999", headers=env.headers).status_code == 404
    assert env.client.get("/_sandbox/accepted").json()["data"][0]["receipt"]["TrangThai"] == "DA_DUYET"


def test_returned_reports(keys):
    private, public = keys
    wall = Clock()
    settings = IntakeSettings(clients=IntakeSettings.clients_from({"c": {"secret": "s", "agency": AGENCY}}),
                              public_keys={"k1": public}, review_delay=1, return_policy="first", wall_clock=wall)
    client = TestClient(create_intake_app(settings))
    tok = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "c",
                                            "client_secret": "s"}).json()["access_token"]
    h = {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}
    r1 = client.post("/api/v1/bao-cao", content=json.dumps(sign_body(minimal_report(), private, "k1")),
                     headers=dict(h, **{"Idempotency-Key": "a"}))
    r2 = client.post("/api/v1/bao-cao", content=json.dumps(sign_body(minimal_report(version=2, reason="sửa"), private,
                                                                     "k1")),
                     headers=dict(h, **{"Idempotency-Key": "b"}))
    assert (r1.status_code, r2.status_code) == (201, 201)
    wall.now += 2
    listing = client.get("/api/v1/bao-cao", params={"MaDonViBaoCao": AGENCY, "Nam": 2025, "Quy": 1},
                         headers=h).json()["data"]
    assert [x["TrangThai"] for x in listing] == ["TRA_LAI", "DA_DUYET"]
    assert listing[0]["LyDoTraLai"]


def test_faults_bind_nothing(keys):
    private, public = keys
    settings = IntakeSettings(clients=IntakeSettings.clients_from({"c": {"secret": "s", "agency": AGENCY}}),
                              public_keys={"k1": public},
                              faults=FaultSettings.parse("schedule=503@1|429@2,retry_after=1"))
    client = TestClient(create_intake_app(settings))
    tok = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "c",
                                            "client_secret": "s"}).json()["access_token"]
    h = {"Authorization": f"Bearer {tok}", "Content-Type": "application/json", "Idempotency-Key": "same"}
    body = json.dumps(sign_body(minimal_report(), private, "k1"))
    codes = []
    for _ in range(4):
        r = client.post("/api/v1/bao-cao", content=body, headers=h)
        codes.append(r.status_code)
        if r.status_code in (429, 503):
            assert r.headers["Retry-After"] == "1"
    assert codes == [503, 429, 201, 200]
    log = client.get("/_sandbox/requests").json()["data"]
    assert [e["status"] for e in log] == codes and all(e["key"] == "same" for e in log)
    assert len(client.get("/_sandbox/accepted").json()["data"]) == 1


def test_state_file_survives_restart(keys, tmp_path):
    private, public = keys
    state = tmp_path / "intake.json"

    def app():
        settings = IntakeSettings(clients=IntakeSettings.clients_from({"c": {"secret": "s", "agency": AGENCY}}),
                                  public_keys={"k1": public}, state_file=str(state))
        client = TestClient(create_intake_app(settings))
        tok = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "c",
                                                "client_secret": "s"}).json()["access_token"]
        return client, {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}

    client, h = app()
    body = json.dumps(sign_body(minimal_report(), private, "k1"))
    first = client.post("/api/v1/bao-cao", content=body, headers=dict(h, **{"Idempotency-Key": "p"}))
    assert first.status_code == 201 and state.exists()
    client, h = app()
    again = client.post("/api/v1/bao-cao", content=body, headers=dict(h, **{"Idempotency-Key": "p"}))
    assert again.status_code == 200 and again.json() == first.json()
    assert client.get(f"/api/v1/bao-cao/{first.json()['MaTiepNhan']}", headers=h).status_code == 200
    nxt = client.post("/api/v1/bao-cao",
                      content=json.dumps(sign_body(minimal_report(version=2, reason="sửa"), private, "k1")),
                      headers=dict(h, **{"Idempotency-Key": "q"}))
    assert nxt.status_code == 201 and nxt.json()["MaTiepNhan"] != first.json()["MaTiepNhan"]
