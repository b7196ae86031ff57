"""The Great Expectations suites of INDICATORS.md §5, as data (``expectations/*.json``).

The JSON files in ``expectations/`` are the reviewed artefact: one suite per record kind
(``ho_so``, ``danh_gia``, ``thu_tuc``, ``don_vi``), each expectation with, in ``meta``:

* ``muc_do``: ``CHAN`` (blocking: the record is quarantined — for a rating, it leaves
  HL_HAI_LONG) or ``CANH_BAO`` (warning: reported, nothing is removed);
* ``quy_tac``: the rule code (those of :data:`parreport.quality.rules.RULE_TITLES`, plus the
  dataset-level codes of :data:`EXTRA_RULE_TITLES`);
* ``truong``: the field it is about (``""`` = the record / the table);
* ``giai_thich``: what it means, in Vietnamese, for a data steward.

The same explanation is in the expectation's ``notes`` so that Data Docs show it.

They are generated from the contract's record shapes (:mod:`parreport.quality.rules`) by
:func:`build_suites`, so that no field is forgotten; ``python -m parreport.quality.suites``
rewrites the files, and a test fails when the files and the generator disagree (edit both, or
regenerate and review the diff). Runtime values (the catalogue's codes, the agency's units,
the volume bounds) are GX suite parameters (``{"$PARAMETER": name}``) supplied per run.
"""
from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

from .frames import ABSENT, KIND_FIELDS, allowed_types, field_paths
from .rules import (
    DANHGIA_REQUIRED,
    DONVI_REQUIRED,
    ENUM,
    FINISHED_STATUSES,
    HOSO_REQUIRED,
    RECEIVED_STATUSES,
    RULE_TITLES,
    THUTUC_REQUIRED,
    TS,
)

__all__ = ["SUITE_NAMES", "SUITE_TITLES", "EXTRA_RULE_TITLES", "TS_REGEX", "build_suites", "expectations_dir",
           "load_suite_dicts", "write_suites", "rule_title"]

SUITE_NAMES = ("ho_so", "danh_gia", "thu_tuc", "don_vi")
SUITE_TITLES = {"ho_so": "Hồ sơ", "danh_gia": "Đánh giá", "thu_tuc": "Thủ tục", "don_vi": "Đơn vị"}
REQUIRED = {"ho_so": HOSO_REQUIRED, "danh_gia": DANHGIA_REQUIRED, "thu_tuc": THUTUC_REQUIRED,
            "don_vi": DONVI_REQUIRED}
EXTRA_RULE_TITLES = {
    "duplicate_id": "Mã bản ghi bị trùng sau khi khử trùng",
    "volume_vs_previous": "Số hồ sơ thay đổi quá một nửa so với quý trước",
    "volume_vs_year_before": "Số hồ sơ thay đổi quá một nửa so với cùng kỳ năm trước",
    "agency_missing": "Đơn vị báo cáo không có trong danh sách đơn vị",
}

# A real yyyyMMddHHmmss instant (years 0001–9999, leap years by the Gregorian rule), exactly
# the texts rules.valid_timestamp accepts (a test compares both over every day of 400 years).
_Y = r"(?!0000)[0-9]{4}"
_MD = (r"(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])"
       r"|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
       r"|02(?:0[1-9]|1[0-9]|2[0-8]))")
_LEAP = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
_HMS = r"(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]"
TS_CORE = rf"(?:(?:{_Y}{_MD}|(?!0000){_LEAP}0229){_HMS})"
TS_REGEX = rf"^{TS_CORE}\Z"
TS_LIST_REGEX = rf"^{TS_CORE}(?:\|{TS_CORE})*\Z"

CHAN, CANH_BAO = "CHAN", "CANH_BAO"
_TYPE_VI = {"string": "chuỗi ký tự", "integer": "số nguyên", "number": "số", "array": "danh sách (mảng)",
            "object": "đối tượng JSON"}


def rule_title(rule: str) -> str:
    return RULE_TITLES.get(rule) or EXTRA_RULE_TITLES.get(rule) or rule


