"""Validation of one staged partition (agency × window): corrections, GX suites, quarantine,
Data Docs and the decision to stop before submission.

:func:`validate_partition` is what the ``validate_records`` task runs (through
``pipeline.validate``). In order:

1. the stewards' corrections in force are applied to the staged dossiers (corrections.py);
2. the four suites of ``expectations/`` run through GX on flat tables of the staged records
   (frames.py); Data Docs and the validation results go to
   ``$data_dir/data_docs/<agency>/<window>/<run>/`` (:func:`data_docs_index`);
3. GX is the only judge: an expectation whose ``meta.muc_do`` is ``CHAN`` blocks the records it
   fails; the frames are built from the store in bounded chunks (no window-sized list of
   records is held), typed and validated once, with every failing row collected;
4. every dossier breaking a blocking rule goes to ``quarantine`` with every rule it broke (code,
   field, the suite's Vietnamese explanation) and is left out of the figures; ratings likewise leave
   HL_HAI_LONG; staged = accepted + quarantined;
5. every check's result is stored (``validation_results``) for the report's ChatLuongDuLieu;
6. when quarantined dossiers exceed ``blocking_threshold`` × the window's dossiers,
   :class:`BlockingFailuresExceeded` stops the run before anything is computed or sent.
"""
from __future__ import annotations

import html
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import fmt
from .. import store as st
from ..files import run_slug
from ..storage import as_path, discard_scratch, publish_dir, scratch_dir, uri
from ..periods import Window
from .corrections import apply_corrections
from .chunks import batches, build_chunks
from .frames import frame_of
from .gx_runner import run_suites
from .rules import RULE_TITLES, rule_title
from .suites import SUITE_TITLES

log = logging.getLogger(__name__)

__all__ = ["BlockingFailuresExceeded", "validate_partition", "data_docs_dir", "data_docs_index", "data_docs_url",
           "summary_page", "units_below", "quality_checks"]


@dataclass(frozen=True)
class Violation:
    """One rule a quarantined record breaks, as the quarantine table keeps it."""

    rule: str  # the rule code (meta.quy_tac)
    field: str  # the field (meta.truong; an array item's index when the frame states it)
    message: str  # the suite's Vietnamese explanation (meta.giai_thich)


class BlockingFailuresExceeded(RuntimeError):
    """Too many dossiers break a blocking rule: the run stops before submission and waits for a
    data steward (corrections, or the portal fixed), then validation is cleared / re-run."""

    def __init__(self, message: str, *, quarantined: int, total: int, threshold: float, data_docs: str | None):
        super().__init__(message)
        self.quarantined, self.total, self.threshold, self.data_docs = quarantined, total, threshold, data_docs


def data_docs_dir(data_dir: Path | str, agency: str, window_key: str, run_id: str) -> Path:
    return as_path(data_dir) / "data_docs" / agency / window_key / run_slug(run_id)


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
    return uri(data_docs_dir(data_dir, agency, window_key, run_id) / page)


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


def _kind_frame(store: st.Store, table, kind: str, agency: str, key: str) -> pd.DataFrame:
    """The typed frame (frames.py) of a staged partition, built chunk by chunk from the store's
    JSON text (fast_frames.py: well-formed records are read without the general walk; chunks.py:
    on every core the task has)."""
    return frame_of(build_chunks(kind, batches(store.record_texts(table, agency, key, with_seq=True))))


def _violations(outcome, frame: pd.DataFrame) -> dict[int, list[Violation]]:
    """seq -> every blocking rule (``meta.muc_do == CHAN``) the record fails, with the field
    (an array item's index where the frame states which item) and the suite's explanation."""
    found: dict[int, list[Violation]] = {}
    seq_index = None
    for e in outcome.expectations:
        if e.success is not False or e.muc_do != "CHAN" or not e.failing_seqs:
            continue
        where = f"vi_tri:{e.truong}"
        positions = None
        if "[]" in e.truong and where in frame.columns:
            if seq_index is None:
                seq_index = pd.Index(frame["seq"])
            rows = seq_index.get_indexer(e.failing_seqs)
            positions = dict(zip(e.failing_seqs, frame[where].to_numpy()[rows]))
        for seq in e.failing_seqs:
            field = e.truong
            if positions is not None and positions.get(seq) is not None and positions[seq] == positions[seq]:
                field = e.truong.replace("[]", f"[{int(positions[seq])}]", 1)
            v = Violation(e.quy_tac, field, e.giai_thich)
            have = found.setdefault(seq, [])
            if v not in have:
                have.append(v)
    return found


