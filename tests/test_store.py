"""The pipeline's store: a re-loaded partition replaces the old one, never appends; the same
code runs on SQLite and on PostgreSQL."""
import pytest

from parreport import db
from parreport import store as st
from tests.support import postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        db.upgrade(f"sqlite:///{tmp_path}/store.db")
        s = st.Store(f"sqlite:///{tmp_path}/store.db")
        yield s
        s.dispose()
    else:
        if not postgres.available():
            pytest.fail("PostgreSQL (Debian package 'postgresql') is required for this test")
        with postgres.temporary_postgres() as url:
            db.upgrade(url)
            s = st.Store(url)
            yield s
            s.dispose()


def rows(n, tag):
    return [{"seq": i, "ma_ho_so": f"H{i}", "record": {"MaHoSo": f"H{i}", "tag": tag, "Tên": "Thủ tục"}}
            for i in range(n)]


def test_reload_replaces_the_partition_and_leaves_others(store):
    store.replace_partition(st.dossiers, "A", "2025Q1", rows(3, "first"))
    store.replace_partition(st.dossiers, "A", "2025Q2", rows(2, "other window"))
    store.replace_partition(st.dossiers, "B", "2025Q1", rows(1, "other agency"))
    store.replace_partition(st.dossiers, "A", "2025Q1", rows(4, "again"))
    got = store.records(st.dossiers, "A", "2025Q1")
    assert [r["tag"] for r in got] == ["again"] * 4 and got[0]["Tên"] == "Thủ tục"
    assert len(store.records(st.dossiers, "A", "2025Q2")) == 2
    assert len(store.records(st.dossiers, "B", "2025Q1")) == 1


def test_accepted_flags_and_report_versions(store):
    store.replace_partition(st.dossiers, "A", "k", rows(5, "x"))
    store.set_accepted(st.dossiers, "A", "k", {1, 3})
    ok = store.records(st.dossiers, "A", "k", st.accepted(st.dossiers))
    assert [r["MaHoSo"] for r in ok] == ["H0", "H2", "H4"]
    store.upsert_report("A", 2025, 1, 1, window_key="k", figures_sha="f1", body={"a": 1}, status="BUILT")
    store.upsert_report("A", 2025, 1, 1, status="ACCEPTED", receipt={"MaTiepNhan": "R"})
    store.upsert_report("A", 2025, 1, 2, window_key="k", figures_sha="f2", body={"a": 2}, status="BUILT")
    versions = store.report_versions("A", 2025, 1)
    assert [(v["version"], v["status"]) for v in versions] == [(1, "ACCEPTED"), (2, "BUILT")]
    assert versions[0]["receipt"] == {"MaTiepNhan": "R"}


def test_readers_answer_what_the_pages_and_the_cli_ask(store):
    """The operator's pages and the steward's CLI read through these methods, never the tables."""
    assert store.partitions() == [] and store.load_figures("A", "k") is None
    assert store.window_reports("A", "k") == []
    store.record_load("A", "2025Q1", "dossiers", run_id="r", raw_dir="x", tong_so=1, delivered=1, staged=1,
                      duplicates=0)
    store.upsert_report("B", 2025, 2, 1, window_key="2025Q2", figures_sha="f", body={}, status="BUILT")
    store.upsert_report("A", 2025, 1, 2, window_key="2025Q1", figures_sha="f2", body={}, status="SUBMITTED")
    store.upsert_report("A", 2025, 1, 1, window_key="2025Q1", figures_sha="f1", body={}, status="ACCEPTED",
                        receipt={"MaTiepNhan": "R1"})
    assert store.partitions() == [("B", "2025Q2"), ("A", "2025Q1")]  # newest window first, each once
    assert [(r["version"], r["status"]) for r in store.window_reports("A", "2025Q1")] == [(1, "ACCEPTED"),
                                                                                           (2, "SUBMITTED")]
    store.replace_partition(st.quarantine, "A", "2025Q1", [
        {"kind": "rating", "seq": 0, "ref": "DG", "violations": [{"rule": "r9"}]},
        {"kind": "dossier", "seq": 7, "ref": "H7", "violations": [{"rule": "r2"}]},
        {"kind": "dossier", "seq": 2, "ref": None, "violations": [{"rule": "r1"}, {"rule": "r3"}]}])
    got = store.quarantined("A", "2025Q1")
    assert [(r["kind"], r["seq"]) for r in got] == [("dossier", 2), ("dossier", 7), ("rating", 0)]
    assert got[0]["violations"] == [{"rule": "r1"}, {"rule": "r3"}] and store.quarantined("A", "2025Q2") == []
    store.save_figures("A", "2025Q1", {"Bieu06": [1]}, "run-9")
    assert store.load_figures("A", "2025Q1") == {"Bieu06": [1]}


def test_every_record_kind_names_a_staged_table_and_its_reference_column():
    from parreport.kinds import KINDS, by_dataset

    for kind in KINDS:
        table = st.metadata.tables[kind.table]
        assert {"agency", "window_key", "seq", "record"} <= set(table.c.keys()), kind.table
        assert kind.ref_column is None or kind.ref_column in table.c, kind
        assert by_dataset(kind.dataset) is kind


def test_record_texts_stream_the_kept_json_text_for_the_figures(store):
    """compute_figures reads the accepted records as the JSON text the store keeps (never
    re-serialised) and decodes only the fields it needs, with the values json.loads gives."""
    import json

    from parreport.figures import Dossier, dossiers_from_json

    texts = ['{"MaHoSo":"H0","TrangThaiHoSo":"4","Tên":"Thủ tục","DanhSachLePhi":[{"Gia":1.5},{"Gia":2}]}',
             '{"MaHoSo":"H1","TrangThaiHoSo":"2"}', '{"MaHoSo":"H2","NgayHenTra":"","ThongTinEForm":{}}']
    store.stage_partition(st.dossiers, "A", "k", [(i, False, f"H{i}", t) for i, t in enumerate(texts)], "ma_ho_so")
    store.set_accepted(st.dossiers, "A", "k", {1})
    got = list(store.record_texts(st.dossiers, "A", "k", st.accepted(st.dossiers)))
    assert got == [texts[0], texts[2]]
    first, last = dossiers_from_json(got)
    assert first == Dossier.of(json.loads(texts[0])) and first.DanhSachLePhi == [{"Gia": 1.5}, {"Gia": 2}]
    assert (last.NgayHenTra, last.ThongTinEForm, last.KenhThucHien) == ("", {}, None)


def test_every_table_of_the_schema_is_a_name_of_the_store_package():
    """Callers write ``st.<table>``: the package exports every table that store/tables.py declares."""
    from sqlalchemy import Table

    import parreport.store as store_pkg

    exported = {getattr(store_pkg, n).name for n in store_pkg.__all__ if isinstance(getattr(store_pkg, n), Table)}
    assert exported == {t.name for t in store_pkg.metadata.sorted_tables}
