"""Personal data is dropped at extraction: the whitelist applied to a page's JSON text
(privacy.strip_raw_page, the fast path) gives exactly what it gives on the decoded records
(privacy.strip_record), whatever the records hold and however the portal lays its JSON out."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from parreport.privacy import MASK, WHITELISTS, strip_raw_page, strip_record


def _names(spec, out: set[str]) -> set[str]:
    for key, sub in spec.items():
        out.add(key)
        if isinstance(sub, dict):
            _names(sub, out)
    return out


NAMES = sorted(set().union(*(_names(spec, set()) for spec in WHITELISTS.values()))
               | {"ChuHoSo", "SoGiayToChuHoSo", "TenTepDinhKem", "GopY", "TruongLa", "Mã"})
scalars = (st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.text(max_size=8)
           | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(["", "https://x/y.pdf"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(NAMES), inner, max_size=5), max_leaves=12)
records = st.dictionaries(st.sampled_from(NAMES), values, max_size=12)


@settings(max_examples=300, deadline=None)
@given(dataset=st.sampled_from(sorted(WHITELISTS)), page=st.lists(records | values, max_size=4),
       layout=st.sampled_from(["compact", "spaced", "indented", "ascii"]))
def test_the_text_path_strips_exactly_as_the_decoded_path(dataset, page, layout):
    kw = {"compact": {"separators": (",", ":"), "ensure_ascii": False}, "spaced": {"ensure_ascii": False},
          "indented": {"indent": 2, "ensure_ascii": False}, "ascii": {}}[layout]
    raw = json.dumps(page, **kw).encode("utf-8")
    dropped_text: set[str] = set()
    texts = strip_raw_page(raw, dataset, dropped_text)
    dropped_records: set[str] = set()
    expected = [strip_record(r, dataset, dropped_records) for r in page]
    assert texts is not None
    assert [json.loads(t) for t in texts] == expected
    assert all(b"\n" not in t for t in texts)  # one record, one line in the kept page
    assert dropped_text == dropped_records


def test_personal_fields_never_reach_the_text_and_a_link_is_masked():
    record = {"MaHoSo": "A-1", "ChuHoSo": "Nguyễn Văn A", "SoGiayToChuHoSo": "001099000001",
              "TaiLieuNop": [{"TenTepDinhKem": "cccd-nguyen-van-a.pdf", "DuocSoHoa": "1"}],
              "DanhSachGiayToKetQua": [{"MaKetQua": "KQ", "DuongDanTep": "https://x/nguyen-van-a.pdf"},
                                       {"MaKetQua": "KQ2", "DuongDanTep": ""}],
              "ThongTinEForm": {"SoTruong": 3, "HoTen": "Nguyễn Văn A"}, "Gia": 1.50}
    dropped: set[str] = set()
    [text] = strip_raw_page(json.dumps([record], ensure_ascii=False).encode(), "dossiers", dropped)
    assert b"Nguy" not in text and b"001099000001" not in text and b"nguyen" not in text
    assert json.loads(text)["DanhSachGiayToKetQua"] == [{"MaKetQua": "KQ", "DuongDanTep": MASK},
                                                        {"MaKetQua": "KQ2", "DuongDanTep": ""}]
    assert dropped == {"ChuHoSo", "SoGiayToChuHoSo", "TaiLieuNop[].TenTepDinhKem", "ThongTinEForm.HoTen", "Gia"}


def test_a_record_that_does_not_fit_is_stripped_alone_and_an_unreadable_page_is_left_to_the_caller():
    dropped: set[str] = set()
    raw = b'[{"MaHoSo": "A", "ChuHoSo": "B"}, 7, {"MaHoSo": "C", "TruongLa": 1, "TaiLieuNop": {"TenTepDinhKem": "x"}}]'
    texts = strip_raw_page(raw, "dossiers", dropped)
    assert [json.loads(t) for t in texts] == [{"MaHoSo": "A"}, 7, {"MaHoSo": "C", "TaiLieuNop": {}}]
    assert dropped == {"ChuHoSo", "TruongLa", "TaiLieuNop.TenTepDinhKem"}
    for raw in (b'[{"MaHoSo": NaN}]', b'[{"MaHoSo": "A"', b'{"MaHoSo": "A"}'):
        dropped = set()
        assert strip_raw_page(raw, "dossiers", dropped) is None and not dropped


def test_a_record_whose_only_misfit_is_extra_top_level_fields_keeps_the_fast_path(monkeypatch):
    """A portal's own extra fields (the contract does not forbid them): dropped by name, the rest
    read by the kind's struct — the same record and the same dropped names as the general path."""
    import parreport.privacy as privacy

    record = {"MaHoSo": "A-1", "ChuHoSo": "Nguyễn Văn A", "MaHoSoLienThong": "LT-9", "GhiChuNoiBo": {"x": [1]},
              "ThongTinEForm": {"SoTruong": 3}, "DanhSachGiayToKetQua": [{"DuongDanTep": "https://x/a.pdf"}]}
    expected_dropped: set[str] = set()
    expected = strip_record(record, "dossiers", expected_dropped)
    monkeypatch.setattr(privacy, "_record_text", lambda *a: (_ for _ in ()).throw(AssertionError("general path")))
    dropped: set[str] = set()
    [text] = strip_raw_page(json.dumps([record], ensure_ascii=False).encode(), "dossiers", dropped)
    assert json.loads(text) == expected and b"Nguy" not in text and b"LT-9" not in text
    assert dropped == expected_dropped == {"ChuHoSo", "MaHoSoLienThong", "GhiChuNoiBo"}
