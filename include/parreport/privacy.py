"""Personal data is dropped at extraction (Nghị định 13/2023/NĐ-CP; DESIGN.md).

A whitelist, not a blacklist: each record keeps only the contract's fields that no figure or
check needs to hide; every other field — the applicant's name, ID number, phone, e-mail,
address, the free-text summary and comments, attached file names, and any field the contract
does not define — is dropped before anything touches disk. File links of results
(DuongDanTep) can carry names, so a non-empty one is replaced by a fixed marker: only its
presence matters to a figure.
"""
from __future__ import annotations

from typing import Any

MASK = "[da-an]"

# field -> None (keep the value as it is) or a nested whitelist for objects / arrays of objects
_FEE = {"MaPhiLePhi": None, "TenPhiLePhi": None, "Gia": None, "HinhThucThu": None}
_DOC = {"DuocSoHoa": None, "DuocTaiSuDung": None, "DuocLayTuKhoDMQG": None}
_RESULT = {"TenGiayTo": None, "MaKetQua": None, "DuongDanTep": "mask"}
_SUPPLEMENT = {"NgayYeuCau": None, "NgayBoSung": None}

DOSSIER_FIELDS: dict[str, Any] = {
    "MaHoSo": None, "MaTTHC": None, "TenTTHC": None, "MaLinhVuc": None, "TenLinhVuc": None,
    "DonViXuLy": None, "KenhThucHien": None, "NgayNopHoSo": None, "NgayTiepNhan": None,
    "NgayHenTra": None, "NgayKetThucXuLy": None, "NgayTra": None, "TrangThaiHoSo": None,
    "DuocThanhToanTrucTuyen": None, "DanhSachLePhi": _FEE, "HoSoCoThanhPhanSoHoa": None,
    "TaiLieuNop": _DOC, "DanhSachGiayToKetQua": _RESULT, "DanhSachHoSoBoSung": _SUPPLEMENT,
    "TaiKhoanDuocXacThucVoiVNeID": None,
    "ThongTinEForm": {"SoTruong": None, "SoTruongTuDong": None},
    "ThuXinLoi": {"SoThu": None, "NgayGui": None},
    "DongBoDVCQG": None, "NgayCapNhat": None,
}
RATING_FIELDS = {"MaDanhGia": None, "MaHoSo": None, "DonViXuLy": None, "NgayDanhGia": None,
                 "MucDoHaiLong": None}
PROCEDURE_FIELDS = {k: None for k in (
    "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MucDo", "MotCua", "DacThu",
    "DuDieuKienTrucTuyen", "BonTaiCho", "CoPhiLePhi", "ThanhToanTrucTuyen", "ThoiHanGiaiQuyet",
    "MaDonViThucHien", "HieuLuc", "NgayCapNhat")}
UNIT_FIELDS = {k: None for k in ("MaDonVi", "TenDonVi", "MaDonViCha", "CapDonVi")}
_COUNTS = {"Tong": None, "TrucTuyen": None, "TrucTiepBuuChinh": None, "KyTruocChuyenSang": None,
           "TruocHan": None, "DungHan": None, "QuaHan": None, "TrongHan": None}
BIEU06_FIELDS = {"MaLinhVuc": None, "TenLinhVuc": None, "TiepNhan": _COUNTS, "DaGiaiQuyet": _COUNTS,
                 "DangGiaiQuyet": _COUNTS}

WHITELISTS = {"dossiers": DOSSIER_FIELDS, "ratings": RATING_FIELDS, "procedures": PROCEDURE_FIELDS,
              "units": UNIT_FIELDS, "bieu06": BIEU06_FIELDS}


