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
from parreport.report.documents import decode_attachment
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
    receipt = first["MaTiepNhan"]
    assert reason.startswith(f"Phiên bản 2 thay thế phiên bản 1 (biên nhận {receipt}): dữ liệu Cổng DVC")
    assert "chỉ tiêu “Hồ sơ giải quyết đúng hạn” (HS_DUNG_HAN) của toàn đơn vị: 100,00 % → 50,00 % (tử số 2 → 1)" \
        in reason
    assert [(v["version"], v["status"]) for v in versions(settings)] == [(1, "ACCEPTED"), (2, "ACCEPTED")]
    # version 1's documents are the draft's; version 2's say what they replace, and why
    v1_docs, v2_docs = (a["body"]["TepDinhKem"] for a in accepted)
    assert "thay thế phiên bản" not in _html(v1_docs)
    html = _html(v2_docs)
    assert "phiên bản 2, thay thế phiên bản 1" in html and f"biên nhận {receipt}" in html and "HS_DUNG_HAN" in html
    assert _text(v2_docs, ".pdf").count("thay thế phiên bản 1") >= 2  # the box and every page's footer
    # an unchanged re-run sees no change in its own "replaces" text: nothing is sent
    assert not run(settings, endpoint, priv)["sent"]
    assert not run(settings, endpoint, priv)["sent"]
    assert len(sb.accepted()) == 2
    # the documents of version 2 kept on disk are the ones sent
    folder = pipeline.report_dir(settings, PERIOD, 2)
    assert [(folder / d["TenTep"]).read_bytes() for d in v2_docs] == [decode_attachment(d) for d in v2_docs]


def test_the_reason_names_the_stewards_correction(env):
    settings, sb, endpoint, priv = env
    put_figures(settings, CONTENT)
    run(settings, endpoint, priv)
    store = st.Store(settings.store_url)
    with store.engine.begin() as conn:
        conn.execute(st.corrections.insert().values(
            agency=AGENCY, window_key=PERIOD.window.key, ma_ho_so="HS-0001", field="NgayKetThucXuLy",
            value_json='"20250610100000"', old_json=None, created_by="Nguyễn Văn B", created_at=st.utcnow(),
            status="HIEU_LUC", reason="Cổng ghi nhầm ngày kết thúc; đã đối chiếu sổ theo dõi, gọi 0912345678"))
    store.dispose()
    changed = copy.deepcopy(CONTENT)
    for row in changed["Bieu06"]:
        row["DaGiaiQuyet"].update(Tong=3, DungHan=2)
        row["DangGiaiQuyet"].update(Tong=0, TrongHan=0)
    put_figures(settings, changed)
    assert run(settings, endpoint, priv)["PhienBan"] == 2
    reason = sb.accepted()[1]["body"]["LyDoDieuChinh"]
    assert "1 hồ sơ được cán bộ dữ liệu sửa (NgayKetThucXuLy của hồ sơ HS-0001 — lý do: “Cổng ghi nhầm ngày kết " \
           "thúc; đã đối chiếu sổ theo dõi, gọi [đã ẩn]”, Nguyễn Văn B)" in reason
    assert "vì vậy Biểu 06 dòng Tổng cộng: đã giải quyết 2 → 3, đã giải quyết đúng hạn 1 → 2, đang giải quyết 1 → 0" \
        in reason
    assert "0912345678" not in reason and len(reason) < 1200


def _html(items: list[dict]) -> str:
    return decode_attachment(next(i for i in items if i["TenTep"].endswith(".html"))).decode("utf-8")


def _text(items: list[dict], suffix: str) -> str:
    import io

    from pypdf import PdfReader

    data = decode_attachment(next(i for i in items if i["TenTep"].endswith(suffix)))
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


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


# -- LyDoDieuChinh without the intake -----------------------------------------------------------------

def test_the_reason_is_bounded_and_says_when_only_the_documents_changed():
    from parreport.report.changes import describe_changes

    old = {"PhienBan": 3, "MaDonViBaoCao": AGENCY, **copy.deepcopy(CONTENT)}
    new = copy.deepcopy(old)
    assert describe_changes(old, new, receipt="TN-9") == (
        "Phiên bản 4 thay thế phiên bản 3 (biên nhận TN-9): số liệu của quý không đổi; các tệp đính kèm được lập "
        "lại (số liệu các quý trước, tên đơn vị hoặc cách trình bày trong tệp thay đổi).")
    rows = [dict(copy.deepcopy(ROW), MaLinhVuc=f"LV{n:02d}", TenLinhVuc=f"Lĩnh vực {n}") for n in range(40)]
    old["Bieu06"] = rows + [{**copy.deepcopy(ROW), "MaLinhVuc": "TONG", "TenLinhVuc": "Tổng cộng"}]
    new = copy.deepcopy(old)
    for r in new["Bieu06"]:
        r["TiepNhan"]["Tong"] += 1000
    reason = describe_changes(old, new, limit=4)
    assert reason == ("Phiên bản 4 thay thế phiên bản 3: dữ liệu Cổng DVC cung cấp lại có thay đổi; vì vậy "
                      "Biểu 06 dòng Tổng cộng: nhận giải quyết 3 → 1.003; Biểu 06 dòng Lĩnh vực 0: nhận giải quyết "
                      "3 → 1.003; Biểu 06 dòng Lĩnh vực 1: nhận giải quyết 3 → 1.003; Biểu 06 dòng Lĩnh vực 2: "
                      "nhận giải quyết 3 → 1.003; và 37 thay đổi khác (chi tiết trong tệp đính kèm).")


def test_corrections_since_the_last_version():
    from datetime import datetime, timedelta, timezone

    from parreport.report.changes import corrections_since

    sent = datetime(2025, 7, 1, 8, 0, tzinfo=timezone.utc)
    before, after = sent - timedelta(days=1), (sent + timedelta(hours=1)).replace(tzinfo=None)  # naive = UTC
    rows = [
        {"id": 1, "ma_ho_so": "A", "status": "HIEU_LUC", "created_at": before},  # already in the last version
        {"id": 2, "ma_ho_so": "B", "status": "HIEU_LUC", "created_at": after},
        {"id": 3, "ma_ho_so": "C", "status": "HIEU_LUC", "created_at": after},  # could not be applied
        {"id": 4, "ma_ho_so": "D", "status": "DA_HUY", "created_at": before, "closed_at": after},
        {"id": 5, "ma_ho_so": "E", "status": "CONG_DA_SUA", "created_at": before, "closed_at": after},
        {"id": 6, "ma_ho_so": "F", "status": "DA_THAY_THE", "created_at": after, "closed_at": after},
        {"id": 7, "ma_ho_so": "G", "status": "HIEU_LUC", "created_at": after},  # its dossier is gone
    ]
    got = corrections_since(rows, sent, not_applied=[3], not_found=["G"])
    assert [(c["id"], c["kind"]) for c in got] == [(2, "applied"), (4, "revoked"), (5, "portal_fixed")]
    assert [c["id"] for c in corrections_since(rows, None)] == [1, 2, 3, 4, 5, 7]
