"""The store's schema under Alembic (include/parreport/db/).

A store built the way main built it before migrations (``create_all`` of the metadata below, a
frozen copy of store.py at 03b33ba), full of quarantine rows, corrections and their audit trail,
reports, run events and every other table, is upgraded by ``parreport db upgrade`` and every row
is found intact — on SQLite and on PostgreSQL. A new store upgraded to head has exactly the
schema store.py declares (a change to store.py without a revision fails here). ``Store()``
creates nothing and refuses a store that is not at head, in Vietnamese, naming the command.
"""
from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (JSON, Boolean, Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint,
                        create_engine, inspect, insert, text)

from parreport import cli, db
from parreport import store as st
from parreport.quality.corrections import list_corrections
from tests.support import postgres

ROOT = Path(__file__).resolve().parents[2]


# -- the schema of main before migrations (store.py at 03b33ba), frozen ---------------------------
def _partition():
    return [Column("agency", String(64), nullable=False, index=True),
            Column("window_key", String(64), nullable=False, index=True)]


def legacy_metadata(with_run_events: bool = True) -> MetaData:
    m = MetaData()
    Table("staged_units", m, *_partition(), Column("seq", Integer, nullable=False),
          Column("ma_don_vi", String(64)), Column("record", JSON, nullable=False))
    Table("staged_procedures", m, *_partition(), Column("seq", Integer, nullable=False),
          Column("ma_tthc", String(64)), Column("record", JSON, nullable=False))
    Table("staged_dossiers", m, *_partition(), Column("seq", Integer, nullable=False),
          Column("ma_ho_so", String(128), index=True), Column("record", JSON, nullable=False),
          Column("accepted", Boolean), UniqueConstraint("agency", "window_key", "seq"))
    Table("staged_ratings", m, *_partition(), Column("seq", Integer, nullable=False),
          Column("ma_danh_gia", String(128)), Column("record", JSON, nullable=False), Column("accepted", Boolean))
    Table("staged_portal_bieu06", m, *_partition(), Column("seq", Integer, nullable=False),
          Column("record", JSON, nullable=False))
    Table("load_stats", m, *_partition(), Column("dataset", String(32), nullable=False),
          Column("run_id", String(250)), Column("raw_dir", Text), Column("tong_so", Integer),
          Column("delivered", Integer), Column("staged", Integer), Column("duplicates", Integer),
          Column("loaded_at", DateTime(timezone=True)), UniqueConstraint("agency", "window_key", "dataset"))
    Table("quarantine", m, *_partition(), Column("kind", String(16), nullable=False),
          Column("seq", Integer, nullable=False), Column("ref", String(128)),
          Column("violations", JSON, nullable=False), Column("created_at", DateTime(timezone=True)))
    Table("figures", m, *_partition(), Column("run_id", String(250)), Column("computed_at", DateTime(timezone=True)),
          Column("content", JSON, nullable=False), UniqueConstraint("agency", "window_key"))
    Table("report_drafts", m, *_partition(), Column("run_id", String(250)), Column("built_at", DateTime(timezone=True)),
          Column("figures_sha", String(64), nullable=False), Column("core", JSON, nullable=False),
          UniqueConstraint("agency", "window_key"))
    Table("reports", m, Column("agency", String(64), nullable=False), Column("year", Integer, nullable=False),
          Column("quarter", Integer, nullable=False), Column("version", Integer, nullable=False),
          Column("window_key", String(64), nullable=False), Column("figures_sha", String(64), nullable=False),
          Column("content_sha", String(64)), Column("idempotency_key", String(255)),
          Column("body", JSON, nullable=False), Column("status", String(32), nullable=False),
          Column("receipt", JSON), Column("run_id", String(250)), Column("created_at", DateTime(timezone=True)),
          Column("submitted_at", DateTime(timezone=True)), UniqueConstraint("agency", "year", "quarter", "version"))
    Table("corrections", m, Column("id", Integer, primary_key=True, autoincrement=True), *_partition(),
          Column("ma_ho_so", String(128), nullable=False, index=True), Column("field", String(255), nullable=False),
          Column("value_json", Text, nullable=False), Column("old_json", Text), Column("reason", Text, nullable=False),
          Column("created_by", String(128), nullable=False), Column("created_at", DateTime(timezone=True), nullable=False),
          Column("status", String(16), nullable=False), Column("closed_at", DateTime(timezone=True)),
          Column("closed_note", Text))
    Table("correction_events", m, Column("id", Integer, primary_key=True, autoincrement=True),
          Column("correction_id", Integer, nullable=False, index=True), *_partition(),
          Column("event", String(32), nullable=False), Column("at", DateTime(timezone=True), nullable=False),
          Column("actor", String(128)), Column("detail", JSON))
    Table("corrected_dossiers", m, *_partition(), Column("seq", Integer, nullable=False),
          Column("ma_ho_so", String(128)), Column("original", JSON, nullable=False),
          Column("corrected", JSON, nullable=False), Column("correction_ids", JSON, nullable=False))
    Table("validation_results", m, *_partition(), Column("run_id", String(250)),
          Column("validated_at", DateTime(timezone=True)), Column("data_docs", Text),
          Column("content", JSON, nullable=False), UniqueConstraint("agency", "window_key"))
    if with_run_events:
        Table("run_events", m, Column("id", Integer, primary_key=True, autoincrement=True), *_partition(),
              Column("run_id", String(250), nullable=False, index=True), Column("step", String(32), nullable=False),
              Column("outcome", String(32), nullable=False), Column("at", DateTime(timezone=True), nullable=False),
              Column("detail", JSON, nullable=False))
    return m


