"""The pipeline's own store (SQLAlchemy 2): SQLite by default, PostgreSQL by URL.

Every staged table is partitioned by (agency, window_key). Loading a partition replaces it in
one transaction, so a re-run task never appends twice. Reports and their receipts are keyed by
(agency, year, quarter, version).
"""
from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    cast,
    bindparam,
    create_engine,
    delete,
    func,
    insert,
    select,
    union,
    type_coerce,
    update,
)
from sqlalchemy.engine import Engine

metadata = MetaData()


def _partition() -> list[Column]:
    return [Column("agency", String(64), nullable=False, index=True),
            Column("window_key", String(64), nullable=False, index=True)]


units = Table("staged_units", metadata, *_partition(), Column("seq", Integer, nullable=False),
              Column("ma_don_vi", String(64)), Column("record", JSON, nullable=False))
procedures = Table("staged_procedures", metadata, *_partition(), Column("seq", Integer, nullable=False),
                   Column("ma_tthc", String(64)), Column("record", JSON, nullable=False))
dossiers = Table(
    "staged_dossiers", metadata, *_partition(),
    Column("seq", Integer, nullable=False),  # delivery order of the surviving copy
    Column("ma_ho_so", String(128), index=True),
    Column("record", JSON, nullable=False),  # as received, personal data dropped
    Column("accepted", Boolean),  # None = not yet validated
    UniqueConstraint("agency", "window_key", "seq"),
)
ratings = Table("staged_ratings", metadata, *_partition(), Column("seq", Integer, nullable=False),
                Column("ma_danh_gia", String(128)), Column("record", JSON, nullable=False),
                Column("accepted", Boolean))
portal_bieu06 = Table("staged_portal_bieu06", metadata, *_partition(), Column("seq", Integer, nullable=False),
                      Column("record", JSON, nullable=False))
load_stats = Table(
    "load_stats", metadata, *_partition(),
    Column("dataset", String(32), nullable=False), Column("run_id", String(250)),
    Column("raw_dir", Text), Column("tong_so", Integer), Column("delivered", Integer),
    Column("staged", Integer), Column("duplicates", Integer), Column("loaded_at", DateTime(timezone=True)),
    UniqueConstraint("agency", "window_key", "dataset"),
)
quarantine = Table(
    "quarantine", metadata, *_partition(),
    Column("kind", String(16), nullable=False),  # dossier | rating
    Column("seq", Integer, nullable=False), Column("ref", String(128)),
    Column("violations", JSON, nullable=False),  # [{rule, field, message}]
    Column("created_at", DateTime(timezone=True)),
)
figures = Table(
    "figures", metadata, *_partition(),
    Column("run_id", String(250)), Column("computed_at", DateTime(timezone=True)),
    Column("content", JSON, nullable=False),  # {"Bieu06": [...], "ChiTieu": [...], "ChatLuongDuLieu": {...}}
    UniqueConstraint("agency", "window_key"),
)
report_drafts = Table(
    "report_drafts", metadata, *_partition(),
    Column("run_id", String(250)), Column("built_at", DateTime(timezone=True)),
    Column("figures_sha", String(64), nullable=False),  # SHA-256 of what the report says (see payload.py)
    Column("core", JSON, nullable=False),  # the body without PhienBan, LyDoDieuChinh, NgayLap, ChuKy
    UniqueConstraint("agency", "window_key"),
)
reports = Table(
    "reports", metadata,
    Column("agency", String(64), nullable=False), Column("year", Integer, nullable=False),
    Column("quarter", Integer, nullable=False), Column("version", Integer, nullable=False),
    Column("window_key", String(64), nullable=False),
    Column("figures_sha", String(64), nullable=False),  # what the figures say, NgayLap and ChuKy aside
    Column("content_sha", String(64)),  # SHA-256 of the signed content (the receipt's SHA256)
    Column("idempotency_key", String(255)),
    Column("body", JSON, nullable=False),  # the signed body as sent
    Column("status", String(32), nullable=False),  # BUILT | SUBMITTED | ACCEPTED
    Column("receipt", JSON), Column("run_id", String(250)),
    Column("created_at", DateTime(timezone=True)), Column("submitted_at", DateTime(timezone=True)),
    UniqueConstraint("agency", "year", "quarter", "version"),
)