def _apply(value: Any, spec: Any, dropped: set[str], path: str) -> Any:
    if spec is None:
        if type(value) not in _PLAIN:
            _odd[0] = True
        return value
    if spec == "mask":
        return MASK if isinstance(value, str) and value != "" else value
    if isinstance(value, list):
        return [_apply(item, spec, dropped, path + "[]") for item in value]
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            sub = spec.get(key, _DROP)
            if sub is None:  # the common case: a whitelisted scalar field, kept as it is
                kept[key] = item
                if type(item) not in _PLAIN:
                    _odd[0] = True
            elif sub is _DROP:
                dropped.add(f"{path}.{key}" if path else key)
            else:
                kept[key] = _apply(item, sub, dropped, f"{path}.{key}" if path else key)
        return kept
    return value  # a scalar where an object belongs: kept, validation reports the type error


_DROP = object()
# Kept values of these types need no second look; anything else (a float, which may be NaN or
# Infinity, a container where a scalar belongs) makes strip_page report the page as not plain.
_PLAIN = frozenset({str, int, bool, type(None)})
_odd = [False]


def strip_page(records: list, dataset: str, dropped: set[str]) -> tuple[list, bool]:
    """:func:`strip_record` of every record of a page, and whether every kept value is a
    string, an integer, a boolean or null ("plain": any JSON encoder writes it the same way)."""
    _odd[0] = False
    out = [_apply(r, WHITELISTS[dataset], dropped, "") for r in records]
    return out, not _odd[0]


def strip_record(record: Any, dataset: str, dropped: set[str] | None = None) -> Any:
    """The record with only whitelisted fields; names of dropped fields are added to ``dropped``."""
    return _apply(record, WHITELISTS[dataset], dropped if dropped is not None else set(), "")


# -- the same whitelist on a page's JSON text (the fast path) ------------------------------------
# A listing page arrives as JSON text (portal.Page.raw). Rather than decode every value into
# Python and encode it again, each record is read by msgspec into a struct that declares the
# contract's fields of its kind, every value kept as its JSON text (msgspec.Raw), and written
# back without the personal fields: the kept values stay exactly as received and the personal
# ones are never decoded. The structs forbid fields the contract does not define, and a nested
# list or object must be one: a record that does not fit (an unknown field, a planted type
# error, a record that is not an object) is stripped by :func:`strip_record` instead, so both
# paths give the same records and report the same dropped fields (tests/test_privacy.py).

# fields of the contract that are dropped (personal data), by kind and by nested field
_CONTRACT_DROPPED = {"dossiers": ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "DiaChi", "TrichYeuHoSo"),
                     "TaiLieuNop": ("TenTepDinhKem",), "ratings": ("GopY",)}
_ARRAYS = frozenset({"DanhSachLePhi", "TaiLieuNop", "DanhSachGiayToKetQua", "DanhSachHoSoBoSung"})


class _Plan:
    """A struct type for one whitelist and what is left to do on a decoded instance: the
    personal fields to unset, the fields to mask, the nested plans with work of their own."""

    def __init__(self, name: str, spec: dict, drop: tuple[str, ...]):
        fields, self.nested, self.mask, self.drop = [], [], [], drop
        for key, sub in spec.items():
            if sub is None:
                fields.append((key, _msgspec.Raw, _msgspec.UNSET))
            elif sub == "mask":
                fields.append((key, _msgspec.Raw, _msgspec.UNSET))
                self.mask.append(key)
            else:
                plan = _Plan(name + key, sub, _CONTRACT_DROPPED.get(key, ()))
                tp = list[plan.type] if key in _ARRAYS else plan.type
                fields.append((key, tp | None, _msgspec.UNSET))
                if plan.nested or plan.mask or plan.drop:
                    self.nested.append((key, plan, key in _ARRAYS))
        fields += [(key, _msgspec.Raw, _msgspec.UNSET) for key in drop]
        self.type = _msgspec.defstruct(name, fields, forbid_unknown_fields=True)
        self.known = frozenset(self.type.__struct_fields__)
        self.fields = fields

    def clean(self, obj, dropped: set[str], path: str) -> None:
        for key in self.drop:
            if getattr(obj, key) is not _UNSET:
                setattr(obj, key, _UNSET)
                dropped.add(f"{path}.{key}" if path else key)
        for key in self.mask:
            value = getattr(obj, key)
            if value is not _UNSET:
                text = bytes(value)
                if text[:1] == b'"' and text != b'""':
                    setattr(obj, key, _MASK_RAW)
        for key, plan, is_list in self.nested:
            value = getattr(obj, key)
            if value is _UNSET or value is None:
                continue
            sub = f"{path}.{key}" if path else key
            if is_list:
                for item in value:
                    plan.clean(item, dropped, sub + "[]")
            else:
                plan.clean(value, dropped, sub)


