"""quality/frames.py: the timestamp columns are computed a whole column at a time
(``valid_timestamps``); they say what ``contract.valid_timestamp`` says of each text."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from parreport.quality.contract import valid_timestamp
from parreport.quality.frames import timestamp_columns, valid_timestamps

EDGES = ["20250105090000", "20240229235959", "20250229000000", "19000229000000", "20000229000000",
         "00000101000000", "00010101000000", "99991231235959", "20251301000000", "20250100000000",
         "20250431000000", "20250131240000", "20250131236000", "20250131235960", "2025013123595x",
         "20250105090000\x00", "2025010509000\x00", "\x0020250105090000", "٣" * 14, "２０２５０１０５０９００００",
         "/" * 14, ":" * 14, "2025010509000", "202501050900001", "20250105090000" + "9" * 100, "", None]

digits = st.text(alphabet="0123456789", min_size=14, max_size=14)
near = st.builds(lambda y, mo, d, h, mi, s: f"{y:04d}{mo:02d}{d:02d}{h:02d}{mi:02d}{s:02d}",
                 st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25),
                 st.integers(0, 61), st.integers(0, 61))
anything = st.one_of(st.none(), st.text(max_size=16), digits, near, st.sampled_from(EDGES))


def test_the_edges_read_as_one_at_a_time():
    assert valid_timestamps(EDGES).tolist() == [valid_timestamp(t) for t in EDGES]
    assert valid_timestamps(EDGES).tolist()[:3] == [True, True, False]


@given(st.lists(anything, max_size=40))
@settings(max_examples=300, deadline=None)
def test_generated_texts_read_as_one_at_a_time(texts):
    assert valid_timestamps(texts).tolist() == [valid_timestamp(t) for t in texts]
    cols: dict = {}
    timestamp_columns(cols, "X", texts)
    assert cols["ngay:X"] == texts
    assert cols["thoi_diem:X"] == [t if valid_timestamp(t) else None for t in texts]
    assert cols["ngay_thang:X"] == [t[:8] if valid_timestamp(t) else None for t in texts]


def test_an_empty_column():
    assert valid_timestamps([]).tolist() == []
    cols: dict = {}
    timestamp_columns(cols, "X", [])
    assert cols == {"ngay:X": [], "thoi_diem:X": [], "ngay_thang:X": []}


@given(st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "string", "absent", "10", "x|y"])),
                         max_size=8), min_size=1, max_size=5))
@settings(max_examples=200, deadline=None)
def test_chunks_join_as_pandas_unites_categoricals(chunks):
    import numpy as np
    import pandas as pd
    from pandas.api.types import union_categoricals

    from parreport.quality.frames import frame_of, typed_chunk

    typed = [typed_chunk({"seq": list(range(len(c))), "kieu:X": c}) for c in chunks]
    pieces = [t["kieu:X"] for t in typed]
    known = next((x.categories for x in pieces if len(x.categories)), None)
    got = frame_of(typed)["kieu:X"].array
    assert isinstance(got, pd.Categorical)
    assert [None if v != v else v for v in got.tolist()] == [v for c in chunks for v in c]
    if known is not None:  # as pandas unites them (an all-null chunk given the others' type)
        expected = union_categoricals([x if len(x.categories) else
                                       pd.Categorical.from_codes(np.full(len(x), -1), categories=known[:0])
                                       for x in pieces])
        assert list(got.categories) == list(expected.categories) and got.categories.dtype == expected.categories.dtype
        assert np.array_equal(got.codes, expected.codes)
