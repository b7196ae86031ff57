"""The steward's CLI: quarantine listing (table, CSV, XLSX), corrections add/list, refusals."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from parreport import cli, db, quarantine
from parreport import store as st
from tests.support.quality_fixtures import AGENCY, HAND_MADE, PROCEDURES, UNITS, WINDOW, stage

VIOLATIONS = {
    1: [{"rule": "unknown_procedure", "field": "MaTTHC",
         "message": "MaTTHC '9.999' không có trong danh mục thủ tục hành chính của cơ quan"}],
    2: [{"rule": "negative_fee", "field": "DanhSachLePhi[1].Gia", "message": "DanhSachLePhi[1].Gia = -0.5 là số tiền âm"},
        {"rule": "bad_code", "field": "KenhThucHien", "message": "KenhThucHien '4' không thuộc danh mục mã cho phép"}],
}


@pytest.fixture()
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/store.db"
    monkeypatch.setenv("PARREPORT_STORE_URL", url)
    monkeypatch.setenv("PARREPORT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PARREPORT_CONFIG", raising=False)
    monkeypatch.delenv("PARREPORT_AGENCY", raising=False)
    db.upgrade(url)
    s = st.Store(url)
    dossiers = [HAND_MADE[m][0] for m in ("HM-OK-FULL", "HM-PROC", "HM-FEE")]
    stage(s, units=UNITS, procedures=PROCEDURES, dossiers=dossiers, ratings=[])
    s.replace_partition(st.quarantine, AGENCY, WINDOW.key, [
        {"kind": "dossier", "seq": seq, "ref": dossiers[seq]["MaHoSo"], "violations": v, "created_at": st.utcnow()}
        for seq, v in VIOLATIONS.items()] + [
        {"kind": "rating", "seq": 0, "ref": "DG-1", "created_at": st.utcnow(),
         "violations": [{"rule": "bad_code", "field": "MucDoHaiLong", "message": "MucDoHaiLong '4' không thuộc danh mục"}]}])
    s.dispose()
    return tmp_path


def run(*argv):
    out = io.StringIO()
    code = cli.main(list(argv), out=out)
    return code, out.getvalue()


PERIOD = ("--year", "2025", "--quarter", "1")


def test_quarantine_table_is_vietnamese_and_lists_every_rule(env):
    code, text = run("quarantine", "list", *PERIOD)
    assert code == 0
    assert "Danh sách cách ly — Quý 1/2025" in text and "2 hồ sơ bị cách ly" in text and "1 đánh giá" in text
    for needle in ("HM-PROC", "HM-FEE", "Số tiền phí, lệ phí âm", "Mã không thuộc danh", "DG-1",
                   "parreport corrections add"):
        assert needle in text


def test_quarantine_csv(env):
    out = env / "cach-ly.csv"
    code, _ = run("quarantine", "list", *PERIOD, "--agency", AGENCY, "--format", "csv", "--output", str(out))
    assert code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(quarantine.HEADERS)
    # the sub-unit is the direct sub-unit of the agency that processed the dossier (DonViXuLy), by name
    assert rows[1:] == [["hồ sơ", "1", "HM-PROC", "Phòng 1 (P1)", "unknown_procedure",
                         "Mã thủ tục hành chính không có trong danh mục", "MaTTHC", VIOLATIONS[1][0]["message"]],
                        ["hồ sơ", "2", "HM-FEE", "Phòng 1 (P1)", "negative_fee", "Số tiền phí, lệ phí âm",
                         "DanhSachLePhi[1].Gia", VIOLATIONS[2][0]["message"]],
                        ["hồ sơ", "2", "HM-FEE", "Phòng 1 (P1)", "bad_code", "Mã không thuộc danh mục cho phép",
                         "KenhThucHien", VIOLATIONS[2][1]["message"]],
                        ["đánh giá", "0", "DG-1", "(không rõ đơn vị)", "bad_code", "Mã không thuộc danh mục cho phép",
                         "MucDoHaiLong", "MucDoHaiLong '4' không thuộc danh mục"]]


def test_quarantine_xlsx_cells_match_the_store(env):
    out = env / "cach-ly.xlsx"
    code, _ = run("quarantine", "list", *PERIOD, "--format", "xlsx", "--output", str(out))
    assert code == 0
    ws = load_workbook(out).active
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert cells[0] == list(quarantine.HEADERS)
    store = st.Store(f"sqlite:///{env}/store.db")
    expected = [[r[c] for c in quarantine.COLUMNS] for r in cli.quarantine_rows(store, AGENCY, WINDOW.key)]
    store.dispose()
    assert cells[1:] == expected and len(expected) == 4


def test_xlsx_needs_an_output(env, capsys):
    code, _ = run("quarantine", "list", *PERIOD, "--format", "xlsx")
    assert code == 1 and "--output" in capsys.readouterr().err


def test_corrections_add_and_list(env):
    code, text = run("corrections", "add", "--agency", AGENCY, *PERIOD, "--ma-ho-so", "HM-PROC", "--field", "MaTTHC",
                     "--value", '"1.001"', "--reason", "Cổng ghi sai mã", "--by", "Nguyễn Văn B")
    assert code == 0 and "Đã ghi sửa đổi số 1" in text and '"9.999" → "1.001"' in text
    code, text = run("corrections", "list", *PERIOD, "--all")
    assert code == 0 and "HM-PROC" in text and "Nguyễn Văn B" in text and "đang áp dụng" in text and "TAO" in text


@pytest.mark.parametrize("field, value, words", [
    ("MaTTHC", "abc", "không phải JSON hợp lệ"),
    ("MaTTHC", "1.001", "phải là chuỗi ký tự"),
    ("SoTien", "1", "không có trong hợp đồng dữ liệu"),
])
def test_corrections_refused_exit_non_zero_and_store_nothing(env, capsys, field, value, words):
    code, _ = run("corrections", "add", *PERIOD, "--ma-ho-so", "HM-PROC", "--field", field, "--value", value,
                  "--reason", "x", "--by", "y")
    assert code == 1 and words in capsys.readouterr().err
    code, _ = run("corrections", "add", *PERIOD, "--ma-ho-so", "KHONG-CO", "--field", "MaTTHC", "--value", '"1.001"',
                  "--reason", "x", "--by", "y")
    assert code == 1 and "Không có hồ sơ MaHoSo 'KHONG-CO'" in capsys.readouterr().err
    code, text = run("corrections", "list", *PERIOD, "--all")
    assert ": 0" in text
