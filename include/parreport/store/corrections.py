"""The data stewards' corrections in the store (quality/corrections.py calls these), each write
in one transaction with its audit event."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select, update

from .codec import utcnow
from .tables import corrected_dossiers, correction_events, corrections, dossiers


class CorrectionQueries:
    """The corrections' queries of :class:`parreport.store.Store` (a mixin: ``self.engine``)."""

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
