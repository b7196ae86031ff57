"""The pipeline's store: a re-loaded partition replaces the old one, never appends; the same
code runs on SQLite and on PostgreSQL."""
import pytest

from parreport import store as st
from tests.support import postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = st.Store(f"sqlite:///{tmp_path}/store.db")
        yield s
        s.dispose()
    else:
        if not postgres.available():
            pytest.fail("PostgreSQL (Debian package 'postgresql') is required for this test")
        with postgres.temporary_postgres() as url:
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
    ok = store.records(st.dossiers, "A", "k", st.dossiers.c.accepted.is_(True))
    assert [r["MaHoSo"] for r in ok] == ["H0", "H2", "H4"]
    store.upsert_report("A", 2025, 1, 1, window_key="k", figures_sha="f1", body={"a": 1}, status="BUILT")
    store.upsert_report("A", 2025, 1, 1, status="ACCEPTED", receipt={"MaTiepNhan": "R"})
    store.upsert_report("A", 2025, 1, 2, window_key="k", figures_sha="f2", body={"a": 2}, status="BUILT")
    versions = store.report_versions("A", 2025, 1)
    assert [(v["version"], v["status"]) for v in versions] == [(1, "ACCEPTED"), (2, "BUILT")]
    assert versions[0]["receipt"] == {"MaTiepNhan": "R"}