def validate_partition(store: st.Store, *, agency: str, window: Window, data_dir: Path | str, run_id: str,
                       threshold: float = 0.01, write_docs: bool = True,
                       outcomes_sink: dict | None = None, timings: dict | None = None) -> dict:
    """Validate the partition (see the module docstring); returns a JSON-able summary.
    ``outcomes_sink``, when given, receives the GX outcomes per suite (for tests and tools);
    ``timings`` the wall time of each stage in seconds (scripts/bench_validation.py)."""
    timings = {} if timings is None else timings
    mark = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal mark
        now_ = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now_ - mark
        mark = now_

    key = window.key
    units = [r[1] for r in store.rows(st.units, agency, key, columns=("seq", "record")) if isinstance(r[1], dict)]
    procedures = [r[1] for r in store.rows(st.procedures, agency, key, columns=("seq", "record"))
                  if isinstance(r[1], dict)]
    procedure_codes = {p["MaTTHC"] for p in procedures if isinstance(p.get("MaTTHC"), str)}
    agency_units = units_below(units, agency)

    corr = apply_corrections(store, agency, key)
    lap("corrections")

    stats = {"previous": store.load_stats(agency, window.previous().key).get("dossiers"),
             "year_before": store.load_stats(agency, window.year_before().key).get("dossiers")}
    vparams, vreasons, vbase = _volume_params(stats)
    params = {"danh_muc_ma_tthc": sorted(procedure_codes), "don_vi_thuoc_co_quan": sorted(agency_units),
              "co_quan_bao_cao": [agency], **vparams}
    frames = {
        "ho_so": _kind_frame(store, st.dossiers, "ho_so", agency, key),  # corrections already applied
        "danh_gia": _kind_frame(store, st.ratings, "danh_gia", agency, key),
        "thu_tuc": _kind_frame(store, st.procedures, "thu_tuc", agency, key),
        "don_vi": _kind_frame(store, st.units, "don_vi", agency, key),
    }
    docs = data_docs_dir(data_dir, agency, key, run_id) if write_docs else None
    lap("frames")
    work = scratch_dir(docs)  # GX writes Data Docs to a local folder; published to the storage below
    try:
        outcomes = run_suites(frames, params, run_name=run_slug(run_id), docs_dir=work, skip_reasons=vreasons,
                              timings=timings)
        lap("gx")
        if outcomes_sink is not None:
            outcomes_sink.update(outcomes)
        # Only dossiers and ratings are quarantined; the catalogue and the units are reference data
        # (their checks are reported, see quality_checks).
        verdicts = {kind: _violations(outcomes[kind], frames[kind]) for kind in ("ho_so", "danh_gia")}
        refs = {kind: dict(zip(frames[kind]["seq"].tolist(), frames[kind]["ref"].tolist())) for kind in verdicts}

        # -- quarantine (dossiers, ratings) ------------------------------------------------------------
        now = st.utcnow()
        q_rows = []
        for kind, label in (("ho_so", "dossier"), ("danh_gia", "rating")):
            for seq in sorted(verdicts[kind]):
                q_rows.append({"kind": label, "seq": seq, "ref": refs[kind].get(seq),
                               "violations": [{"rule": v.rule, "field": v.field, "message": v.message}
                                              for v in verdicts[kind][seq]], "created_at": now})
        store.replace_partition(st.quarantine, agency, key, q_rows)
        store.set_accepted(st.dossiers, agency, key, set(verdicts["ho_so"]))
        store.set_accepted(st.ratings, agency, key, set(verdicts["danh_gia"]))

        n_total, n_q = len(frames["ho_so"]), len(verdicts["ho_so"])
        corrected_refs = set(corr["corrected_refs"])
        still_bad = sum(1 for seq in verdicts["ho_so"] if refs["ho_so"].get(seq) in corrected_refs)
        checks = quality_checks(outcomes, vbase, n_total)
        index = data_docs_index(data_dir, agency, key, run_id) if write_docs else None
        content = {
            "SoBanGhi": n_total, "SoBanGhiLoai": n_q, "SoBanGhiDaSua": corr["corrected_dossiers"],
            "SoBanGhiDaSuaVanLoi": still_bad, "KiemTra": checks,
            "danh_gia_bi_loai": len(verdicts["danh_gia"]),
            "sua_doi": {k: v for k, v in corr.items() if k != "corrected_refs"},
            "data_docs": str(index) if index else None,
        }
        store.replace_partition(st.validation_results, agency, key, [{
            "run_id": run_id, "validated_at": now, "data_docs": str(index) if index else None, "content": content}])
        if write_docs and docs is not None:
            failing = {kind: {s: r for s, r in zip(frames[kind]["seq"].tolist(), frames[kind]["ref"].tolist())
                              if r is not None} for kind in ("thu_tuc", "don_vi")}
            _write_summary(work / "tom-tat.html", agency, window, run_id, content, outcomes, {**refs, **failing})
            publish_dir(work, docs)
    except BaseException:
        discard_scratch(work, docs)  # nothing half-built is left in /tmp
        raise
    del frames
    lap("quarantine")

    by_rule = Counter(v.rule for vs in verdicts["ho_so"].values() for v in {x.rule: x for x in vs}.values())
    rating_rules = Counter(v.rule for vs in verdicts["danh_gia"].values() for v in {x.rule: x for x in vs}.values())
    summary = {"dossiers": n_total, "accepted": n_total - n_q, "quarantined": n_q,
               "by_rule": dict(sorted(by_rule.items())), "ratings_rejected": len(verdicts["danh_gia"]),
               "rating_rules": dict(sorted(rating_rules.items())),
               "warnings": {c["Ten"]: c["SoLoi"] for c in checks if c["MucDo"] == "CANH_BAO" and c["SoLoi"]},
               "corrected": corr["corrected_dossiers"], "corrections_superseded": len(corr["superseded"]),
               "corrections_not_applied": len(corr["failed"]),
               "data_docs": str(index) if index else None,
               "data_docs_url": data_docs_url(data_dir, agency, key, run_id) if index else None,
               "summary_url": data_docs_url(data_dir, agency, key, run_id, "tom-tat.html") if index else None,
               "threshold": threshold}
    log.info("kiểm tra %s, %s: %d hồ sơ, %d cách ly (%s); %d đánh giá bị loại; %d hồ sơ đã sửa; Data Docs: %s",
             agency, window.label, n_total, n_q,
             ", ".join(f"{RULE_TITLES.get(k, k)}: {v}" for k, v in by_rule.items()) or "không",
             len(verdicts["danh_gia"]), corr["corrected_dossiers"], index)
    stages = {"corrections": "sửa đổi", "frames": "dựng bảng dữ liệu", "gx": "GX (gồm Data Docs)",
              "data_docs": "trong đó Data Docs", "quarantine": "cách ly và lưu kết quả"}
    log.info("thời gian kiểm tra: %s", "; ".join(f"{label} {timings[k]:.1f} s" for k, label in stages.items()
                                                 if k in timings))
    if n_q > threshold * n_total:
        raise BlockingFailuresExceeded(
            f"Dừng trước khi gửi báo cáo: {n_q} trong {n_total} hồ sơ của {window.label} (đơn vị {agency}) vi phạm "
            f"quy tắc chặn — {100 * n_q / n_total:.2f} %, vượt ngưỡng {100 * threshold:g} %. "
            f"Xem danh sách: parreport quarantine list --agency {agency} --year {window.year} "
            f"--quarter {window.quarter}; ghi sửa đổi: parreport corrections add ...; sau đó chạy lại bước "
            f"validate_records (Clear trong Airflow) hoặc chạy lại quý. Data Docs: {index}",
            quarantined=n_q, total=n_total, threshold=threshold, data_docs=str(index) if index else None)
    return summary


def quality_checks(outcomes: dict, vbase: dict, n_total: int) -> list[dict]:
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
        for rule, muc_do in order.items():
            n = len(seqs.get(rule, ()))  # the records failing the rule (1 for a table-level check)
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
                   refs: dict[str, dict[int, str | None]]) -> None:
    """A plain, self-contained HTML page in Vietnamese: every check, and each failing record."""
    esc = html.escape
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
            failing = ", ".join(esc(str(refs.get(kind, {}).get(s) or f"#{s}")) for s in e.failing_seqs[:50])
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
    total, rejected = store.validated_counts(agency, window_key)
    content["SoBanGhi"], content["SoBanGhiLoai"] = total, rejected
    content["data_docs"] = rows[0]["data_docs"]
    return content
