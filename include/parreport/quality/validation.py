"""Validation of one staged partition (agency × window): corrections, GX suites, quarantine,
Data Docs and the decision to stop before submission.

:func:`validate_partition` is what the ``validate_records`` task runs (through
``pipeline.validate``). In order:

1. the stewards' corrections in force are applied to the staged dossiers (corrections.py);
2. the four suites of ``expectations/`` run through GX on flat tables of the staged records
   (frames.py); Data Docs and the validation results go to
   ``$data_dir/data_docs/<agency>/<window>/<run>/`` (:func:`data_docs_index`);
3. the record-level verdict of GX is cross-checked with the pure-Python rules (rules.py): the
   two must agree; a record either flags is quarantined, and a disagreement is logged and
   counted (``lech_gx_quy_tac``), never hidden;
4. every dossier breaking a blocking rule goes to ``quarantine`` with every rule it broke (code,
   field, Vietnamese message) and is left out of the figures; ratings likewise leave
   HL_HAI_LONG; staged = accepted + quarantined;
5. every check's result is stored (``validation_results``) for the report's ChatLuongDuLieu;
6. when quarantined dossiers exceed ``blocking_threshold`` × the window's dossiers,
   :class:`BlockingFailuresExceeded` stops the run before anything is computed or sent.
"""
from __future__ import annotations

import html
import logging
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import fmt
from .. import store as st
from ..files import run_slug
from ..periods import Window
from .corrections import apply_corrections
from .frames import records_frame
from .gx_runner import run_suites
from .rules import (
    RULE_TITLES,
    RuleContext,
    Violation,
    check_dossier,
    check_procedure,
    check_rating,
    check_unit,
)
from .suites import SUITE_TITLES, rule_title

log = logging.getLogger(__name__)

__all__ = ["BlockingFailuresExceeded", "validate_partition", "data_docs_dir", "data_docs_index", "data_docs_url",
           "summary_page", "units_below", "quality_checks"]


class BlockingFailuresExceeded(RuntimeError):
    """Too many dossiers break a blocking rule: the run stops before submission and waits for a
    data steward (corrections, or the portal fixed), then validation is cleared / re-run."""

    def __init__(self, message: str, *, quarantined: int, total: int, threshold: float, data_docs: str | None):
        super().__init__(message)
        self.quarantined, self.total, self.threshold, self.data_docs = quarantined, total, threshold, data_docs


def data_docs_dir(data_dir: Path | str, agency: str, window_key: str, run_id: str) -> Path:
    return Path(data_dir) / "data_docs" / agency / window_key / run_slug(run_id)


def data_docs_index(data_dir: Path | str, agency: str, window_key: str, run_id: str) -> Path:
    """The GX Data Docs entry page of one validation run."""
    return data_docs_dir(data_dir, agency, window_key, run_id) / "index.html"


def summary_page(data_dir: Path | str, agency: str, window_key: str, run_id: str) -> Path:
    """A self-contained Vietnamese summary of the same run (no network needed to read it)."""
    return data_docs_dir(data_dir, agency, window_key, run_id) / "tom-tat.html"


def data_docs_url(data_dir: Path | str, agency: str, window_key: str, run_id: str, page: str = "index.html") -> str:
    """A URL for a link from the Airflow UI: ``$PARREPORT_DATA_DOCS_BASE_URL/<agency>/<window>/<run>/<page>``
    when the data_docs directory is served over HTTP, else a ``file://`` URL."""
    base = os.environ.get("PARREPORT_DATA_DOCS_BASE_URL", "").rstrip("/")
    if base:
        return f"{base}/{agency}/{window_key}/{run_slug(run_id)}/{page}"
    return (data_docs_dir(data_dir, agency, window_key, run_id) / page).resolve().as_uri()