A, W = "000.00.20.H57", "2025Q1_20241215_20250314"
T0 = datetime(2025, 3, 20, 8, 30, tzinfo=timezone.utc)


def fill(conn, m: MetaData) -> None:
    """Rows in every table, as the pipeline and the stewards leave them."""
    t = m.tables
    conn.execute(insert(t["staged_units"]), [{"agency": A, "window_key": W, "seq": i, "ma_don_vi": f"U{i}",
                                              "record": {"MaDonVi": f"U{i}", "TenDonVi": "Phòng Lao động"}}
                                             for i in range(3)])
    conn.execute(insert(t["staged_procedures"]), [{"agency": A, "window_key": W, "seq": 0, "ma_tthc": "1.000123",
                                                   "record": {"MaTTHC": "1.000123", "HieuLuc": "1"}}])
    conn.execute(insert(t["staged_dossiers"]), [{"agency": A, "window_key": W, "seq": i, "ma_ho_so": f"H{i}",
                                                 "record": {"MaHoSo": f"H{i}", "NgayTiepNhan": "20250105083000"},
                                                 "accepted": i % 3 != 0} for i in range(20)])
    conn.execute(insert(t["staged_ratings"]), [{"agency": A, "window_key": W, "seq": 0, "ma_danh_gia": "DG1",
                                                "record": {"MaDanhGia": "DG1", "Diem": 5}, "accepted": True}])
    conn.execute(insert(t["staged_portal_bieu06"]), [{"agency": A, "window_key": W, "seq": 0,
                                                      "record": {"MaLinhVuc": "TONG", "TiepNhan": 20}}])
    conn.execute(insert(t["load_stats"]), [{"agency": A, "window_key": W, "dataset": "dossiers", "run_id": "r1",
                                            "raw_dir": "/data/raw", "tong_so": 21, "delivered": 21, "staged": 20,
                                            "duplicates": 1, "loaded_at": T0}])
    conn.execute(insert(t["quarantine"]), [
        {"agency": A, "window_key": W, "kind": "dossier", "seq": i, "ref": f"H{i}", "created_at": T0,
         "violations": [{"rule": "R05", "field": "NgayHenTra", "message": "Ngày hẹn trả trước ngày tiếp nhận"},
                        {"rule": "R01", "field": "MaHoSo", "message": "thiếu"}]} for i in (0, 3, 6, 9, 12, 15, 18)]
        + [{"agency": A, "window_key": W, "kind": "rating", "seq": 4, "ref": None, "created_at": T0,
            "violations": [{"rule": "DG02", "field": "Diem", "message": "ngoài 1–5"}]}])
    conn.execute(insert(t["figures"]), [{"agency": A, "window_key": W, "run_id": "r1", "computed_at": T0,
                                         "content": {"Bieu06": [{"TONG": 1}], "ChiTieu": []}}])
    conn.execute(insert(t["report_drafts"]), [{"agency": A, "window_key": W, "run_id": "r1", "built_at": T0,
                                               "figures_sha": "f" * 64, "core": {"Bieu06": []}}])
    conn.execute(insert(t["reports"]), [
        {"agency": A, "year": 2025, "quarter": 1, "version": v, "window_key": W, "figures_sha": f"{v}" * 64,
         "content_sha": "c" * 64, "idempotency_key": f"CCHC-{A}-2025Q1-v{v}-abc", "body": {"PhienBan": v},
         "status": "ACCEPTED" if v == 1 else "SUBMITTED", "receipt": {"MaTiepNhan": f"TN-{v}", "TrangThai": "DA_DUYET"},
         "run_id": f"r{v}", "created_at": T0, "submitted_at": T0} for v in (1, 2)])
    ids = []
    for i, status in enumerate(("DA_THAY_THE", "HIEU_LUC", "DA_HUY")):
        ids.append(conn.execute(insert(t["corrections"]).values(
            agency=A, window_key=W, ma_ho_so="H3", field="NgayHenTra", value_json=f'"2025031{i}170000"',
            old_json='"20250101000000"', reason="Sai ngày hẹn trả", created_by="Nguyễn Văn A", created_at=T0,
            status=status, closed_at=T0 if status != "HIEU_LUC" else None,
            closed_note="thay bằng sửa đổi mới" if status != "HIEU_LUC" else None)).inserted_primary_key[0])
    conn.execute(insert(t["correction_events"]), [
        {"correction_id": cid, "agency": A, "window_key": W, "event": ev, "at": T0, "actor": "Nguyễn Văn A",
         "detail": {"run_id": "r1"}} for cid in ids for ev in ("TAO", "AP_DUNG")])
    conn.execute(insert(t["corrected_dossiers"]), [{"agency": A, "window_key": W, "seq": 3, "ma_ho_so": "H3",
                                                    "original": {"NgayHenTra": "20250101000000"},
                                                    "corrected": {"NgayHenTra": "20250311170000"},
                                                    "correction_ids": [ids[1]]}])
    conn.execute(insert(t["validation_results"]), [{"agency": A, "window_key": W, "run_id": "r1",
                                                    "validated_at": T0, "data_docs": "/data_docs/r1/index.html",
                                                    "content": {"checks": 42}}])
    if "run_events" in t:
        conn.execute(insert(t["run_events"]), [{"agency": A, "window_key": W, "run_id": "r1", "step": s,
                                                "outcome": "ok", "at": T0, "detail": {"n": i}}
                                               for i, s in enumerate(("extract", "load", "validate", "submit"))])


