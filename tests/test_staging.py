"""Staging streams the kept pages into the store: the same survivors, in the same order and with
the same content as the list de-duplication (INDICATORS.md §2), on SQLite and on PostgreSQL
(COPY); a re-load replaces the partition; odd records (NaN, not an object, quotes, newlines in
text) arrive as they were kept."""
from __future__ import annotations

import json

import pytest

from parreport import db

from parreport import pipeline
from parreport import store as st
from parreport.config import Settings
from parreport.extract import ExtractResult, page_bytes, read_records
from parreport.kinds import DATASETS
from parreport.periods import window_for
from parreport.quality.dedupe import dedupe
from tests.support import postgres

WINDOW = window_for(2025, 1)
AGENCY = "000.00.20.H57"


def _dossier(ma, updated, **extra):
    return {"MaHoSo": ma, "NgayCapNhat": updated, "TrangThaiHoSo": "2", **extra}


DELIVERED = [
    _dossier("A", "20250101000000", tag="a-old"),
    _dossier("B", "20250101000000", tag="b-only", Ghi='trích "dẫn"\nxuống dòng, dấu phẩy'),
    ["not", "an", "object"],
    _dossier("C", "20250105000000", tag="c-new"),
    _dossier("A", "20250102000000", tag="a-new"),  # later and newer: replaces A in A's slot
    _dossier("C", "20250104000000", tag="c-old"),  # older: dropped
    {"MaHoSo": None, "tag": "no-id"},
    _dossier("D", "20250101000000", Gia=float("nan")),
]


def _extract(tmp_path, records_by_page: list[list]) -> dict:
    out = {}
    for dataset in DATASETS:
        folder = tmp_path / "raw" / dataset
        folder.mkdir(parents=True)
        pages = records_by_page if dataset == "dossiers" else [[]]
        for i, recs in enumerate(pages, 1):
            (folder / f"page-{i:05d}.json").write_bytes(page_bytes({"page": i, "count": len(recs)}, recs))
        n = sum(len(p) for p in pages)
        out[dataset] = ExtractResult(dataset, str(folder), pages=len(pages), delivered=n, tong_so=n).as_dict()
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/store.db"
        db.upgrade(url)
        yield url
    else:
        if not postgres.available():
            pytest.fail("PostgreSQL (Debian package 'postgresql') is required for this test")
        with postgres.temporary_postgres() as url:
            db.upgrade(url)
            yield url


def test_kept_pages_are_valid_json_and_read_back(tmp_path):
    extracts = _extract(tmp_path, [DELIVERED[:3], DELIVERED[3:], []])
    for path in sorted((tmp_path / "raw" / "dossiers").glob("page-*.json")):
        json.loads(path.read_text(encoding="utf-8"))  # each kept page is one JSON document
    got = list(read_records(extracts["dossiers"]["raw_dir"]))
    assert json.dumps(got) == json.dumps(DELIVERED)  # NaN included


def test_streamed_staging_equals_the_list_dedupe(tmp_path, store_url):
    if store_url.startswith("postgresql"):
        delivered = [r for r in DELIVERED if not (isinstance(r, dict) and r.get("MaHoSo") == "D")]  # json has no NaN
    else:
        delivered = DELIVERED
    extracts = _extract(tmp_path, [delivered[:3], delivered[3:5], delivered[5:]])
    settings = Settings(data_dir=str(tmp_path), store_url=store_url)
    period = pipeline.Period(AGENCY, WINDOW)
    summary = pipeline.load(settings, period, extracts, "r1")
    expected = dedupe(delivered)
    with st.Store(store_url) as store:
        rows = list(store.rows(st.dossiers, AGENCY, WINDOW.key))
        assert [r["seq"] for r in rows] == list(range(len(expected.records)))
        assert json.dumps([r["record"] for r in rows]) == json.dumps(expected.records)
        assert [r["ma_ho_so"] for r in rows] == [r.get("MaHoSo") if isinstance(r, dict) else None
                                                   for r in expected.records]
        assert summary["dossiers"] == {"delivered": len(delivered), "staged": len(expected.records),
                                       "duplicates": expected.duplicates}
        assert store.load_stats(AGENCY, WINDOW.key)["dossiers"]["duplicates"] == 2
        # a re-load replaces the partition, never appends
        pipeline.load(settings, period, extracts, "r2")
        assert len(list(store.rows(st.dossiers, AGENCY, WINDOW.key))) == len(expected.records)


def test_a_plain_page_is_written_as_the_standard_library_writes_it():
    from parreport.privacy import strip_page
    from tests.support.quality_fixtures import sandbox_records

    _, records = sandbox_records()
    kept, plain = strip_page(records, "dossiers", set())
    assert plain  # the sandbox's dossiers: strings, integers, nulls
    assert page_bytes({"page": 1}, kept, True) == page_bytes({"page": 1}, kept, False)
    _, plain = strip_page([{"MaHoSo": "x", "DanhSachLePhi": [{"Gia": float("nan")}]}], "dossiers", set())
    assert not plain  # a float (NaN here) goes through the standard library