def strip_raw_page(raw: bytes, dataset: str, dropped: set[str]) -> list[bytes] | None:
    """Each record of a page's ``data`` array (JSON text) as the JSON text of
    :func:`strip_record` of it, one line each; the names of dropped fields are added to
    ``dropped``. None when msgspec cannot read the page (NaN, Infinity, not an array): the
    caller then decodes the page and strips the records."""
    if _PAGE is None:
        return None
    plan = _plans().get(dataset)
    if plan is None:
        return None
    try:
        records = _PAGE.decode(raw)
    except ValueError:
        return None
    decode, encode, clean = plan.decoder.decode, _ENCODE, plan.clean
    out = []
    for record in records:
        try:
            obj = decode(record)
        except ValueError:  # does not fit the contract's shape
            obj = _with_extra_fields_dropped(record, plan, dropped)
            if obj is None:  # the general path
                out.append(_record_text(record, dataset, dropped))
                continue
        clean(obj, dropped, "")
        text = encode(obj)
        if b"\n" in text:  # a kept value laid out on several lines, as received: one record, one line
            text = encode(_msgspec.json.decode(text))
        out.append(text)
    return out


def _with_extra_fields_dropped(raw, plan: "_Plan", dropped: set[str]):
    """The record read by the kind's struct when its only misfit is top-level fields the
    contract does not define (a portal's own extras): the struct's twin that ignores unknown
    fields at the top level (nested ones still refuse them) reads it, and the extras' names go
    to ``dropped``, as the general path reports them — in half its time (a page of dossiers
    with two extra fields: 25 → 18 µs a record). None for any other misfit."""
    try:
        obj = plan.lenient.decode(raw)
        names = _FIELDS.decode(raw)
    except ValueError:
        return None
    extra = [name for name in names if name not in plan.known]
    if not extra:  # refused by the struct for another reason after all
        return None
    dropped.update(extra)
    return obj


def _record_text(raw, dataset: str, dropped: set[str]) -> bytes:
    import json

    try:
        record = _msgspec.json.decode(raw)
    except ValueError:
        record = json.loads(bytes(raw))
    _odd[0] = False
    kept = _apply(record, WHITELISTS[dataset], dropped, "")
    if not _odd[0]:
        try:
            return _ENCODE(kept)
        except (TypeError, ValueError):
            pass
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_PLANS: dict[str, _Plan] = {}


def _plans() -> dict[str, _Plan]:
    if not _PLANS:
        for dataset in WHITELISTS:
            plan = _Plan(f"_{dataset}", WHITELISTS[dataset], _CONTRACT_DROPPED.get(dataset, ()))
            plan.decoder = _msgspec.json.Decoder(plan.type)
            plan.lenient = _msgspec.json.Decoder(_msgspec.defstruct(f"_{dataset}_extras", plan.fields))
            _PLANS[dataset] = plan
    return _PLANS


try:  # msgspec comes with Airflow
    import msgspec as _msgspec

    _PAGE = _msgspec.json.Decoder(list[_msgspec.Raw])
    _FIELDS = _msgspec.json.Decoder(dict[str, _msgspec.Raw])
    _ENCODE = _msgspec.json.Encoder().encode
    _UNSET = _msgspec.UNSET
    _MASK_RAW = _msgspec.Raw(_msgspec.json.encode(MASK))
except ImportError:  # pragma: no cover
    _PAGE = None