# -- corrections (data stewards; quality/corrections.py) -----------------------------------------
# A steward's correction of one field of one dossier, with its audit trail. Values are stored as
# JSON text so that a correction to null stays distinguishable from "no value".
corrections = Table(
    "corrections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_partition(),
    Column("ma_ho_so", String(128), nullable=False, index=True),
    Column("field", String(255), nullable=False),  # e.g. NgayHenTra, ThuXinLoi.SoThu, DanhSachLePhi[0].Gia
    Column("value_json", Text, nullable=False),  # the new value, JSON text
    Column("old_json", Text),  # the portal's value when the correction was recorded (null = absent)
    Column("reason", Text, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # HIEU_LUC | CONG_DA_SUA | DA_THAY_THE | DA_HUY
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_note", Text),
)
correction_events = Table(
    "correction_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("correction_id", Integer, nullable=False, index=True),
    *_partition(),
    Column("event", String(32), nullable=False),  # TAO | AP_DUNG | KHONG_AP_DUNG | CONG_DA_SUA | DA_THAY_THE | DA_HUY
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128)),
    Column("detail", JSON),
)
# Staged dossiers as the portal sent them, for rows whose staged record carries corrections
# (replaced by every validation; lets a re-validation without a re-load find the portal's value).
corrected_dossiers = Table(
    "corrected_dossiers", metadata, *_partition(),
    Column("seq", Integer, nullable=False), Column("ma_ho_so", String(128)),
    Column("original", JSON, nullable=False), Column("corrected", JSON, nullable=False),
    Column("correction_ids", JSON, nullable=False),
)
# The latest validation of a partition: every check's result, the Data Docs of the run.
validation_results = Table(
    "validation_results", metadata, *_partition(),
    Column("run_id", String(250)), Column("validated_at", DateTime(timezone=True)),
    Column("data_docs", Text), Column("content", JSON, nullable=False),
    UniqueConstraint("agency", "window_key"),
)
# What each run did, step by step (never overwritten): the operator's "story of a run" reads
# these rows — extracted, staged, validated (quarantined, threshold, evidence), computed,
# submitted (sent version N / nothing new / stopped, with the reason).
run_events = Table(
    "run_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    *_partition(),
    Column("run_id", String(250), nullable=False, index=True),
    Column("step", String(32), nullable=False),  # extract | load | validate | compute | build | submit | receipt
    Column("outcome", String(32), nullable=False),  # ok | stopped | failed | sent | unchanged | adopted
    Column("at", DateTime(timezone=True), nullable=False),
    Column("detail", JSON, nullable=False),  # the step's JSON-able summary (no personal data)
)


def _json_loads(text: str | bytes) -> Any:
    """JSON columns are read with msgspec (several times faster than the standard library, and
    the same values); what it refuses (NaN, Infinity) falls back to the standard library."""
    try:
        return _msgspec_decode(text)
    except ValueError:
        return json.loads(text)


try:
    from msgspec.json import decode as _msgspec_decode
except ImportError:  # pragma: no cover - msgspec comes with Airflow
    _msgspec_decode = json.loads