def units_below(units: list[dict], root: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for u in units:
        if isinstance(u, dict) and isinstance(u.get("MaDonVi"), str):
            children.setdefault(u.get("MaDonViCha") or "", []).append(u["MaDonVi"])
    seen, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def _volume_params(stats_by_window: dict[str, dict | None]) -> tuple[dict, dict, dict]:
    """Bounds of 'moves by more than half' for the row-count expectations, from the staged
    dossier counts of the previous quarter and the same quarter a year earlier."""
    params, reasons, base = {}, {}, {}
    for key, label, pmin, pmax in (("previous", "quý trước", "so_ho_so_quy_truoc_min", "so_ho_so_quy_truoc_max"),
                                   ("year_before", "cùng kỳ năm trước", "so_ho_so_cung_ky_min",
                                    "so_ho_so_cung_ky_max")):
        s = stats_by_window.get(key)
        n = s.get("staged") if s else None
        base[key] = n
        if n is None:
            params[pmin] = params[pmax] = None
            reasons[pmin] = reasons[pmax] = f"không có dữ liệu {label}"
        else:
            params[pmin], params[pmax] = n / 2, n * 3 / 2
    return params, reasons, base


def _rules_cross_check(kind: str, rec: Any, ctx: RuleContext) -> list[Violation]:
    if kind == "ho_so":
        return check_dossier(rec, ctx)
    if kind == "danh_gia":
        return check_rating(rec, ctx)
    if kind == "thu_tuc":
        return check_procedure(rec)
    return check_unit(rec)


# Expectation rule codes judged record by record (the others are about the whole table).
_TABLE_RULES = {"duplicate_id", "volume_vs_previous", "volume_vs_year_before", "agency_missing"}
_WARNING_ONLY = {"due_before_receipt"}  # record-level warnings (rules.check_dossier_warnings)


def validate_partition(store: st.Store, *, agency: str, window: Window, data_dir: Path | str, run_id: str,
                       threshold: float = 0.01, write_docs: bool = True, cross_check: bool = True,
                       outcomes_sink: dict | None = None) -> dict:
    """Validate the partition (see the module docstring); returns a JSON-able summary.
    ``outcomes_sink``, when given, receives the GX outcomes per suite (for tests and tools)."""
    key = window.key
    units_rows = list(store.rows(st.units, agency, key))
    proc_rows = list(store.rows(st.procedures, agency, key))
    units = [r["record"] for r in units_rows if isinstance(r["record"], dict)]
    procedures = [r["record"] for r in proc_rows if isinstance(r["record"], dict)]
    ctx = RuleContext(procedure_codes={p["MaTTHC"] for p in procedures if isinstance(p.get("MaTTHC"), str)},
                      agency_units=units_below(units, agency))
    dossier_rows = [dict(r) for r in store.rows(st.dossiers, agency, key)]
    rating_rows = [dict(r) for r in store.rows(st.ratings, agency, key)]

    corr = apply_corrections(store, agency, key, dossier_rows)

    stats = {"previous": store.load_stats(agency, window.previous().key).get("dossiers"),
             "year_before": store.load_stats(agency, window.year_before().key).get("dossiers")}
    vparams, vreasons, vbase = _volume_params(stats)
    params = {"danh_muc_ma_tthc": sorted(ctx.procedure_codes), "don_vi_thuoc_co_quan": sorted(ctx.agency_units),
              "co_quan_bao_cao": [agency], **vparams}
    frames = {
        "ho_so": records_frame("ho_so", [(r["seq"], r["record"]) for r in dossier_rows]),
        "danh_gia": records_frame("danh_gia", [(r["seq"], r["record"]) for r in rating_rows]),
        "thu_tuc": records_frame("thu_tuc", [(r["seq"], r["record"]) for r in proc_rows]),
        "don_vi": records_frame("don_vi", [(r["seq"], r["record"]) for r in units_rows]),
    }
    docs = data_docs_dir(data_dir, agency, key, run_id) if write_docs else None
    outcomes = run_suites(frames, params, run_name=run_slug(run_id), docs_dir=docs, skip_reasons=vreasons)
    if outcomes_sink is not None:
        outcomes_sink.update(outcomes)

    by_kind_rows = {"ho_so": dossier_rows, "danh_gia": rating_rows, "thu_tuc": proc_rows, "don_vi": units_rows}
    # verdicts[kind][seq] = every record-level rule the record breaks (GX ∪ rules.py); table-level
    # blocking rules (a duplicate MaHoSo) are added to the records they name.
    verdicts: dict[str, dict[int, set[str]]] = {}
    details: dict[str, dict[int, list[Violation]]] = {}
    disagreements = 0
    for kind, outcome in outcomes.items():
        gx_rules: dict[int, set[str]] = {}
        table: dict[int, list[Violation]] = {}
        for e in outcome.expectations:
            if e.success is not False or e.quy_tac in _WARNING_ONLY:
                continue
            for seq in e.failing_seqs:
                if e.quy_tac in _TABLE_RULES:
                    if e.muc_do == "CHAN":
                        table.setdefault(seq, []).append(Violation(e.quy_tac, e.truong, e.giai_thich))
                else:
                    gx_rules.setdefault(seq, set()).add(e.quy_tac)
        found: dict[int, set[str]] = {}
        found_details: dict[int, list[Violation]] = {}
        for row in by_kind_rows[kind]:
            seq = row["seq"]
            gx = gx_rules.get(seq, set())
            if not cross_check and not gx and seq not in table:
                continue
            vs = _rules_cross_check(kind, row["record"], ctx) if (cross_check or gx) else []
            py = {v.rule for v in vs}
            if py != gx:
                disagreements += 1
                log.error("kiểm tra %s #%s: GX và quy tắc Python không khớp (GX %s, Python %s)", kind, seq,
                          sorted(gx), sorted(py))
            extra = table.get(seq, [])
            rules = py | gx | {v.rule for v in extra}
            if rules:
                found[seq] = rules
                found_details[seq] = vs + [Violation(r, "", rule_title(r)) for r in sorted(gx - py)] + extra
        verdicts[kind] = found
        details[kind] = found_details
    extras = details

    # -- quarantine (dossiers, ratings); procedures/units are reference data: warnings only --
    now = st.utcnow()
    q_rows = []
    for kind, label, rows, ref in (("ho_so", "dossier", dossier_rows, "ma_ho_so"),
                                   ("danh_gia", "rating", rating_rows, "ma_danh_gia")):
        for row in rows:
            if row["seq"] in verdicts[kind]:
                q_rows.append({"kind": label, "seq": row["seq"], "ref": row.get(ref),
                               "violations": [asdict(v) for v in extras[kind][row["seq"]]], "created_at": now})
    store.replace_partition(st.quarantine, agency, key, q_rows)
    store.set_accepted(st.dossiers, agency, key, set(verdicts["ho_so"]))
    store.set_accepted(st.ratings, agency, key, set(verdicts["danh_gia"]))

    n_total, n_q = len(dossier_rows), len(verdicts["ho_so"])
    corrected_refs = set(corr["corrected_refs"])
    still_bad = sum(1 for r in dossier_rows if r["seq"] in verdicts["ho_so"] and r.get("ma_ho_so") in corrected_refs)
    checks = quality_checks(outcomes, verdicts, vbase, n_total)
    index = data_docs_index(data_dir, agency, key, run_id) if write_docs else None
    content = {
        "SoBanGhi": n_total, "SoBanGhiLoai": n_q, "SoBanGhiDaSua": corr["corrected_dossiers"],
        "SoBanGhiDaSuaVanLoi": still_bad, "KiemTra": checks,
        "danh_gia_bi_loai": len(verdicts["danh_gia"]), "lech_gx_quy_tac": disagreements,
        "sua_doi": {k: v for k, v in corr.items() if k != "corrected_refs"},
        "ky_vong": {k: [e.as_dict() for e in o.expectations] for k, o in outcomes.items()},
        "data_docs": str(index) if index else None,
    }
    store.replace_partition(st.validation_results, agency, key, [{
        "run_id": run_id, "validated_at": now, "data_docs": str(index) if index else None,
        "content": {k: v for k, v in content.items() if k != "ky_vong"}}])
    if write_docs and docs is not None:
        _write_summary(docs / "tom-tat.html", agency, window, run_id, content, outcomes, by_kind_rows, verdicts)

    by_rule = Counter(r for rules in verdicts["ho_so"].values() for r in rules)
    rating_rules = Counter(r for rules in verdicts["danh_gia"].values() for r in rules)
    summary = {"dossiers": n_total, "accepted": n_total - n_q, "quarantined": n_q,
               "by_rule": dict(sorted(by_rule.items())), "ratings_rejected": len(verdicts["danh_gia"]),
               "rating_rules": dict(sorted(rating_rules.items())),
               "warnings": {c["Ten"]: c["SoLoi"] for c in checks if c["MucDo"] == "CANH_BAO" and c["SoLoi"]},
               "corrected": corr["corrected_dossiers"], "corrections_superseded": len(corr["superseded"]),
               "corrections_not_applied": len(corr["failed"]), "disagreements": disagreements,
               "data_docs": str(index) if index else None,
               "data_docs_url": data_docs_url(data_dir, agency, key, run_id) if index else None,
               "summary_url": data_docs_url(data_dir, agency, key, run_id, "tom-tat.html") if index else None,
               "threshold": threshold}
    log.info("kiểm tra %s, %s: %d hồ sơ, %d cách ly (%s); %d đánh giá bị loại; %d hồ sơ đã sửa; Data Docs: %s",
             agency, window.label, n_total, n_q,
             ", ".join(f"{RULE_TITLES.get(k, k)}: {v}" for k, v in by_rule.items()) or "không",
             len(verdicts["danh_gia"]), corr["corrected_dossiers"], index)
    if n_q > threshold * n_total:
        raise BlockingFailuresExceeded(
            f"Dừng trước khi gửi báo cáo: {n_q} trong {n_total} hồ sơ của {window.label} (đơn vị {agency}) vi phạm "
            f"quy tắc chặn — {100 * n_q / n_total:.2f} %, vượt ngưỡng {100 * threshold:g} %. "
            f"Xem danh sách: parreport quarantine list --agency {agency} --year {window.year} "
            f"--quarter {window.quarter}; ghi sửa đổi: parreport corrections add ...; sau đó chạy lại bước "
            f"validate_records (Clear trong Airflow) hoặc chạy lại quý. Data Docs: {index}",
            quarantined=n_q, total=n_total, threshold=threshold, data_docs=str(index) if index else None)
    return summary


def quality_checks(outcomes: dict, verdicts: dict[str, dict[int, set[str]]], vbase: dict, n_total: int) -> list[dict]:
    """KiemTra items, per record kind and rule in the suites' order: SoLoi = records breaking
    the rule (a table-level check counts 1); the volume warnings say what they compared."""
    checks = []
    for kind, outcome in outcomes.items():
        title = SUITE_TITLES[kind]
        order: dict[str, str] = {}
        seqs: dict[str, set] = {}
        for e in outcome.expectations:
            if e.quy_tac.startswith("volume_"):
                continue
            order.setdefault(e.quy_tac, e.muc_do)
            if e.success is False:
                seqs.setdefault(e.quy_tac, set()).update(e.failing_seqs or {("bang", e.type)})
        per_record = Counter(r for rs in verdicts.get(kind, {}).values() for r in rs)
        for rule, muc_do in order.items():
            if rule in _TABLE_RULES or rule in _WARNING_ONLY:
                n = len(seqs.get(rule, ()))
            else:
                n = per_record[rule]
            checks.append({"Ten": f"{title}: {rule_title(rule)}", "MucDo": muc_do,
                           "KetQua": "KHONG_DAT" if n else "DAT", "SoLoi": n})
        if kind == "ho_so":
            for e in outcome.expectations:
                if not e.quy_tac.startswith("volume_"):
                    continue
                base = vbase.get("previous" if e.quy_tac == "volume_vs_previous" else "year_before")
                label = "quý trước" if e.quy_tac == "volume_vs_previous" else "cùng kỳ năm trước"
                if e.skipped or base is None:
                    checks.append({"Ten": f"Hồ sơ: số hồ sơ so với {label} — không có dữ liệu {label}",
                                   "MucDo": "CANH_BAO", "KetQua": "DAT", "SoLoi": 0})
                    continue
                change = "không xác định" if base == 0 else f"{100 * (n_total - base) / base:+.1f} %"
                checks.append({"Ten": f"Hồ sơ: số hồ sơ {n_total} so với {label} {base} ({change}; cảnh báo khi "
                                      f"thay đổi quá một nửa)", "MucDo": "CANH_BAO",
                               "KetQua": "DAT" if e.success else "KHONG_DAT", "SoLoi": 0 if e.success else 1})
    return checks


def _write_summary(path: Path, agency: str, window: Window, run_id: str, content: dict, outcomes: dict,
                   rows_by_kind: dict, verdicts: dict) -> None:
    """A plain, self-contained HTML page in Vietnamese: every check, and each failing record."""
    esc = html.escape
    refs = {kind: {r["seq"]: (r.get("ma_ho_so") or r.get("ma_danh_gia") or r.get("ma_tthc") or r.get("ma_don_vi")
                              or f"#{r['seq']}") for r in rows} for kind, rows in rows_by_kind.items()}
    parts = [
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>Kết quả kiểm tra dữ liệu</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #bbb;padding:4px 8px;vertical-align:top;text-align:left}"
        ".KHONG_DAT{background:#fdd}.DAT{background:#dfd}.skip{color:#777}</style></head><body>",
        f"<h1>Kết quả kiểm tra dữ liệu — {esc(window.label)}</h1>",
        f"<p>Đơn vị báo cáo: <b>{esc(agency)}</b>; lần chạy: <code>{esc(run_id)}</code>. "
        f"Hồ sơ: {fmt.number(content['SoBanGhi'])}; bị cách ly (không vào số liệu): "
        f"<b>{fmt.number(content['SoBanGhiLoai'])}</b>; "
        f"đã sửa theo đề nghị của cán bộ dữ liệu: {fmt.number(content['SoBanGhiDaSua'])}; "
        f"đánh giá bị loại khỏi HL_HAI_LONG: {fmt.number(content['danh_gia_bi_loai'])}.</p>",
        "<p>Báo cáo chi tiết của Great Expectations: <a href='index.html'>Data Docs</a>. "
        "Danh sách cách ly: <code>parreport quarantine list --year "
        f"{window.year} --quarter {window.quarter} --agency {esc(agency)}</code></p>",
        "<h2>Các phép kiểm tra</h2><table><tr><th>Kiểm tra</th><th>Mức độ</th><th>Kết quả</th><th>Số lỗi</th></tr>",
    ]
    for c in content["KiemTra"]:
        parts.append(f"<tr class='{c['KetQua']}'><td>{esc(c['Ten'])}</td><td>{fmt.label('muc_do', c['MucDo'])}</td>"
                     f"<td>{fmt.label('ket_qua', c['KetQua'])}</td><td>{fmt.number(c['SoLoi'])}</td></tr>")
    parts.append("</table>")
    for kind, outcome in outcomes.items():
        parts.append(f"<h2>{esc(SUITE_TITLES[kind])}: từng kỳ vọng</h2><table><tr><th>Kỳ vọng</th><th>Cột</th>"
                     "<th>Mức độ</th><th>Giải thích</th><th>Kết quả</th><th>Bản ghi vi phạm (tối đa 50)</th></tr>")
        for e in outcome.expectations:
            if e.skipped:
                result, cls = f"không chạy: {esc(e.skipped)}", "skip"
            else:
                result, cls = ("ĐẠT" if e.success else f"KHÔNG ĐẠT ({e.unexpected_count})"), \
                    ("DAT" if e.success else "KHONG_DAT")
            failing = ", ".join(esc(str(refs[kind].get(s, s))) for s in e.failing_seqs[:50])
            parts.append(f"<tr class='{cls}'><td>{esc(e.type)}</td><td><code>{esc(str(e.column or ''))}</code></td>"
                         f"<td>{fmt.label('muc_do', e.muc_do)}</td><td>{esc(e.giai_thich)}</td><td>{result}</td>"
                         f"<td>{failing}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")


def quality_results(store: st.Store, agency: str, window_key: str) -> dict:
    """The stored outcome of the partition's last validation (``{}`` when never validated).
    SoBanGhiLoai and SoBanGhi are re-read from the store so that staged = accepted +
    quarantined holds whatever happened since."""
    rows = list(store.rows(st.validation_results, agency, window_key))
    content = dict(rows[0]["content"]) if rows else {}
    if not content:
        return {}
    with store.engine.connect() as conn:
        from sqlalchemy import func, select

        total = conn.execute(select(func.count()).select_from(st.dossiers).where(
            st.dossiers.c.agency == agency, st.dossiers.c.window_key == window_key)).scalar_one()
        rejected = conn.execute(select(func.count()).select_from(st.quarantine).where(
            st.quarantine.c.agency == agency, st.quarantine.c.window_key == window_key,
            st.quarantine.c.kind == "dossier")).scalar_one()
    content["SoBanGhi"], content["SoBanGhiLoai"] = total, rejected
    content["data_docs"] = rows[0]["data_docs"]
    return content
