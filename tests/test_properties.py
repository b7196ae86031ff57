"""Property-based tests (hypothesis) where inputs are open-ended: timestamps and the types of
records (NFC/NFD text, empty strings, nested ``Ngay*`` fields), the RFC 8785 + JWS round trip,
reporting windows at their edges, and de-duplication against delivery order."""
from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from parreport.periods import WINDOW_RULES, last_closed_window, window_containing, window_for
from parreport.quality.dedupe import dedupe
from parreport.quality.contract import ENUM, HOSO_FIELDS, STR, TS, valid_timestamp
from parreport.quality.rules import RULE_TITLES
from parreport.report.signing import SignatureInvalid, content_sha256, generate_keypair, sign_body, verify_body
from parreport.timeutil import BadTimestamp, format_ts, parse_ts
from tests.support.rules import RuleContext, check_dossier, parse_timestamp

SECOND = timedelta(seconds=1)
moments = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2199, 12, 31, 23, 59, 59)).map(
    lambda d: d.replace(microsecond=0))
# 14-character strings: ASCII digits (real and unreal instants), other Unicode digits, anything
fourteen_digits = st.from_regex(r"[0-9]{14}", fullmatch=True)
unicode_digits = st.text(st.characters(categories=["Nd"]), min_size=14, max_size=14)
any_text = st.text(max_size=20)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# -- timestamps ---------------------------------------------------------------------------------
@given(moments)
def test_a_real_instant_round_trips_through_the_contract_format(moment):
    text = format_ts(moment)
    assert len(text) == 14 and valid_timestamp(text)
    assert parse_ts(text) == parse_timestamp(text) == moment


@given(st.one_of(fourteen_digits, unicode_digits, any_text, st.none(), st.integers(), st.floats()))
def test_the_three_timestamp_readers_agree_on_anything(value):
    def outcome(parse):
        try:
            return ("ok", parse(value))
        except BadTimestamp:
            return ("bad", None)

    fast, reference = outcome(parse_timestamp), outcome(parse_ts)
    assert fast == reference
    assert valid_timestamp(value) == (fast[0] == "ok" and fast[1] is not None)
    if value is None or value == "":
        assert fast == ("ok", None)  # absent, never an error


@given(moments, moments)
def test_valid_timestamps_order_as_the_instants_they_name(a, b):
    assert (format_ts(a) < format_ts(b)) == (a < b)
    assert format_ts(a)[:8] == f"{a:%Y%m%d}"  # the calendar date the figures use


# -- the types of a record ----------------------------------------------------------------------
CTX = RuleContext(procedure_codes={"1.001"}, agency_units={"A"})
BASE = {"MaHoSo": "HS-1", "MaTTHC": "1.001", "DonViXuLy": "A", "TrangThaiHoSo": "1",
        "NgayCapNhat": "20250101000000"}
ABSENT_CAPABLE = sorted(k for k, spec in HOSO_FIELDS.items() if spec.kind in (STR, TS, ENUM))
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                      st.floats(allow_nan=True, allow_infinity=True), any_text, fourteen_digits)
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["Ngay", "NgayX", "X", "Gia", "SoTruong"]) | any_text,
                                                 inner, max_size=3)), max_leaves=8)


@given(st.dictionaries(st.sampled_from(sorted(HOSO_FIELDS)) | st.sampled_from(["NgayLa", "Khac"]) | any_text,
                       json_value, max_size=12))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_json_record_is_judged_never_a_crash(record):
    violations = check_dossier(record, CTX)
    assert all(v.rule in RULE_TITLES and isinstance(v.message, str) and v.message for v in violations)


@given(st.sampled_from(ABSENT_CAPABLE), json_value)
def test_empty_string_and_null_are_absent_in_text_code_and_timestamp_fields(name, other):
    record = {**BASE, "DanhSachLePhi": other if isinstance(other, list) else None}
    with_empty, with_null = {**record, name: ""}, {**record, name: None}
    without = {k: v for k, v in record.items() if k != name}
    assert check_dossier(with_empty, CTX) == check_dossier(with_null, CTX) == check_dossier(without, CTX)


@given(st.sampled_from(["TenTTHC", "TenLinhVuc", "MaLinhVuc", "ChuHoSo", "DiaChi", "TrichYeuHoSo"]),
       st.text(min_size=1, max_size=30), st.booleans())