def _subsets(values: tuple[str, ...] | list[str]) -> list[str]:
    """Every non-empty set of ``values``, sorted and joined by ``|`` (how frames writes the
    types or codes met in the items of an array)."""
    vals = sorted(set(values))
    out = []
    for n in range(1, len(vals) + 1):
        out.extend("|".join(c) for c in itertools.combinations(vals, n))
    return out


def _exp(kind: str, kwargs: dict, *, muc_do: str, quy_tac: str, truong: str, giai_thich: str) -> dict:
    return {
        "type": kind,
        "kwargs": kwargs,
        "meta": {"muc_do": muc_do, "quy_tac": quy_tac, "truong": truong, "giai_thich": giai_thich},
        "notes": f"[{'CHẶN' if muc_do == CHAN else 'CẢNH BÁO'}] {giai_thich}",
        "severity": "critical" if muc_do == CHAN else "warning",
    }


def _record_rules(suite: str, muc_do: str) -> list[dict]:
    """Shape rules shared by every record kind: the record is an object, required fields are
    present, every field has the contract's JSON type, codes are in their lists, timestamps
    are real instants (contract fields and any other field whose name begins with Ngay)."""
    what = SUITE_TITLES[suite].lower()
    out = [_exp("expect_column_values_to_be_in_set", {"column": "kieu:$", "value_set": ["object"]},
                muc_do=muc_do, quy_tac="bad_type", truong="",
                giai_thich=f"Mỗi bản ghi {what} phải là một đối tượng JSON.")]
    for name in REQUIRED[suite]:
        out.append(_exp(
            "expect_column_values_to_not_be_in_set",
            {"column": f"kieu:{name}", "value_set": [ABSENT]},
            muc_do=muc_do, quy_tac="missing_field", truong=name,
            giai_thich=f"Trường bắt buộc {name} phải có giá trị (null hoặc chuỗi rỗng được coi là thiếu)."))
    for p in field_paths(KIND_FIELDS[suite]):
        kind = p.spec.kind
        allowed = list(allowed_types(kind))
        types_vi = " hoặc ".join(_TYPE_VI[t] for t in allowed)
        where = " (mỗi phần tử của danh sách)" if p.in_array else ""
        value_set = ([ABSENT] + _subsets(allowed)) if p.in_array else [ABSENT] + allowed
        if kind == "int":
            extra = " — số đếm không được có phần thập phân"
        elif kind == "num":
            extra = " — không được viết số thành chuỗi"
        else:
            extra = ""
        out.append(_exp("expect_column_values_to_be_in_set", {"column": f"kieu:{p.name}", "value_set": value_set},
                        muc_do=muc_do, quy_tac="bad_type", truong=p.name,
                        giai_thich=f"{p.name}{where} phải là {types_vi} theo hợp đồng dữ liệu{extra}; "
                                   f"null được coi là vắng, không phải lỗi kiểu."))
        if kind == ENUM:
            codes = list(p.spec.values)
            value_set = _subsets(codes) if p.in_array else codes
            shown = ", ".join(f"'{c}'" for c in codes)
            out.append(_exp("expect_column_values_to_be_in_set", {"column": f"ma:{p.name}", "value_set": value_set},
                            muc_do=muc_do, quy_tac="bad_code", truong=p.name,
                            giai_thich=f"{p.name}{where} phải là một mã trong danh mục ({shown})."))
        elif kind == TS:
            out.append(_exp("expect_column_values_to_match_regex",
                            {"column": f"ngay:{p.name}", "regex": TS_LIST_REGEX if p.in_array else TS_REGEX},
                            muc_do=muc_do, quy_tac="bad_timestamp", truong=p.name,
                            giai_thich=f"{p.name}{where} phải đúng dạng yyyyMMddHHmmss và là một thời điểm "
                                       f"có thật (ví dụ 20250230… hay giờ 24 là sai)."))
    out.append(_exp("expect_column_values_to_be_in_set",
                    {"column": "ngay_ngoai_hop_dong", "value_set": ["hop_le", "khong_co"]},
                    muc_do=muc_do, quy_tac="bad_timestamp", truong="Ngay*",
                    giai_thich="Mọi trường khác có tên bắt đầu bằng 'Ngay' (kể cả lồng bên trong) cũng phải "
                               "đúng dạng yyyyMMddHHmmss và là thời điểm có thật."))
    return out


