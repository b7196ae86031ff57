"""Versions and receipts without Airflow: build_report + submit against the sandbox intake.

Same figures → nothing sent; changed figures → PhienBan + 1 with a LyDoDieuChinh that names the
change; a run that died after sending → the accepted version is adopted, not sent again; a
version the intake holds but this store never recorded → the submission stops."""
from __future__ import annotations

import copy

import pytest

from parreport import db, pipeline
from parreport import store as st
from parreport.config import load_settings
from parreport.http import Endpoint
from parreport.periods import window_for
from parreport.report.signing import generate_keypair
from parreport.sandbox.runner import run_sandbox

AGENCY = "000.00.20.H57"
PERIOD = pipeline.Period(AGENCY, window_for(2025, 2))
ROW = {"MaLinhVuc": "LV01", "TenLinhVuc": "Lao động",
       "TiepNhan": {"Tong": 3, "TrucTuyen": 1, "TrucTiepBuuChinh": 1, "KyTruocChuyenSang": 1},
       "DaGiaiQuyet": {"Tong": 2, "TruocHan": 1, "DungHan": 1, "QuaHan": 0},
       "DangGiaiQuyet": {"Tong": 1, "TrongHan": 1, "QuaHan": 0}}
CONTENT = {
    "Bieu06": [ROW, {**copy.deepcopy(ROW), "MaLinhVuc": "TONG", "TenLinhVuc": "Tổng cộng"}],
    "ChiTieu": [{"MaChiTieu": "HS_DUNG_HAN", "TenChiTieu": "Hồ sơ đúng hạn", "PhamVi": AGENCY, "TuSo": 2,
                 "MauSo": 2, "GiaTri": 100.0, "DonViTinh": "%", "MucTieu": 100, "SoSanh": ">=", "DatMucTieu": True}],
    "ChatLuongDuLieu": {"SoBanGhi": 3, "SoBanGhiLoai": 0, "SoBanGhiDaSua": 0, "DoiSoatCongDVC": [], "KiemTra": []},
}


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    for var in ("PARREPORT_STORE_URL", "PARREPORT_DATA_DIR", "PARREPORT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings()
    db.upgrade(settings.store_url)
    priv, pub = generate_keypair()
    with run_sandbox(seed=1, dossiers_per_quarter=50, agency=AGENCY, public_keys={"k1": pub}) as sb:
        yield settings, sb, Endpoint(sb.intake_url, *sb.intake_client[:2]), priv


def put_figures(settings, content):
    store = st.Store(settings.store_url)
    store.replace_partition(st.units, AGENCY, PERIOD.window.key,
                            [{"seq": 0, "ma_don_vi": AGENCY, "record": {"MaDonVi": AGENCY, "TenDonVi": "Sở LĐ-TB&XH"}}])
    store.save_figures(AGENCY, PERIOD.window.key, content, "run")
    store.dispose()


def run(settings, endpoint, priv):
    pipeline.build_report(settings, PERIOD, "run")
    return pipeline.submit(settings, endpoint, priv, "k1", PERIOD, "run")


def versions(settings):
    store = st.Store(settings.store_url)
    try:
        return store.report_versions(AGENCY, 2025, 2)
    finally:
        store.dispose()


def test_unchanged_rerun_sends_nothing_and_a_change_is_the_next_version(env):
    settings, sb, endpoint, priv = env
    put_figures(settings, CONTENT)
    first = run(settings, endpoint, priv)
    assert first["sent"] and first["PhienBan"] == 1
    again = run(settings, endpoint, priv)
    assert not again["sent"] and again["MaTiepNhan"] == first["MaTiepNhan"]
    assert [r["status"] for r in sb.intake_requests()] == [201]

    changed = copy.deepcopy(CONTENT)
    changed["ChiTieu"][0].update(TuSo=1, GiaTri=50.0, DatMucTieu=False)
    put_figures(settings, changed)
    second = run(settings, endpoint, priv)
    assert second["sent"] and second["PhienBan"] == 2
    accepted = sb.accepted()
    assert [a["body"]["PhienBan"] for a in accepted] == [1, 2]
    reason = accepted[1]["body"]["LyDoDieuChinh"]
    assert "phiên bản 1" in reason and "HS_DUNG_HAN" in reason and "2 → 1" in reason
    assert [(v["version"], v["status"]) for v in versions(settings)] == [(1, "ACCEPTED"), (2, "ACCEPTED")]
    assert not run(settings, endpoint, priv)["sent"]


def test_a_version_sent_but_not_recorded_is_adopted_not_resent(env):
    settings, sb, endpoint, priv = env
    put_figures(settings, CONTENT)
    run(settings, endpoint, priv)
    store = st.Store(settings.store_url)
    store.upsert_report(AGENCY, 2025, 2, 1, status="SUBMITTED", receipt=None)
    store.dispose()
    result = run(settings, endpoint, priv)
    assert not result["sent"] and result["PhienBan"] == 1
    assert len(sb.intake_requests()) == 1 and versions(settings)[0]["status"] == "ACCEPTED"


def test_a_version_this_store_never_recorded_stops_the_submission(env, tmp_path, monkeypatch):
    settings, sb, endpoint, priv = env
    put_figures(settings, CONTENT)
    run(settings, endpoint, priv)
    # A second installation (empty store) for the same agency and quarter must not guess.
    monkeypatch.setenv("PARREPORT_DATA_DIR", str(tmp_path / "other"))
    other = load_settings()
    db.upgrade(other.store_url)
    put_figures(other, CONTENT)
    with pytest.raises(pipeline.SubmissionConflict, match=r"phiên bản \[1\]"):
        run(other, endpoint, priv)
    assert len(sb.accepted()) == 1
