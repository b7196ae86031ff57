"""The fast reading of well-formed records (quality/fast_frames.py) gives the general reading's
frame (quality/frames.py), row for row and column for column, whatever the records: the
hand-made fixtures (each planted with a fault), the sandbox's window with its planted faults,
and generated records that are well formed, almost well formed or anything at all."""
from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from parreport.privacy import strip_record
from parreport.quality.contract import DANHGIA_FIELDS, ENUM, HOSO_FIELDS, INT, LIST, NUM, OBJ, TS
from parreport.quality.fast_frames import frame_from_texts
from parreport.quality.frames import records_frame
from tests.support.quality_fixtures import HAND_MADE, VALID, WINDOW


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values only: categoricals as objects, missing as None (category order is not a fact)."""
    out = frame.astype(object)
    return out.where(out.notna(), None)


def assert_same(kind: str, records: list) -> pd.DataFrame:
    rows = list(enumerate(records, start=1))
    texts = [(seq, json.dumps(r, ensure_ascii=False)) for seq, r in rows]
    fast = frame_from_texts(kind, texts)
    general = records_frame(kind, [(seq, json.loads(t)) for seq, t in texts])
    assert list(fast.columns) == list(general.columns)
    assert fast.index.tolist() == general.index.tolist()
    for column in general.columns:
        a, b = fast[column], general[column]
        assert isinstance(a.dtype, pd.CategoricalDtype) == isinstance(b.dtype, pd.CategoricalDtype), column
        if not isinstance(b.dtype, pd.CategoricalDtype):
            assert a.dtype == b.dtype, column
    pd.testing.assert_frame_equal(_plain(fast), _plain(general), check_dtype=False)
    return fast


def test_the_hand_made_fixtures_read_the_same_both_ways():
    records = [rec for rec, _ in HAND_MADE.values()]
    assert_same("ho_so", records)
    assert_same("ho_so", [VALID] * 3)


def test_the_sandbox_window_reads_the_same_both_ways():
    from parreport.quality.dedupe import dedupe
    from parreport.sandbox import generate

    ds = generate(seed=7, dossiers_per_quarter=3000, span_start=datetime(2024, 9, 1), span_end=datetime(2025, 3, 31))
    recs = dedupe(ds.listing_records(ds.agency, WINDOW.start_ts, WINDOW.end_ts)).records
    stripped = [strip_record(r, "dossiers") for r in recs]
    frame = assert_same("ho_so", stripped)
    assert len(frame) == len(recs) > 2000
    ratings = [strip_record(ds.rating(int(j)), "ratings") for j in ds.ratings_in(ds.agency, WINDOW.start_ts,
                                                                                 WINDOW.end_ts)]
    assert_same("danh_gia", ratings)
    assert_same("thu_tuc", ds.procedures_of(ds.agency))
    assert_same("don_vi", ds.units)


def test_records_that_do_not_fit_take_the_general_way_and_keep_their_place():
    odd = [VALID, "not a record", dict(VALID, Gia=1), dict(VALID, ThongTinEForm={"SoTruong": 3.0}),
           dict(VALID, KenhThucHien=2), None, dict(VALID, DanhSachLePhi=[None]), VALID]
    frame = assert_same("ho_so", odd)
    assert frame["kieu:$"].tolist()[1] == "string"
    assert frame.index.tolist() == list(range(1, len(odd) + 1))


def test_nan_and_infinity_take_the_general_way():
    texts = [(1, json.dumps(VALID)), (2, json.dumps(dict(VALID, DanhSachLePhi=[{"Gia": float("nan")}]))),
             (3, json.dumps(dict(VALID, ThongTinEForm={"SoTruong": float("inf")})))]
    fast = frame_from_texts("ho_so", texts)
    assert fast["kieu:DanhSachLePhi[].Gia"].tolist() == ["integer", "khong_huu_han", "integer"]
    assert fast["kieu:ThongTinEForm.SoTruong"].tolist() == ["integer", "integer", "khong_huu_han"]
    general = records_frame("ho_so", [(seq, json.loads(t)) for seq, t in texts])
    pd.testing.assert_frame_equal(_plain(fast), _plain(general), check_dtype=False)


# -- generated records ---------------------------------------------------------------------------
text = st.one_of(st.just(""), st.sampled_from(["1", "2", "10", "7", "0", "A01", "1.001"]), st.text(max_size=4))
stamp = st.one_of(st.just(""), st.sampled_from(["20250105090000", "20250230090000", "20250105250000",
                                                 "2025010509000", "202501050900001"]),
                  st.integers(2024_01_01_00_00_00, 2025_12_31_23_59_59).map(str))
number = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False), st.just(3.0))
junk = st.one_of(st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=3),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.sampled_from(["Gia", "NgayX", "X"]),
                                                                       st.integers(), max_size=2))


# shrinking two frames of up to a dozen records is slow: a failure is reported as found
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)


def _value(spec, strict: bool):
    """A value of the field's kind (null and absent included); with ``strict`` False, now and
    then anything at all."""
    k = spec.kind
    if k == TS:
        good = stamp
    elif k == ENUM:
        good = st.one_of(st.sampled_from(list(spec.values)), text)
    elif k == NUM:
        good = number
    elif k == INT:
        good = st.integers(-3, 50)
    elif k == OBJ:
        good = _object(spec.fields or {}, strict)
    elif k == LIST:
        good = st.lists(_object(spec.item.fields or {}, strict), max_size=3)
    else:
        good = text
    good = st.one_of(st.none(), good)
    return good if strict else st.one_of(good, good, good, junk)


def _object(fields: dict, strict: bool):
    return st.fixed_dictionaries({}, optional={k: _value(s, strict) for k, s in fields.items()})


def _records(fields: dict):
    one = st.one_of(_object(fields, True), _object(fields, True), _object(fields, False),
                    st.builds(lambda r, k: {**r, k: "20250101000000"}, _object(fields, True),
                              st.sampled_from(["NgayLa", "Khac"])))
    return st.lists(one, min_size=1, max_size=12)


@given(_records(HOSO_FIELDS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], phases=PHASES)
def test_generated_dossiers_read_the_same_both_ways(records):
    assert_same("ho_so", records)


@given(_records(DANHGIA_FIELDS))
@settings(max_examples=60, deadline=None, phases=PHASES)
def test_generated_ratings_read_the_same_both_ways(records):
    assert_same("danh_gia", records)


@pytest.mark.parametrize("kind", ["ho_so", "danh_gia", "thu_tuc", "don_vi"])
def test_an_empty_partition_has_every_column(kind):
    assert list(frame_from_texts(kind, []).columns) == list(records_frame(kind, []).columns)
    assert np.all(frame_from_texts(kind, []).index == records_frame(kind, []).index)
