"""The store: :class:`Store`, its queries as methods (the stewards' corrections in corrections.py)."""
from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Table, Text, bindparam, case, cast, create_engine, delete, func, insert, select, type_coerce, union, update
from sqlalchemy.engine import Engine

from .codec import csv_field, json_loads, utcnow
from .corrections import CorrectionQueries
from .tables import (
    dossiers, figures, load_stats, quarantine, report_drafts, reports, run_events, units,
)


class Store(CorrectionQueries):
    """The store at ``url``, which ``parreport db upgrade`` created (parreport/db/).

    Opening it checks that its schema is at the newest migration and raises
    :class:`parreport.db.StoreNotReady` (Vietnamese, naming the command) otherwise; it creates
    nothing. Use it as a context manager: ``with Store(url) as store: ...`` disposes the engine.
    """

    def __init__(self, url: str):
        from ..db import require_head

        self.url = url
        self.engine: Engine = create_engine(url, future=True, json_deserializer=json_loads)
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
                buf.write(",".join(csv_field(v) for v in row))
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

    def record_texts(self, table: Table, agency: str, window_key: str, *where,
                     with_seq: bool = False) -> Iterator[Any]:
        """The partition's records as the JSON text the store keeps, in ``seq`` order, streamed
        (a server-side cursor on PostgreSQL): for readers that decode only the fields they need
        (``figures.records``, ``quality.fast_frames``) instead of building every record as a
        dict. With ``with_seq``, ``(seq, text)`` pairs."""
        text = cast(table.c.record, Text)
        stmt = select(table.c.seq, text) if with_seq else select(text)
        stmt = stmt.where(table.c.agency == agency, table.c.window_key == window_key, *where).order_by(table.c.seq)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(stmt)
            if with_seq:
                yield from result
            else:
                for (text,) in result:
                    yield text

    def records(self, table: Table, agency: str, window_key: str, *where) -> list[dict]:
        return [r["record"] for r in self.rows(table, agency, window_key, *where)]

    def set_accepted(self, table: Table, agency: str, window_key: str, rejected_seqs: set[int]) -> None:
        """The validation's verdict on a partition (:func:`.tables.accepted`): the rows given are
        quarantined (FALSE); the flag of a row an earlier validation set is cleared first. Only
        rows whose flag changes are written."""
        with self.engine.begin() as conn:
            base = update(table).where(table.c.agency == agency, table.c.window_key == window_key)
            conn.execute(base.where(table.c.accepted.is_not(None)).values(accepted=None))
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

    def window_reports(self, agency: str, window_key: str) -> list[dict]:
        """Every version of the report of a window, oldest first, with its receipt."""
        stmt = (select(reports).where(reports.c.agency == agency, reports.c.window_key == window_key)
                .order_by(reports.c.version))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

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
