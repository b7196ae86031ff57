"""De-duplication (INDICATORS.md §2): latest NgayCapNhat wins; equal -> the one delivered last;
absent or unreadable NgayCapNhat counts as the oldest; no usable MaHoSo -> never merged."""
from __future__ import annotations

import unicodedata

from parreport.quality import dedupe, dedupe_procedures


def rec(ma, updated, tag, **extra):
    r = {"MaHoSo": ma, "NgayCapNhat": updated, "tag": tag}
    r.update(extra)
    return r


def tags(result):
    return [r["tag"] for r in result.records]


def test_no_duplicates_pass_unchanged():
    data = [rec("A", "20250101000000", "a"), rec("B", "20250101000000", "b")]
    result = dedupe(data)
    assert result.records == data and result.duplicates == 0


def test_latest_ngaycapnhat_wins_whatever_the_order():
    data = [rec("A", "20250102000000", "new"), rec("A", "20250101235959", "old")]
    result = dedupe(data)
    assert tags(result) == ["new"] and result.duplicates == 1
    assert tags(dedupe(list(reversed(data)))) == ["new"]


def test_equal_ngaycapnhat_last_delivered_wins():
    data = [rec("A", "20250102000000", "first"), rec("B", "20250101000000", "b"),
            rec("A", "20250102000000", "second"), rec("A", "20250102000000", "third")]
    result = dedupe(data)
    assert tags(result) == ["third", "b"] and result.duplicates == 2
    assert result.duplicate_keys == ["A"]


def test_absent_or_unreadable_ngaycapnhat_is_oldest():
    for bad in (None, "", "20250230000000", "yesterday", 20250101000000):
        data = [rec("A", "19000101000000", "dated"), rec("A", bad, "undated")]
        assert tags(dedupe(data)) == ["dated"], bad
        data = [rec("A", bad, "undated"), rec("A", "19000101000000", "dated")]
        assert tags(dedupe(data)) == ["dated"], bad
    no_key = {"MaHoSo": "A", "tag": "missing"}
    assert tags(dedupe([rec("A", "20000101000000", "dated"), no_key])) == ["dated"]


def test_two_undated_copies_last_delivered_wins():
    data = [rec("A", None, "first"), rec("A", "bad", "second")]
    assert tags(dedupe(data)) == ["second"]


def test_survivor_keeps_first_delivery_position():
    data = [rec("A", "20250101000000", "a1"), rec("B", "20250101000000", "b"),
            rec("C", "20250101000000", "c"), rec("A", "20250105000000", "a2")]
    assert tags(dedupe(data)) == ["a2", "b", "c"]


def test_records_without_usable_mahoso_are_not_merged():
    data = [{"tag": "x1"}, {"MaHoSo": None, "tag": "x2"}, {"MaHoSo": "", "tag": "x3"},
            {"MaHoSo": 17, "tag": "x4"}, {"MaHoSo": 17, "tag": "x5"}, rec("A", "20250101000000", "a"),
            {"tag": "x6"}]
    result = dedupe(data)
    assert tags(result) == ["x1", "x2", "x3", "x4", "x5", "a", "x6"] and result.duplicates == 0


def test_non_dict_passes_through():
    result = dedupe(["junk", rec("A", None, "a")])
    assert result.records[0] == "junk" and result.duplicates == 0


def test_nfc_and_nfd_mahoso_are_the_same_dossier():
    nfc = unicodedata.normalize("NFC", "HỒ-SƠ-1")
    nfd = unicodedata.normalize("NFD", "HỒ-SƠ-1")
    result = dedupe([rec(nfc, "20250101000000", "a"), rec(nfd, "20250101000000", "b")])
    assert tags(result) == ["b"] and result.duplicates == 1


def test_accepts_any_iterable():
    result = dedupe(rec("A", f"2025010{i}000000", str(i)) for i in range(1, 4))
    assert tags(result) == ["3"] and result.duplicates == 2


def test_procedures_keyed_by_code_and_unit():
    data = [{"MaTTHC": "1.001", "MaDonViThucHien": "P1", "NgayCapNhat": "20250101000000", "tag": "p1-old"},
            {"MaTTHC": "1.001", "MaDonViThucHien": "P2", "NgayCapNhat": "20250101000000", "tag": "p2"},
            {"MaTTHC": "1.001", "MaDonViThucHien": "P1", "NgayCapNhat": "20250102000000", "tag": "p1-new"}]
    result = dedupe_procedures(data)
    assert tags(result) == ["p1-new", "p2"] and result.duplicates == 1
