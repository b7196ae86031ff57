"""Stewards' corrections: refused when they do not parse or name an unknown field or dossier
(nothing changes), stored with their audit trail, applied before validation, superseded when
the portal carries the value, counted in SoBanGhiDaSua."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from parreport import pipeline
from parreport import store as st
from parreport.quality.corrections import (
    CorrectionError,
    add_correction,
    apply_corrections,
    list_corrections,
    parse_field,
    revoke_correction,
)
from parreport.quality.validation import validate_partition
from tests.support.quality_fixtures import AGENCY, HAND_MADE, PROCEDURES, UNITS, WINDOW, stage

KEY = WINDOW.key


@pytest.fixture()
def store(sqlite_store):
    dossiers = [HAND_MADE[m][0] for m in ("HM-OK-FULL", "HM-PROC", "HM-FEE", "HM-OK-MIN")]
    stage(sqlite_store, units=UNITS, procedures=PROCEDURES, dossiers=dossiers, ratings=[])
    return sqlite_store


def count(store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def add(store, **kw):
    args = {"ma_ho_so": "HM-PROC", "field": "MaTTHC", "value": '"1.001"', "reason": "Cổng ghi sai mã thủ tục",
            "by": "Nguyễn Văn B"}
    args.update(kw)
    return add_correction(store, AGENCY, KEY, **args)


@pytest.mark.parametrize("kw, words", [
    ({"value": "1.001.x"}, "không phải JSON hợp lệ"),
    ({"value": "'1.001'"}, "không phải JSON hợp lệ"),
    ({"field": "MaThuTuc"}, "không có trong hợp đồng dữ liệu"),
    ({"field": "ThuXinLoi.SoThuX"}, "không có 'SoThuX' trong ThuXinLoi"),
    ({"field": "DanhSachLePhi.Gia"}, "không có 'Gia'"),
    ({"field": "NgayHenTra[0]"}, "không phải là danh sách"),
    ({"field": "Ngay Hen"}, "không đúng cú pháp"),
    ({"field": "ChuHoSo", "value": '"X"'}, "dữ liệu cá nhân"),
    ({"field": "MaHoSo", "value": '"X"'}, "Không sửa được MaHoSo"),
    ({"ma_ho_so": "KHONG-CO"}, "Không có hồ sơ MaHoSo 'KHONG-CO'"),
    ({"field": "DanhSachLePhi[5].Gia", "value": "1", "ma_ho_so": "HM-FEE"}, "không có phần tử DanhSachLePhi[5]"),
    ({"field": "DanhSachLePhi[0].Gia", "value": '"5"', "ma_ho_so": "HM-FEE"}, "phải là số"),
    ({"field": "NgayHenTra", "value": '"20250230170000"'}, "không phải thời điểm có thật"),
    ({"field": "KenhThucHien", "value": '"7"'}, "không thuộc danh mục"),
    ({"reason": " "}, "lý do"),
    ({"value": '"9.999"'}, "Cổng DVC đã có đúng giá trị này"),
])
def test_a_bad_correction_is_refused_and_changes_nothing(store, kw, words):
    with pytest.raises(CorrectionError) as err:
        add(store, **kw)
    assert words in str(err.value)
    assert count(store, st.corrections) == 0 and count(store, st.correction_events) == 0


def test_paths_of_the_contract_parse():
    assert parse_field("DanhSachLePhi[0].Gia")[0] == ["DanhSachLePhi", 0, "Gia"]
    assert parse_field("ThuXinLoi.SoThu")[0] == ["ThuXinLoi", "SoThu"]
    assert parse_field("ThongTinEForm")[1].kind == "obj"


def test_correction_is_recorded_with_its_audit_trail_and_a_later_one_replaces_it(store):
    first = add(store, field="NgayHenTra", value='"20250111170000"', ma_ho_so="HM-OK-FULL", reason="sai ngày hẹn")
    assert first["old_value"] == "20250110170000" and first["value"] == "20250111170000"
    assert first["status"] == "HIEU_LUC" and first["created_by"] == "Nguyễn Văn B" and first["created_at"]
    assert [e["event"] for e in first["events"]] == ["TAO"]
    second = add(store, field="NgayHenTra", value='"20250112170000"', ma_ho_so="HM-OK-FULL", reason="sai lần nữa")
    rows = {c["id"]: c for c in list_corrections(store, AGENCY, KEY)}
    assert rows[first["id"]]["status"] == "DA_THAY_THE" and rows[second["id"]]["status"] == "HIEU_LUC"
    assert [e["event"] for e in rows[first["id"]]["events"]] == ["TAO", "DA_THAY_THE"]


def _staged(store):
    return [dict(r) for r in store.rows(st.dossiers, AGENCY, KEY)]


def test_applied_before_validation_until_the_portal_carries_the_value(store):
    add(store)  # HM-PROC: MaTTHC 9.999 -> 1.001
    fee = add(store, ma_ho_so="HM-FEE", field="DanhSachLePhi[1].Gia", value="0.5", reason="thiếu dấu")
    rows = _staged(store)
    result = apply_corrections(store, AGENCY, KEY, rows)
    assert result["corrected_dossiers"] == 2 and result["superseded"] == []
    by_ref = {r["ma_ho_so"]: r["record"] for r in _staged(store)}
    assert by_ref["HM-PROC"]["MaTTHC"] == "1.001" and by_ref["HM-FEE"]["DanhSachLePhi"][1]["Gia"] == 0.5
    # validation cleared and re-run without a re-load: the portal's copy is still known
    again = apply_corrections(store, AGENCY, KEY, _staged(store))
    assert again["corrected_dossiers"] == 2 and again["superseded"] == []
    # the portal now sends the corrected fee itself (a new load replaces the partition)
    dossiers = [HAND_MADE[m][0] for m in ("HM-OK-FULL", "HM-PROC", "HM-OK-MIN")]
    fixed = dict(HAND_MADE["HM-FEE"][0], DanhSachLePhi=[{"Gia": 5}, {"Gia": 0.5}])
    stage(store, units=UNITS, procedures=PROCEDURES, dossiers=dossiers + [fixed], ratings=[], run_id="run-2")
    result = apply_corrections(store, AGENCY, KEY, _staged(store))
    assert result["superseded"] == [fee["id"]] and result["corrected_dossiers"] == 1
    status = {c["id"]: c for c in list_corrections(store, AGENCY, KEY)}
    assert status[fee["id"]]["status"] == "CONG_DA_SUA"
    assert "CONG_DA_SUA" in [e["event"] for e in status[fee["id"]]["events"]]


def test_revoked_correction_gives_the_portal_value_back(store):
    c = add(store)
    apply_corrections(store, AGENCY, KEY, _staged(store))
    revoke_correction(store, c["id"], reason="nhầm", by="Trần C")
    apply_corrections(store, AGENCY, KEY, _staged(store))
    assert {r["ma_ho_so"]: r["record"] for r in _staged(store)}["HM-PROC"]["MaTTHC"] == "9.999"
    with pytest.raises(CorrectionError):
        revoke_correction(store, c["id"], reason="nhầm", by="Trần C")


def test_corrected_dossier_leaves_the_quarantine_and_counts_in_so_ban_ghi_da_sua(store, tmp_path):
    add(store)  # fixes HM-PROC; HM-FEE stays quarantined
    summary = validate_partition(store, agency=AGENCY, window=WINDOW, data_dir=tmp_path, run_id="run-1",
                                 threshold=0.5, write_docs=False)
    assert summary["quarantined"] == 1 and summary["corrected"] == 1
    q = {r["ref"] for r in store.rows(st.quarantine, AGENCY, KEY)}
    assert q == {"HM-FEE"}
    accepted = {r["ma_ho_so"] for r in store.rows(st.dossiers, AGENCY, KEY, st.accepted(st.dossiers))}
    assert "HM-PROC" in accepted
    quality = pipeline._quality(store, pipeline.Period(AGENCY, WINDOW), [], [])
    assert (quality["SoBanGhi"], quality["SoBanGhiLoai"], quality["SoBanGhiDaSua"]) == (4, 1, 1)