_ALL_TYPES = (ABSENT, "string", "integer", "number", "boolean", "array", "object", "khong_huu_han", "khac")


def _status_pairs(field: str, statuses) -> list[list[str]]:
    """Every (TrangThaiHoSo, JSON type of ``field``) pair allowed: any, except a status of
    ``statuses`` with the field absent."""
    codes = sorted(RECEIVED_STATUSES | FINISHED_STATUSES | {"1", "3"}, key=int)
    return [[c, t] for c in codes for t in _ALL_TYPES if not (c in statuses and t == ABSENT)]


def _ho_so() -> list[dict]:
    out = _record_rules("ho_so", CHAN)
    status = "ma:TrangThaiHoSo"
    out += [
        _exp("expect_column_pair_values_to_be_in_set",
             {"column_A": status, "column_B": "kieu:NgayTiepNhan", "ignore_row_if": "either_value_is_missing",
              "value_pairs_set": _status_pairs("NgayTiepNhan", RECEIVED_STATUSES)},
             muc_do=CHAN, quy_tac="received_without_T", truong="NgayTiepNhan",
             giai_thich="Hồ sơ đã tiếp nhận (trạng thái 2, 4–10) phải có NgayTiepNhan (cặp trạng thái – "
                        "kiểu của NgayTiepNhan không được là (2/4–10, absent))."),
        _exp("expect_column_pair_values_to_be_in_set",
             {"column_A": status, "column_B": "kieu:NgayKetThucXuLy", "ignore_row_if": "either_value_is_missing",
              "value_pairs_set": _status_pairs("NgayKetThucXuLy", FINISHED_STATUSES)},
             muc_do=CHAN, quy_tac="finished_without_K", truong="NgayKetThucXuLy",
             giai_thich="Hồ sơ đã kết thúc (trạng thái 7, 8, 9, 10) phải có NgayKetThucXuLy."),
        _exp("expect_column_pair_values_a_to_be_greater_than_b",
             {"column_A": "thoi_diem_ket_thuc", "column_B": "thoi_diem:NgayTiepNhan", "or_equal": True,
              "ignore_row_if": "either_value_is_missing"},
             muc_do=CHAN, quy_tac="K_before_T", truong="NgayKetThucXuLy",
             giai_thich="Hồ sơ đã kết thúc: NgayKetThucXuLy không được sớm hơn NgayTiepNhan (K của hồ sơ "
                        "chưa kết thúc không được xét, INDICATORS.md §2)."),
        _exp("expect_column_values_to_be_in_set",
             {"column": "MaTTHC", "value_set": {"$PARAMETER": "danh_muc_ma_tthc"}},
             muc_do=CHAN, quy_tac="unknown_procedure", truong="MaTTHC",
             giai_thich="MaTTHC phải có trong danh mục thủ tục hành chính của cơ quan (lấy cùng kỳ từ Cổng DVC)."),
        _exp("expect_column_values_to_be_in_set",
             {"column": "DonViXuLy", "value_set": {"$PARAMETER": "don_vi_thuoc_co_quan"}},
             muc_do=CHAN, quy_tac="unit_outside_agency", truong="DonViXuLy",
             giai_thich="DonViXuLy phải là cơ quan báo cáo hoặc một đơn vị trực thuộc."),
        _exp("expect_column_values_to_be_between", {"column": "gia_min:DanhSachLePhi[].Gia", "min_value": 0},
             muc_do=CHAN, quy_tac="negative_fee", truong="DanhSachLePhi[].Gia",
             giai_thich="Số tiền phí, lệ phí (DanhSachLePhi[].Gia) không được âm."),
        _exp("expect_column_values_to_be_between", {"column": "so:ThongTinEForm.SoTruong", "min_value": 0},
             muc_do=CHAN, quy_tac="bad_eform", truong="ThongTinEForm.SoTruong",
             giai_thich="ThongTinEForm.SoTruong (số trường của biểu mẫu điện tử) không được âm."),
        _exp("expect_column_values_to_be_between", {"column": "so:ThongTinEForm.SoTruongTuDong", "min_value": 0},
             muc_do=CHAN, quy_tac="bad_eform", truong="ThongTinEForm.SoTruongTuDong",
             giai_thich="ThongTinEForm.SoTruongTuDong (số trường tự động điền) không được âm."),
        _exp("expect_column_pair_values_a_to_be_greater_than_b",
             {"column_A": "so:ThongTinEForm.SoTruong", "column_B": "so:ThongTinEForm.SoTruongTuDong",
              "or_equal": True, "ignore_row_if": "either_value_is_missing"},
             muc_do=CHAN, quy_tac="bad_eform", truong="ThongTinEForm.SoTruongTuDong",
             giai_thich="Số trường tự động điền không được lớn hơn tổng số trường của biểu mẫu "
                        "(trường vắng được tính là 0)."),
        _exp("expect_column_values_to_be_unique", {"column": "ref"},
             muc_do=CHAN, quy_tac="duplicate_id", truong="MaHoSo",
             giai_thich="Sau khi khử trùng, mỗi MaHoSo chỉ còn một bản ghi (nếu không, hồ sơ bị đếm hai lần)."),
        # -- warnings ---------------------------------------------------------------------------
        _exp("expect_column_pair_values_a_to_be_greater_than_b",
             {"column_A": "ngay_thang:NgayHenTra", "column_B": "ngay_thang:NgayTiepNhan", "or_equal": True,
              "ignore_row_if": "either_value_is_missing"},
             muc_do=CANH_BAO, quy_tac="due_before_receipt", truong="NgayHenTra",
             giai_thich="Ngày hẹn trả (theo ngày) không nên sớm hơn ngày tiếp nhận; chỉ cảnh báo, hồ sơ vẫn "
                        "được tính."),
        _exp("expect_table_row_count_to_be_between",
             {"min_value": {"$PARAMETER": "so_ho_so_quy_truoc_min"},
              "max_value": {"$PARAMETER": "so_ho_so_quy_truoc_max"}},
             muc_do=CANH_BAO, quy_tac="volume_vs_previous", truong="",
             giai_thich="Số hồ sơ của kỳ không nên tăng hoặc giảm quá một nửa so với quý trước."),
        _exp("expect_table_row_count_to_be_between",
             {"min_value": {"$PARAMETER": "so_ho_so_cung_ky_min"},
              "max_value": {"$PARAMETER": "so_ho_so_cung_ky_max"}},
             muc_do=CANH_BAO, quy_tac="volume_vs_year_before", truong="",
             giai_thich="Số hồ sơ của kỳ không nên tăng hoặc giảm quá một nửa so với cùng kỳ năm trước."),
    ]
    return out