def _csv_field(value: Any) -> str:
    """One field of PostgreSQL's COPY ... (FORMAT csv, NULL '\\N'): text always quoted (so that
    a quoted value is never NULL), numbers bare, None as the unquoted null marker."""
    if value is None:
        return "\\N"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Store:
    """The store at ``url``, which ``parreport db upgrade`` created (parreport/db/).

    Opening it checks that its schema is at the newest migration and raises
    :class:`parreport.db.StoreNotReady` (Vietnamese, naming the command) otherwise; it creates
    nothing. Use it as a context manager: ``with Store(url) as store: ...`` disposes the engine.
    """

    def __init__(self, url: str):
        from .db import require_head

        self.url = url
        self.engine: Engine = create_engine(url, future=True, json_deserializer=_json_loads)
        try:
            require_head(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.dispose()

    # -- what each run did ----------------------------------------------------------------------
    def record_run_event(self, agency: str, window_key: str, run_id: str, step: str, outcome: str,
                         detail: dict | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(run_events).values(agency=agency, window_key=window_key, run_id=run_id, step=step,
                                                   outcome=outcome, at=utcnow(), detail=detail or {}))

    def run_events(self, agency: str, window_key: str, run_id: str | None = None) -> list[dict]:
        """The events of one run (or of every run of the partition), oldest first."""
        stmt = select(run_events).where(run_events.c.agency == agency, run_events.c.window_key == window_key)
        if run_id is not None:
            stmt = stmt.where(run_events.c.run_id == run_id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt.order_by(run_events.c.id)).mappings()]

    # -- what the operator's pages read (include/parreport/ui) -----------------------------------
    def all_run_events(self, agency: str | None = None) -> list[dict]:
        """Every recorded step of every run (of one agency), oldest first."""
        stmt = select(run_events)
        if agency is not None:
            stmt = stmt.where(run_events.c.agency == agency)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt.order_by(run_events.c.id)).mappings()]

    def all_reports(self) -> list[dict]:
        """Every version of every quarter (agency, window_key, version, status, receipt, run_id)."""
        cols = [reports.c.agency, reports.c.window_key, reports.c.year, reports.c.quarter, reports.c.version,
                reports.c.status, reports.c.receipt, reports.c.run_id, reports.c.submitted_at]
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(*cols).order_by(reports.c.version)).mappings()]

    def unit_names(self, agency: str | None = None, window_key: str | None = None,
                   codes: Iterable[str] | None = None) -> dict[str, str]:
        """MaDonVi → TenDonVi from the staged units (of one partition, or of all, newest last;
        only ``codes`` when given)."""
        stmt = select(units.c.ma_don_vi, units.c.record)
        if codes is not None:
            stmt = stmt.where(units.c.ma_don_vi.in_(sorted(set(codes))))
        if agency is not None:
            stmt = stmt.where(units.c.agency == agency)
        if window_key is not None:
            stmt = stmt.where(units.c.window_key == window_key)
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for code, record in conn.execute(stmt.order_by(units.c.window_key, units.c.seq)):
                name = record.get("TenDonVi") if isinstance(record, dict) else None
                if isinstance(code, str) and isinstance(name, str) and name.strip():
                    out[code] = name.strip()
        return out

    # -- partitions ---------------------------------------------------------------------------
    def replace_partition(self, table: Table, agency: str, window_key: str, rows: Iterable[dict],
                          chunk: int = 5000) -> int:
        """Delete the (agency, window) partition of ``table`` and insert ``rows``, atomically."""
        n = 0
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.agency == agency, table.c.window_key == window_key))
            batch: list[dict] = []
            for row in rows:
                batch.append({"agency": agency, "window_key": window_key, **row})
                if len(batch) >= chunk:
                    conn.execute(insert(table), batch)
                    n += len(batch)
                    batch = []
            if batch:
                conn.execute(insert(table), batch)
                n += len(batch)
        return n

    def stage_partition(self, table: Table, agency: str, window_key: str,
                        rows: Iterable[tuple[int, bool, str | None, str]], ref_column: str | None,
                        chunk: int = 5000) -> int:
        """Replace the (agency, window) partition of a staged table, atomically, from a stream of
        ``(seq, replaces, ref, record JSON text)``: a row with ``replaces`` takes the place of
        the row already given that ``seq`` (a later copy of a de-duplicated record). Rows go in
        bulk — ``COPY`` on PostgreSQL, batched inserts elsewhere — and the record's text is
        stored as it was kept, never re-serialised. Returns the number of rows staged."""
        cols = ["agency", "window_key", "seq"] + ([ref_column] if ref_column else []) + ["record"]
        n = 0
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.agency == agency, table.c.window_key == window_key))
            pending: dict[int, tuple] = {}
            for seq, replaces, ref, text in rows:
                row = (agency, window_key, seq, *((ref,) if ref_column else ()), text)
                if replaces and seq not in pending:
                    conn.execute(update(table).where(table.c.agency == agency, table.c.window_key == window_key,
                                                     table.c.seq == seq)
                                 .values({**({ref_column: ref} if ref_column else {}),
                                          "record": type_coerce(bindparam("r", text), Text)}))
                    continue
                if not replaces:
                    n += 1
                pending[seq] = row
                if len(pending) >= chunk:
                    self._bulk_insert(conn, table, cols, pending.values())
                    pending = {}
            if pending:
                self._bulk_insert(conn, table, cols, pending.values())
        return n

    def _bulk_insert(self, conn, table: Table, cols: list[str], rows: Iterable[tuple]) -> None:
        raw = conn.connection.dbapi_connection
        if conn.dialect.name == "postgresql":
            buf = io.StringIO()
            for row in rows:
                buf.write(",".join(_csv_field(v) for v in row))
                buf.write("\n")
            buf.seek(0)
            with raw.cursor() as cur:
                cur.copy_expert(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf)
        else:
            marks = ", ".join("?" for _ in cols)
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({marks})", list(rows))

    def rows(self, table: Table, agency: str, window_key: str, *where,
             columns: tuple[str, ...] | None = None) -> Iterator[Any]:
        """The partition's rows in ``seq`` order, streamed (a server-side cursor on PostgreSQL):
        mappings of every column, or tuples of ``columns``."""
        cols = [table.c[c] for c in columns] if columns else [table]
        stmt = select(*cols).where(table.c.agency == agency, table.c.window_key == window_key, *where)
        if "seq" in table.c:
            stmt = stmt.order_by(table.c.seq)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=2000).execute(stmt)
            yield from (result if columns else result.mappings())

    def record_texts(self, table: Table, agency: str, window_key: str, *where) -> Iterator[str]:
        """The partition's records as the JSON text the store keeps, in ``seq`` order, streamed
        (a server-side cursor on PostgreSQL): for readers that decode only the fields they need
        (``figures.records``) instead of building every record as a dict."""
        stmt = select(cast(table.c.record, Text)).where(table.c.agency == agency, table.c.window_key == window_key,
                                                        *where).order_by(table.c.seq)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(stmt)
            for (text,) in result:
                yield text

    def records(self, table: Table, agency: str, window_key: str, *where) -> list[dict]:
        return [r["record"] for r in self.rows(table, agency, window_key, *where)]

    def set_accepted(self, table: Table, agency: str, window_key: str, rejected_seqs: set[int]) -> None:
        with self.engine.begin() as conn:
            base = update(table).where(table.c.agency == agency, table.c.window_key == window_key)
            conn.execute(base.values(accepted=True))
            seqs = sorted(rejected_seqs)
            for i in range(0, len(seqs), 1000):
                conn.execute(base.where(table.c.seq.in_(seqs[i:i + 1000])).values(accepted=False))

    def record_load(self, agency: str, window_key: str, dataset: str, **values) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(load_stats).where(load_stats.c.agency == agency,
                                                  load_stats.c.window_key == window_key,
                                                  load_stats.c.dataset == dataset))
            conn.execute(insert(load_stats).values(agency=agency, window_key=window_key, dataset=dataset,
                                                   loaded_at=utcnow(), **values))

    def load_stats(self, agency: str, window_key: str) -> dict[str, dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(load_stats).where(load_stats.c.agency == agency,
                                                         load_stats.c.window_key == window_key)).mappings()
            return {r["dataset"]: dict(r) for r in rows}

    def save_figures(self, agency: str, window_key: str, content: dict, run_id: str) -> None:
        self.replace_partition(figures, agency, window_key,
                               [{"run_id": run_id, "computed_at": utcnow(), "content": content}])

    def load_figures(self, agency: str, window_key: str) -> dict | None:
        rows = list(self.rows(figures, agency, window_key))
        return rows[0]["content"] if rows else None

    def save_draft(self, agency: str, window_key: str, core: dict, figures_sha: str, run_id: str) -> None:
        self.replace_partition(report_drafts, agency, window_key,
                               [{"run_id": run_id, "built_at": utcnow(), "core": core, "figures_sha": figures_sha}])

    def load_draft(self, agency: str, window_key: str) -> dict | None:
        rows = list(self.rows(report_drafts, agency, window_key))
        return dict(rows[0]) if rows else None

    # -- reports --------------------------------------------------------------------------------
    def report_versions(self, agency: str, year: int, quarter: int) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(reports).where(reports.c.agency == agency, reports.c.year == year,
                                                      reports.c.quarter == quarter)
                                .order_by(reports.c.version)).mappings()
            return [dict(r) for r in rows]

    def accepted_reports(self) -> list[dict]:
        """Every version the intake accepted (status ACCEPTED), of every agency and quarter, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(reports).where(reports.c.status == "ACCEPTED")
                                .order_by(reports.c.year, reports.c.quarter, reports.c.agency,
                                          reports.c.version)).mappings()
            return [dict(r) for r in rows]

    def upsert_report(self, agency: str, year: int, quarter: int, version: int, **values) -> None:
        with self.engine.begin() as conn:
            key = (reports.c.agency == agency, reports.c.year == year, reports.c.quarter == quarter,
                   reports.c.version == version)
            if conn.execute(select(reports.c.version).where(*key)).first():
                conn.execute(update(reports).where(*key).values(**values))
            else:
                conn.execute(insert(reports).values(agency=agency, year=year, quarter=quarter,
                                                    version=version, created_at=utcnow(), **values))

    # -- readers (the operator's pages, the steward's CLI) ------------------------------------
    def partitions(self) -> list[tuple[str, str]]:
        """Every (agency, window_key) the store knows anything about (a load, a report, a run's
        step), newest window first."""
        stmt = union(select(load_stats.c.agency, load_stats.c.window_key),
                     select(reports.c.agency, reports.c.window_key),
                     select(run_events.c.agency, run_events.c.window_key))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return sorted({(r[0], r[1]) for r in rows}, key=lambda p: (p[1], p[0]), reverse=True)

    def quarantined(self, agency: str, window_key: str) -> list[dict]:
        """The quarantined records of a partition (kind, seq, ref, violations, created_at):
        dossiers first, then ratings, each in delivery order."""
        stmt = (select(quarantine.c.kind, quarantine.c.seq, quarantine.c.ref, quarantine.c.violations,
                       quarantine.c.created_at)
                .where(quarantine.c.agency == agency, quarantine.c.window_key == window_key)
                .order_by(case((quarantine.c.kind == "dossier", 0), else_=1), quarantine.c.seq))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def figures_row(self, agency: str, window_key: str) -> dict | None:
        """The latest figures of a partition with when and by which run they were computed."""
        rows = list(self.rows(figures, agency, window_key))
        return dict(rows[0]) if rows else None

    def window_reports(self, agency: str, window_key: str) -> list[dict]:
        """Every version of the report of a window, oldest first, with its receipt."""
        stmt = (select(reports).where(reports.c.agency == agency, reports.c.window_key == window_key)
                .order_by(reports.c.version))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def latest_validation(self, agency: str, window_key: str) -> dict | None:
        """The partition's latest validation: run_id, validated_at, data_docs (not the results)."""
        v = validation_results
        stmt = select(v.c.run_id, v.c.validated_at, v.c.data_docs).where(v.c.agency == agency,
                                                                          v.c.window_key == window_key)
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return dict(row) if row else None

    # -- validation (quality/validation.py) ------------------------------------------------------
    def validated_counts(self, agency: str, window_key: str) -> tuple[int, int]:
        """(staged dossiers, quarantined dossiers) of a partition, as they stand now."""
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(dossiers).where(
                dossiers.c.agency == agency, dossiers.c.window_key == window_key)).scalar_one()
            rejected = conn.execute(select(func.count()).select_from(quarantine).where(
                quarantine.c.agency == agency, quarantine.c.window_key == window_key,
                quarantine.c.kind == "dossier")).scalar_one()
        return total, rejected

    # -- data stewards' corrections (quality/corrections.py) -------------------------------------
    def staged_dossier(self, agency: str, window_key: str, ma_ho_so: str) -> dict | None:
        """The staged dossier (seq, ma_ho_so, record) with that MaHoSo, the first delivered."""
        stmt = (select(dossiers.c.seq, dossiers.c.ma_ho_so, dossiers.c.record)
                .where(dossiers.c.agency == agency, dossiers.c.window_key == window_key,
                       dossiers.c.ma_ho_so == ma_ho_so).order_by(dossiers.c.seq))
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        return dict(row) if row else None

    def staged_dossiers_named(self, agency: str, window_key: str, seqs: Iterable[int],
                              refs: Iterable[str]) -> list[dict]:
        """The staged dossiers (seq, ma_ho_so, record) with one of ``seqs`` or one of the MaHoSo
        ``refs``, in ``seq`` order."""
        out: dict[int, dict] = {}
        with self.engine.connect() as conn:
            for column, values in ((dossiers.c.seq, sorted(set(seqs))), (dossiers.c.ma_ho_so, sorted(set(refs)))):
                for i in range(0, len(values), 500):
                    stmt = select(dossiers.c.seq, dossiers.c.ma_ho_so, dossiers.c.record).where(
                        dossiers.c.agency == agency, dossiers.c.window_key == window_key,
                        column.in_(values[i:i + 500]))
                    for r in conn.execute(stmt).mappings():
                        out[r["seq"]] = dict(r)
        return [out[k] for k in sorted(out)]

    def corrected_copies(self, agency: str, window_key: str, seq: int | None = None) -> dict[int, dict]:
        """seq → the portal's copy of each staged dossier the last validation corrected
        (corrected_dossiers rows; only ``seq``'s when given)."""
        stmt = select(corrected_dossiers).where(corrected_dossiers.c.agency == agency,
                                                corrected_dossiers.c.window_key == window_key)
        if seq is not None:
            stmt = stmt.where(corrected_dossiers.c.seq == seq)
        with self.engine.connect() as conn:
            return {r["seq"]: dict(r) for r in conn.execute(stmt).mappings()}

    def corrections(self, agency: str, window_key: str, status: str | None = None) -> list[dict]:
        """The partition's corrections (of one ``status`` when given), oldest first."""
        stmt = select(corrections).where(corrections.c.agency == agency, corrections.c.window_key == window_key)
        if status is not None:
            stmt = stmt.where(corrections.c.status == status)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt.order_by(corrections.c.id)).mappings()]

    def correction(self, correction_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(corrections).where(corrections.c.id == correction_id)).mappings().first()
        return dict(row) if row else None

    def correction_events(self, agency: str, window_key: str) -> list[dict]:
        """The partition's correction events, oldest first."""
        stmt = (select(correction_events)
                .where(correction_events.c.agency == agency, correction_events.c.window_key == window_key)
                .order_by(correction_events.c.id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def add_correction(self, agency: str, window_key: str, values: dict, *, in_force: str, event: str,
                       detail: dict, replaced: str, replaced_event: str, replaced_note: str) -> int:
        """Insert a correction (``values``: ma_ho_so, field, value_json, old_json, reason,
        created_by, created_at, status) with its ``event``, and in the same transaction close
        every other correction of the same dossier and field still ``in_force`` as ``replaced``
        (``replaced_note`` with ``{id}`` = the new correction's id), each with ``replaced_event``.
        Returns the new correction's id."""
        actor, now = values["created_by"], values["created_at"]
        with self.engine.begin() as conn:
            previous = conn.execute(select(corrections.c.id).where(
                corrections.c.agency == agency, corrections.c.window_key == window_key,
                corrections.c.ma_ho_so == values["ma_ho_so"], corrections.c.field == values["field"],
                corrections.c.status == in_force)).scalars().all()
            cid = conn.execute(insert(corrections).values(agency=agency, window_key=window_key, **values)
                               ).inserted_primary_key[0]
            self._correction_event(conn, cid, agency, window_key, event, actor, detail)
            for pid in previous:
                conn.execute(update(corrections).where(corrections.c.id == pid).values(
                    status=replaced, closed_at=now, closed_note=replaced_note.format(id=cid)))
                self._correction_event(conn, pid, agency, window_key, replaced_event, actor, {"boi": cid})
        return cid

    def close_correction(self, correction_id: int, *, status: str, note: str, event: str, actor: str | None,
                         detail: dict, only_if: str | None = None) -> dict | None:
        """Close one correction (``status``, ``note``) with its event, in one transaction; None
        (nothing changed) when it does not exist or its status is not ``only_if``. Returns the
        row as it was."""
        with self.engine.begin() as conn:
            row = conn.execute(select(corrections).where(corrections.c.id == correction_id)).mappings().first()
            if row is None or (only_if is not None and row["status"] != only_if):
                return dict(row) if row else None
            conn.execute(update(corrections).where(corrections.c.id == correction_id).values(
                status=status, closed_at=utcnow(), closed_note=note))
            self._correction_event(conn, correction_id, row["agency"], row["window_key"], event, actor, detail)
        return dict(row)

    def apply_corrections(self, agency: str, window_key: str, *, records: Iterable[tuple[int, Any]],
                          closed: Iterable[tuple[int, str, str, str, dict]],
                          events: Iterable[tuple[int, str, dict]], actor: str, copies: Iterable[dict]) -> None:
        """What applying the corrections before a validation writes, in one transaction: the
        staged ``records`` ((seq, record) now staged), the ``closed`` corrections ((id, status,
        note, event, detail)), further ``events`` ((id, event, detail)) by ``actor``, and the
        portal's ``copies`` of the corrected dossiers (replacing corrected_dossiers' partition)."""
        now = utcnow()
        with self.engine.begin() as conn:
            for seq, record in records:
                conn.execute(update(dossiers).where(dossiers.c.agency == agency, dossiers.c.window_key == window_key,
                                                    dossiers.c.seq == seq).values(record=record))
            for cid, status, note, event, detail in closed:
                conn.execute(update(corrections).where(corrections.c.id == cid).values(
                    status=status, closed_at=now, closed_note=note))
                self._correction_event(conn, cid, agency, window_key, event, actor, detail)
            for cid, event, detail in events:
                self._correction_event(conn, cid, agency, window_key, event, actor, detail)
            conn.execute(delete(corrected_dossiers).where(corrected_dossiers.c.agency == agency,
                                                          corrected_dossiers.c.window_key == window_key))
            rows = [{"agency": agency, "window_key": window_key, **c} for c in copies]
            if rows:
                conn.execute(insert(corrected_dossiers), rows)

    @staticmethod
    def _correction_event(conn, correction_id: int, agency: str, window_key: str, event: str, actor: str | None,
                          detail: dict | None) -> None:
        conn.execute(insert(correction_events).values(correction_id=correction_id, agency=agency,
                                                      window_key=window_key, event=event, at=utcnow(),
                                                      actor=actor, detail=detail or {}))