def test_text_is_text_in_either_normalisation_form(name, text, decomposed):
    value = nfd(text) if decomposed else nfc(text)
    assert check_dossier({**BASE, name: value}, CTX) == []


def _nest(path_keys: list, leaf_key: str, value):
    """A node holding ``leaf_key: value`` under dicts (a key) and lists (None), outermost first;
    and the JSON path of the leaf below the node."""
    node: object = {leaf_key: value}
    for key in reversed(path_keys):
        node = [node] if key is None else {key: node}
    return node, "".join("[0]" if k is None else f".{k}" for k in path_keys) + f".{leaf_key}"


@given(st.lists(st.one_of(st.none(), st.sampled_from(["Con", "ThongTin", "Muc"])), max_size=4),
       st.sampled_from(["NgayGoc", "NgayA", "Ngay"]),
       st.one_of(fourteen_digits, any_text, st.integers(), moments.map(format_ts)))
def test_every_nested_ngay_field_is_a_timestamp_whatever_its_depth(path_keys, leaf_key, value):
    node, path = _nest(path_keys, leaf_key, value)
    record = {**BASE, "XMoRong": node}
    found = [v for v in check_dossier(record, CTX) if v.rule == "bad_timestamp"]
    absent = value is None or value == ""
    if absent or valid_timestamp(value):
        assert found == []
    else:
        assert [v.field for v in found] == ["XMoRong" + path]
        # an unknown field's value is not echoed (it may be personal data)
        assert found[0].message in (f"XMoRong{path} không đúng dạng yyyyMMddHHmmss",
                                    f"XMoRong{path} không phải thời điểm có thật")


# -- RFC 8785 + JWS -----------------------------------------------------------------------------
KEYS = generate_keypair()
OTHER_KEYS = generate_keypair()
safe_int = st.integers(-(2**53) + 1, 2**53 - 1)
body_leaf = st.one_of(st.none(), st.booleans(), safe_int, st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=12), st.text(max_size=12).map(nfd))
body_value = st.recursive(body_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=10)
bodies = st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k != "ChuKy"), body_value,
                         min_size=1, max_size=6)