def _danh_gia() -> list[dict]:
    out = _record_rules("danh_gia", CHAN)
    out.append(_exp("expect_column_values_to_be_in_set",
                    {"column": "DonViXuLy", "value_set": {"$PARAMETER": "don_vi_thuoc_co_quan"}},
                    muc_do=CHAN, quy_tac="unit_outside_agency", truong="DonViXuLy",
                    giai_thich="DonViXuLy của đánh giá phải là cơ quan báo cáo hoặc một đơn vị trực thuộc; "
                               "đánh giá vi phạm không được tính vào HL_HAI_LONG."))
    return out


def _thu_tuc() -> list[dict]:
    out = _record_rules("thu_tuc", CANH_BAO)
    out += [
        _exp("expect_compound_columns_to_be_unique", {"column_list": ["ref", "MaDonViThucHien"]},
             muc_do=CANH_BAO, quy_tac="duplicate_id", truong="MaTTHC",
             giai_thich="Mỗi cặp (MaTTHC, MaDonViThucHien) chỉ có một mục trong danh mục sau khi khử trùng."),
        _exp("expect_column_values_to_be_in_set",
             {"column": "MaDonViThucHien", "value_set": {"$PARAMETER": "don_vi_thuoc_co_quan"}},
             muc_do=CANH_BAO, quy_tac="unit_outside_agency", truong="MaDonViThucHien",
             giai_thich="Đơn vị thực hiện thủ tục nên là cơ quan báo cáo hoặc một đơn vị trực thuộc."),
    ]
    return out