def snapshot(engine, names) -> dict[str, list]:
    """Every row of every table, order-independent (json columns cannot be ORDER BY'd on PostgreSQL)."""
    out = {}
    with engine.connect() as conn:
        for name in names:
            rows = conn.execute(text(f'select * from "{name}"')).mappings().all()
            out[name] = sorted((tuple(sorted((k, repr(v)) for k, v in r.items())) for r in rows))
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/store.db"
    else:
        if not postgres.available():
            pytest.fail("PostgreSQL (Debian package 'postgresql') is required for this test")
        with postgres.temporary_postgres() as pg_url:
            yield pg_url


def run_cli(monkeypatch, url: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("PARREPORT_STORE_URL", url)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    rc = cli.main(list(argv), out=out)
    return rc, out.getvalue(), err.getvalue()


def test_a_store_from_before_migrations_is_upgraded_with_every_row_intact(url, monkeypatch):
    legacy = legacy_metadata()
    engine = create_engine(url)
    legacy.create_all(engine)
    with engine.begin() as conn:
        fill(conn, legacy)
    before = snapshot(engine, legacy.tables)
    assert sum(len(v) for v in before.values()) > 50 and all(before.values())

    with pytest.raises(db.StoreNotReady, match="parreport db upgrade"):
        st.Store(url)

    rc, out, err = run_cli(monkeypatch, url, "db", "upgrade")
    assert rc == 0, err
    assert "giữ nguyên mọi dòng" in out and f"phiên bản lược đồ {db.head_revision()}" in out
    assert snapshot(engine, legacy.tables) == before
    with engine.connect() as conn:
        assert conn.execute(text(f"select version_num from {db.VERSION_TABLE}")).scalar_one() == db.head_revision()
        assert "alembic_version" not in inspect(conn).get_table_names()  # Airflow's name is left alone
    engine.dispose()

    # the pipeline's own code reads the upgraded store
    with st.Store(url) as store:
        assert [(v["version"], v["status"]) for v in store.report_versions(A, 2025, 1)] == \
            [(1, "ACCEPTED"), (2, "SUBMITTED")]
        assert len(store.quarantined(A, W)) == 8
        history = list_corrections(store, A, W, active_only=False)
        assert [c["status"] for c in history] == ["DA_THAY_THE", "HIEU_LUC", "DA_HUY"]
        assert [len(c["events"]) for c in history] == [2, 2, 2]
        assert [e["step"] for e in store.run_events(A, W, "r1")] == ["extract", "load", "validate", "submit"]
        store.record_run_event(A, W, "r2", "extract", "ok", {"n": 1})  # and writes to it

    rc, out, _ = run_cli(monkeypatch, url, "db", "upgrade")
    assert rc == 0 and "đã ở phiên bản lược đồ mới nhất" in out


def test_a_store_older_than_run_events_gains_the_table_and_keeps_its_rows(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/store.db"
    legacy = legacy_metadata(with_run_events=False)
    engine = create_engine(url)
    legacy.create_all(engine)
    with engine.begin() as conn:
        fill(conn, legacy)
    before = snapshot(engine, legacy.tables)
    result = db.upgrade(url)
    assert result.before is None and "run_events" not in result.adopted and "quarantine" in result.adopted
    assert snapshot(engine, legacy.tables) == before
    engine.dispose()
    with st.Store(url) as store:
        store.record_run_event(A, W, "r1", "extract", "ok")
        assert len(store.run_events(A, W)) == 1


def test_a_foreign_table_of_the_same_name_is_refused_and_nothing_changes(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/store.db"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("create table reports (id integer primary key, note text)"))
        conn.execute(text("insert into reports (note) values ('not ours')"))
    rc, out, err = run_cli(monkeypatch, url, "db", "upgrade")
    assert rc == 1 and "bảng reports thiếu cột agency" in err and "không thay đổi gì" in err
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == ["reports"]
        assert conn.execute(text("select note from reports")).scalar_one() == "not ours"
    engine.dispose()


def test_a_new_store_at_head_has_exactly_the_schema_store_py_declares(url, monkeypatch):
    rc, out, err = run_cli(monkeypatch, url, "db", "upgrade")
    assert rc == 0 and "Đã tạo kho dữ liệu" in out, err
    engine = create_engine(url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, st.metadata)
    engine.dispose()
    # a table or column added to store.py needs a revision: `parreport db revision -m "..."`
    assert [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == db.VERSION_TABLE)] == []
    assert run_cli(monkeypatch, url, "db", "current")[0] == 0


def test_the_store_creates_nothing_and_names_the_command(tmp_path, monkeypatch):
    path = tmp_path / "nowhere" / "store.db"
    with pytest.raises(db.StoreNotReady) as exc:
        st.Store(f"sqlite:///{path}")
    assert "parreport db upgrade" in str(exc.value) and "Chưa có kho dữ liệu" in str(exc.value)
    assert not path.exists() and not path.parent.exists()

    rc, _, err = run_cli(monkeypatch, f"sqlite:///{path}", "quarantine", "list", "--year", "2025", "--quarter", "1")
    assert rc == 1 and "parreport db upgrade" in err and "Traceback" not in err

    url = f"sqlite:///{tmp_path}/store.db"
    db.upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"update {db.VERSION_TABLE} set version_num = '9999'"))
    engine.dispose()
    with pytest.raises(db.StoreNotReady, match="mới hơn mã nguồn"):
        st.Store(url)
    rc, _, err = run_cli(monkeypatch, url, "db", "current")
    assert rc == 1 and "9999" in err


def test_a_missing_postgresql_database_is_created(monkeypatch):
    if not postgres.available():
        pytest.fail("PostgreSQL (Debian package 'postgresql') is required for this test")
    with postgres.temporary_postgres() as server:
        url = server.rsplit("/", 1)[0] + "/parreport_new"
        rc, out, err = run_cli(monkeypatch, url, "db", "upgrade")
        assert rc == 0 and "Đã tạo kho dữ liệu" in out, err
        with st.Store(url) as store:
            assert store.partitions() == []


def test_the_migrations_and_the_contracts_travel_in_the_wheel(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = tmp_path.glob("parreport-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"parreport/db/migrations/env.py", "parreport/db/migrations/script.py.mako",
            "parreport/db/migrations/versions/0001_baseline.py"} <= names
    # the sandbox's contracts are links to docs/contracts in the checkout; the wheel carries their text
    with zipfile.ZipFile(wheel) as zf:
        for name in ("portal-api.yaml", "report-api.yaml"):
            assert zf.read(f"parreport/sandbox/contracts/{name}") == (ROOT / "docs/contracts" / name).read_bytes()