@given(bodies, st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_a_signed_body_verifies_after_the_wire_and_in_any_key_order(body, rnd):
    signed = sign_body(body, KEYS[0], "k1")
    wire = json.loads(json.dumps(signed, ensure_ascii=False))  # as the intake receives it
    assert verify_body(wire, {"k1": KEYS[1]}) == "k1"
    items = list(wire.items())
    rnd.shuffle(items)
    shuffled = dict(items)
    assert content_sha256(shuffled) == content_sha256(signed) == content_sha256(body)
    assert verify_body(shuffled, {"k1": KEYS[1]}) == "k1"
    with pytest.raises(SignatureInvalid):
        verify_body(wire, {"k1": OTHER_KEYS[1]})


@given(bodies, st.text(min_size=1, max_size=8))
@settings(max_examples=40, deadline=None)
def test_any_change_to_the_signed_content_breaks_the_signature(body, key):
    signed = sign_body(body, KEYS[0], "k1")
    changed = dict(signed)
    assume(key != "ChuKy")
    changed[key] = ["đã", "sửa"] if signed.get(key) != ["đã", "sửa"] else None
    with pytest.raises(SignatureInvalid):
        verify_body(changed, {"k1": KEYS[1]})


@given(st.text(min_size=1, max_size=12))
@settings(max_examples=40, deadline=None)
def test_no_normalisation_is_applied_the_bytes_signed_are_the_bytes_sent(text):
    assume(nfc(text) != nfd(text))
    signed = sign_body({"TenDonVi": nfc(text)}, KEYS[0], "k1")
    assert content_sha256({"TenDonVi": nfd(text)}) != content_sha256(signed)
    with pytest.raises(SignatureInvalid):
        verify_body({**signed, "TenDonVi": nfd(text)}, {"k1": KEYS[1]})


# -- windows at their edges ---------------------------------------------------------------------
quarters = st.tuples(st.integers(2001, 2099), st.integers(1, 4), st.sampled_from(WINDOW_RULES))


@given(quarters)
def test_a_window_holds_its_first_and_last_second_and_nothing_beyond(q):
    w = window_for(*q)
    assert w.start.time() == datetime.min.time() and (w.end.hour, w.end.minute, w.end.second) == (23, 59, 59)
    assert w.contains(w.start) and w.contains(w.end)
    assert not w.contains(w.start - SECOND) and not w.contains(w.end + SECOND)
    assert parse_ts(w.start_ts) == w.start and parse_ts(w.end_ts) == w.end


@given(quarters)
def test_windows_tile_time_without_gap_or_overlap(q):
    w = window_for(*q)
    assert w.previous().end + SECOND == w.start
    assert window_containing(w.start, w.rule) == w and window_containing(w.end, w.rule) == w
    assert window_containing(w.start - SECOND, w.rule) == w.previous()
    assert window_containing(w.end + SECOND, w.rule).previous() == w


@given(st.datetimes(min_value=datetime(2001, 6, 1), max_value=datetime(2099, 6, 1)), st.sampled_from(WINDOW_RULES))
def test_any_moment_falls_in_exactly_one_window_to_the_second(moment, rule):
    w = window_containing(moment, rule)
    second = moment.replace(microsecond=0)
    assert w.start <= second <= w.end  # 23:59:59.999 still belongs to the window ending 23:59:59
    closed = last_closed_window(moment, rule)
    assert closed.end < second and closed == w.previous()


# -- de-duplication and delivery order ------------------------------------------------------------
STAMPS = ["20250101000000", "20250102000000", "20250102000000", "20250301120000", "", None, "20250230000000",
          "xx"]
keys = st.sampled_from(["HS-é1", nfd("HS-é1"), "HS-2", "HS-3", "", None])


@st.composite
def deliveries(draw):
    n = draw(st.integers(0, 12))
    return [{"MaHoSo": draw(keys), "NgayCapNhat": draw(st.sampled_from(STAMPS)), "id": i} for i in range(n)]


def _key(rec):
    v = rec.get("MaHoSo")
    return nfc(v) if isinstance(v, str) and v else None


def _oracle(records):
    """INDICATORS §2 read directly: per MaHoSo (NFC) the copy with the latest readable NgayCapNhat;
    of copies tied on it (or all unreadable), the one delivered last."""
    winners = {}
    for rec in records:
        k = _key(rec)
        if k is None:
            continue
        stamp = rec["NgayCapNhat"] if valid_timestamp(rec["NgayCapNhat"]) else ""
        if k not in winners or stamp >= winners[k][0]:
            winners[k] = (stamp, rec["id"])
    return {k: i for k, (_, i) in winners.items()}


@given(deliveries(), st.randoms(use_true_random=False))
def test_dedupe_keeps_the_latest_copy_and_breaks_ties_by_delivery_order(records, rnd):
    for order in (records, rnd.sample(records, len(records))):
        result = dedupe(order)
        survivors = {_key(r): r["id"] for r in result.records if _key(r) is not None}
        assert survivors == _oracle(order)
        keyless = [r["id"] for r in order if _key(r) is None]
        assert [r["id"] for r in result.records if _key(r) is None] == keyless  # never merged
        assert result.duplicates == len(order) - len(keyless) - len(survivors)


@given(deliveries(), st.randoms(use_true_random=False))
def test_without_ties_the_survivors_do_not_depend_on_delivery_order(records, rnd):
    # make every (MaHoSo, NgayCapNhat) readable and distinct: then no tie is left to delivery order
    base = datetime(2025, 1, 1)
    distinct = [{**r, "NgayCapNhat": format_ts(base + timedelta(minutes=r["id"]))} for r in records]
    first = dedupe(distinct)
    other = dedupe(rnd.sample(distinct, len(distinct)))
    assert {r["id"] for r in first.records} == {r["id"] for r in other.records}
    assert first.duplicates == other.duplicates


@given(deliveries())
def test_nfc_and_nfd_spellings_of_a_mahoso_are_one_dossier(records):
    assume(any(r["MaHoSo"] == "HS-é1" for r in records) and any(r["MaHoSo"] == nfd("HS-é1") for r in records))
    result = dedupe(records)
    assert sum(1 for r in result.records if _key(r) == "HS-é1") == 1