def _don_vi() -> list[dict]:
    out = _record_rules("don_vi", CANH_BAO)
    out += [
        _exp("expect_column_values_to_be_unique", {"column": "ref"},
             muc_do=CANH_BAO, quy_tac="duplicate_id", truong="MaDonVi",
             giai_thich="Mỗi MaDonVi chỉ xuất hiện một lần trong danh sách đơn vị."),
        _exp("expect_column_distinct_values_to_contain_set",
             {"column": "ref", "value_set": {"$PARAMETER": "co_quan_bao_cao"}},
             muc_do=CANH_BAO, quy_tac="agency_missing", truong="MaDonVi",
             giai_thich="Danh sách đơn vị phải có chính cơ quan báo cáo (để xác định các đơn vị trực thuộc)."),
    ]
    return out


def build_suites() -> dict[str, dict]:
    """The four suites as GX ExpectationSuite dicts (name, meta, expectations)."""
    builders = {"ho_so": _ho_so, "danh_gia": _danh_gia, "thu_tuc": _thu_tuc, "don_vi": _don_vi}
    descr = {
        "ho_so": "Quy tắc kiểm tra hồ sơ (INDICATORS.md §5). CHẶN: hồ sơ bị cách ly, không vào số liệu. "
                 "CẢNH BÁO: chỉ báo cáo.",
        "danh_gia": "Quy tắc kiểm tra đánh giá mức độ hài lòng: đánh giá vi phạm chỉ bị loại khỏi HL_HAI_LONG.",
        "thu_tuc": "Kiểm tra danh mục thủ tục hành chính (chỉ cảnh báo: danh mục là dữ liệu tham chiếu).",
        "don_vi": "Kiểm tra danh sách đơn vị (chỉ cảnh báo: dữ liệu tham chiếu).",
    }
    return {name: {"name": name, "meta": {"mo_ta": descr[name], "tieu_de": SUITE_TITLES[name]},
                   "expectations": builders[name]()} for name in SUITE_NAMES}


def expectations_dir() -> Path:
    """``$PARREPORT_EXPECTATIONS_DIR`` or the repository's ``expectations/``."""
    env = os.environ.get("PARREPORT_EXPECTATIONS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "expectations"


def load_suite_dicts(directory: Path | None = None) -> dict[str, dict]:
    """The suites as reviewed in ``expectations/``; the generated ones where a file is missing
    (an installation without the repository checkout)."""
    directory = directory or expectations_dir()
    built = None
    out = {}
    for name in SUITE_NAMES:
        path = directory / f"{name}.json"
        if path.is_file():
            out[name] = json.loads(path.read_text(encoding="utf-8"))
        else:
            built = built or build_suites()
            out[name] = built[name]
    return out


def dumps(suite: dict) -> str:
    return json.dumps(suite, ensure_ascii=False, indent=2) + "\n"


def write_suites(directory: Path | None = None) -> list[Path]:
    directory = directory or expectations_dir()
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, suite in build_suites().items():
        path = directory / f"{name}.json"
        path.write_text(dumps(suite), encoding="utf-8")
        paths.append(path)
    return paths


def _main(argv: list[str]) -> int:  # pragma: no cover - a maintenance command
    for p in write_suites(Path(argv[0]) if argv else None):
        print(p)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
