"""The pipeline's steps as plain functions: each is what one Airflow task does.

Each step reads its inputs from the store (or the run's raw extract), writes its output keyed
by agency × window, and returns a small JSON-able summary for XCom and the operator. Any step
can be retried or cleared alone and gives the same result.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import store as st
from . import story
from .config import Settings
from .extract import STAGING_FIELDS, ExtractResult, extract_dataset, raw_root, read_record_texts
from .files import write_json
from .kinds import DATASETS, by_dataset
from .http import ApiError, Endpoint
from .periods import Window, run_window, window_for
from .portal import PortalClient
from .quality.dedupe import Deduper, dossier_key, procedure_key

# Every task process imports this module (tasks.py); what only compute_figures (figures, targets)
# or build_report and submit_report (report, intake) need is imported by those steps.

log = logging.getLogger(__name__)


class IdentityError(RuntimeError):
    """The figures break an identity of INDICATORS.md §2: nothing is sent."""


class SubmissionConflict(RuntimeError):
    """The intake holds versions this installation did not record: an operator must look."""


@dataclass(frozen=True)
class Period:
    agency: str
    window: Window

    def as_dict(self) -> dict:
        w = self.window
        return {"agency": self.agency, "year": w.year, "quarter": w.quarter, "rule": w.rule,
                "window_key": w.key, "start": w.start_ts, "end": w.end_ts, "label": w.label}

    @classmethod
    def from_dict(cls, d: dict) -> "Period":
        return cls(d["agency"], window_for(d["year"], d["quarter"], d["rule"]))


def resolve_period(settings: Settings, *, year: int | None, quarter: int | None, agency: str | None,
                   run_type: str | None = None, interval_end: datetime | None = None,
                   run_after: datetime | None = None) -> Period:
    """The agency (``agency`` or the configured one) and the quarter the run is about
    (:func:`periods.run_window`: the params; else a scheduled or backfill run's data interval;
    else the last window closed when the run was due)."""
    agency = (agency or "").strip() or settings.agency
    window = run_window(rule=settings.window_rule, params={"year": year, "quarter": quarter}, run_type=run_type,
                        data_interval_end=interval_end, run_after=run_after)
    return Period(agency, window)


def open_store(settings: Settings) -> st.Store:
    return st.Store(settings.store_url)


# -- extract ------------------------------------------------------------------------------------
def extract(settings: Settings, portal: Endpoint, period: Period, run_id: str, dataset: str) -> dict:
    root = raw_root(settings.storage, period.agency, period.window, run_id)
    with PortalClient(portal, page_size=settings.page_size, timeout=settings.http_timeout,
                      max_attempts=settings.max_retries) as client:
        result = extract_dataset(client, dataset, period.agency, period.window, root)
        summary = result.as_dict()
        summary["http"] = dict(client.stats)
    story.record(settings, period, run_id, "extract", "ok", story.extract_detail(dataset, summary))
    return summary


# -- load ---------------------------------------------------------------------------------------
def load(settings: Settings, period: Period, extracts: dict[str, dict], run_id: str) -> dict:
    """Stage every extracted dataset into its (agency × window) partition, replacing it.

    The kept pages are streamed (one page in memory at a time); dossiers and catalogue entries
    are de-duplicated on the way (:class:`quality.dedupe.Deduper`: a later copy that wins takes
    its slot), and each record's kept JSON text goes to the store in bulk."""
    summary = {}
    with open_store(settings) as store:
        for dataset in DATASETS:
            result = ExtractResult(**{k: v for k, v in extracts[dataset].items() if k != "http"})
            key_fn = {"dossiers": dossier_key, "procedures": procedure_key}.get(dataset)
            deduper = Deduper(key_fn) if key_fn else None
            kind = by_dataset(dataset)
            ref_column, ref_field = (kind.ref_column, kind.ref_field) if kind.ref_column else (None, None)
            n = store.stage_partition(st.metadata.tables[kind.table], period.agency, period.window.key,
                                      _staged_rows(read_record_texts(result.raw_dir, STAGING_FIELDS), deduper, ref_field),
                                      ref_column)
            duplicates = deduper.dropped if deduper else 0
            store.record_load(period.agency, period.window.key, dataset, run_id=run_id, raw_dir=result.raw_dir,
                              tong_so=result.tong_so, delivered=result.delivered, staged=n, duplicates=duplicates)
            summary[dataset] = {"delivered": result.delivered, "staged": n, "duplicates": duplicates}
            log.info("nạp %s: nhận %d, lưu %d, trùng lặp bỏ %d", dataset, result.delivered, n, duplicates)
    story.record(settings, period, run_id, "load", "ok", summary)
    return summary


def _staged_rows(records, deduper, ref_field: str | None):
    """``(seq, replaces, ref, text)`` for :meth:`store.Store.stage_partition`."""
    seq = 0
    for text, record in records:
        if deduper is None:
            placed = (seq, False)
            seq += 1
        else:
            placed = deduper.offer(record)
            if placed is None:
                continue  # an older copy of a record already staged
        ref = record.get(ref_field) if ref_field and isinstance(record, dict) else None
        yield placed[0], placed[1], ref[:128] if isinstance(ref, str) else None, text


# -- validate -----------------------------------------------------------------------------------
def _as_dicts(records: list) -> list[dict]:
    return [r for r in records if isinstance(r, dict)]


def validate(settings: Settings, period: Period, run_id: str | None = None) -> dict:
    """Judge every staged record by INDICATORS.md §5 with the GX suites of expectations/ (after
    applying the stewards' corrections); quarantine what breaks a blocking rule; write Data Docs
    for the run; raise quality.validation.BlockingFailuresExceeded above the threshold.

    ``run_id`` names the run whose evidence this is (the Airflow run's id); without it (a
    steward's ``parreport validate``) a new ``kiem-tra-tay__<time>`` id of its own."""
    from .quality.validation import BlockingFailuresExceeded, validate_partition

    run_id = run_id or story.adhoc_run_id(settings.storage, period.agency, period.window.key)
    with open_store(settings) as store:
        try:
            summary = validate_partition(store, agency=period.agency, window=period.window,
                                         data_dir=settings.storage, run_id=run_id,
                                         threshold=settings.blocking_threshold)
        except BlockingFailuresExceeded as exc:  # the story says why, before the run stops
            story.record(settings, period, run_id, "validate", "stopped", story.validation_detail(
                store, settings.storage, period.agency, period.window.key, run_id, total=exc.total,
                threshold=exc.threshold))
            exc._parreport_recorded = True
            raise
        story.record(settings, period, run_id, "validate", "ok", story.validation_detail(
            store, settings.storage, period.agency, period.window.key, run_id, total=summary.get("dossiers"),
            threshold=settings.blocking_threshold, summary=summary))
        return summary


# -- figures ------------------------------------------------------------------------------------
def _quality(store: st.Store, period: Period, bieu06: list[dict], portal_rows: list[dict]) -> dict:
    """ChatLuongDuLieu: the last validation's checks (every rule, its severity, result and
    count), the load checks (tong_so, duplicates) and the reconciliation with the portal."""
    from .figures import reconcile_bieu06
    from .quality.validation import quality_results

    agency, key = period.agency, period.window.key
    stats = store.load_stats(agency, key)
    saved = quality_results(store, agency, key)
    checks = list(saved.get("KiemTra", []))
    for dataset, label in (("dossiers", "hồ sơ"), ("ratings", "đánh giá"), ("procedures", "thủ tục")):
        s = stats.get(dataset) or {}
        short = max(0, (s.get("tong_so") or 0) - (s.get("delivered") or 0))
        extra = max(0, (s.get("delivered") or 0) - (s.get("tong_so") or 0)) if s.get("tong_so") is not None else 0
        checks.append({"Ten": f"Số bản ghi {label} nhận được khớp tong_so của cổng "
                              f"({s.get('delivered', 0)} / {s.get('tong_so')})",
                       "MucDo": "CANH_BAO", "KetQua": "KHONG_DAT" if short or extra else "DAT", "SoLoi": short + extra})
    dupes = (stats.get("dossiers") or {}).get("duplicates") or 0
    checks.append({"Ten": "Hồ sơ được giao trùng MaHoSo (giữ bản NgayCapNhat mới nhất)", "MucDo": "CANH_BAO",
                   "KetQua": "KHONG_DAT" if dupes else "DAT", "SoLoi": dupes})
    diffs = reconcile_bieu06(bieu06, portal_rows)
    checks.append({"Ten": "Đối soát Biểu 06 với số liệu của Cổng DVC (số ô khác nhau)", "MucDo": "CANH_BAO",
                   "KetQua": "KHONG_DAT" if diffs else "DAT", "SoLoi": len(diffs)})
    return {"SoBanGhi": saved.get("SoBanGhi", (stats.get("dossiers") or {}).get("staged", 0)),
            "SoBanGhiLoai": saved.get("SoBanGhiLoai", 0), "SoBanGhiDaSua": saved.get("SoBanGhiDaSua", 0),
            "DoiSoatCongDVC": diffs, "KiemTra": checks}


def compute(settings: Settings, period: Period, run_id: str) -> dict:
    """Biểu 06 and every indicator from the accepted records; nothing is stored unless the identities hold."""
    from .figures import check_identities, ratings_from_json
    from .figures.quarter import compute_quarter_from_texts
    from .report.payload import json_safe
    from .targets import targets_for_year

    agency, key, window = period.agency, period.window.key, period.window
    with open_store(settings) as store:
        units = _as_dicts(store.records(st.units, agency, key))
        procedures = _as_dicts(store.records(st.procedures, agency, key))
        # One pass over the window, streamed from the store: each accepted record's JSON text is
        # decoded into the few fields the figures read (figures.records), never into a dict; the
        # dossiers are counted in parts, on every core (figures.quarter).
        if not any(True for _ in store.rows(st.validation_results, agency, key, columns=("run_id",))):
            raise RuntimeError(f"Dữ liệu {window.label} của đơn vị {agency} chưa được kiểm tra: chạy validate_records "
                               "trước khi tính số liệu")
        dossier_texts = store.record_texts(st.dossiers, agency, key, st.accepted(st.dossiers))
        ratings = ratings_from_json(store.record_texts(st.ratings, agency, key, st.accepted(st.ratings)))
        targets = targets_for_year(window.year, settings.targets or None)
        bieu06, indicators = compute_quarter_from_texts(dossier_texts, ratings, procedures, units, agency, window,
                                                        targets)
        problems = check_identities(bieu06)
        if problems:
            raise IdentityError("Biểu 06 vi phạm đẳng thức, không gửi báo cáo: " + "; ".join(problems))
        portal_rows = _as_dicts(store.records(st.portal_bieu06, agency, key))
        content = {"Bieu06": bieu06, "ChiTieu": indicators,
                   "ChatLuongDuLieu": _quality(store, period, bieu06, portal_rows)}
        content = json_safe(content)
        store.save_figures(agency, key, content, run_id)
    story.record(settings, period, run_id, "compute", "ok", story.figures_detail(content))
    total = bieu06[-1]
    log.info("Biểu 06 (TONG): tiếp nhận %d, đã giải quyết %d, đang giải quyết %d; %d chỉ tiêu",
             total["TiepNhan"]["Tong"], total["DaGiaiQuyet"]["Tong"], total["DangGiaiQuyet"]["Tong"], len(indicators))
    return {"rows": len(bieu06), "indicators": len(indicators), "TONG": total,
            "DoiSoatCongDVC": len(content["ChatLuongDuLieu"]["DoiSoatCongDVC"])}


# -- report -------------------------------------------------------------------------------------
def report_dir(settings: Settings, period: Period, version: int):
    return settings.storage / "reports" / period.agency / period.window.key / f"v{version}"


_REPORTED = ("Bieu06", "ChiTieu", "ChatLuongDuLieu")


def _history(store: st.Store, agency: str, window: Window) -> list[tuple[Window, dict]]:
    """The earlier quarters for the documents' trend: what was reported (the last accepted
    version), or, for a quarter never accepted, the figures this installation computed."""
    from .report.documents import history_windows

    history = []
    for earlier in history_windows(window):
        accepted = [v for v in store.report_versions(agency, earlier.year, earlier.quarter)
                    if v["status"] == "ACCEPTED"]
        content = ({k: accepted[-1]["body"][k] for k in _REPORTED} if accepted
                   else store.load_figures(agency, earlier.key))
        if content is not None:
            history.append((earlier, content))
    return history


def build_report(settings: Settings, period: Period, run_id: str) -> dict:
    """Build what the report says (the body without its version members and signature) and
    store it as the quarter's draft; the version is decided when it is submitted."""
    from .report.documents import build_attachments, document_sources  # matplotlib, reportlab, openpyxl: lazily
    from .report.payload import build_core, figures_sha

    agency, w = period.agency, period.window
    with open_store(settings) as store:
        content = store.load_figures(agency, w.key)
        if content is None:
            raise RuntimeError("chưa có số liệu cho kỳ này: chạy lại bước tính số liệu")
        units = _as_dicts(store.records(st.units, agency, w.key))
        name = next((u.get("TenDonVi") for u in units if u.get("MaDonVi") == agency), None) or agency
        unit_names = {u["MaDonVi"]: u.get("TenDonVi") for u in units if isinstance(u.get("MaDonVi"), str)}
        history = _history(store, agency, w)
        # The documents as version 1 shows them: what the report says, whatever version it becomes.
        attachments = build_attachments(content, agency=agency, agency_name=name, window=w,
                                        history=history, unit_names=unit_names)
        core = build_core(agency=agency, agency_name=name, window=w, content=content, attachments=attachments,
                          sources=document_sources(history, unit_names))
        sha = figures_sha(core)
        store.save_draft(agency, w.key, core, sha, run_id)
        accepted = [v for v in store.report_versions(agency, w.year, w.quarter) if v["status"] == "ACCEPTED"]
    last = accepted[-1] if accepted else None
    unchanged = last is not None and last["figures_sha"] == sha
    story.record(settings, period, run_id, "build", "ok",
                 {"unchanged": unchanged, "last_accepted_version": last["version"] if last else None})
    log.info("báo cáo %s: %s", w.label,
             f"nội dung giống phiên bản {last['version']} đã được tiếp nhận — sẽ không gửi gì mới" if unchanged
             else f"nội dung mới, sẽ gửi phiên bản {(last['version'] + 1) if last else 1}")
    return {"figures_sha": sha, "unchanged": unchanged, "last_accepted_version": last["version"] if last else None}


def _write_json(path: Path, obj: Any) -> None:
    write_json(path, obj, indent=2)


def submit(settings: Settings, intake: Endpoint, signing_pem: str, kid: str, period: Period, run_id: str) -> dict:
    """Send the quarter's draft as the next version, unless the last accepted version says the
    same; store the receipt.

    The intake's own listing is read first, so that a version sent by a run that died before
    storing its receipt is adopted (same SHA-256), never sent twice, and a version this
    installation never recorded stops the submission for an operator to look at.
    """
    from .intake import IntakeClient, idempotency_key
    from .report.documents import Revision, draft_attachments
    from .report.payload import finalize
    from .report.signing import content_sha256, sign_body  # joserfc and cryptography: this step only

    agency, w = period.agency, period.window
    with open_store(settings) as store:
        draft = store.load_draft(agency, w.key)
        if draft is None:
            raise RuntimeError("chưa có báo cáo để gửi: chạy lại bước lập báo cáo")
        with IntakeClient(intake, timeout=settings.http_timeout, max_attempts=settings.max_retries) as client:
            remote = {r.get("PhienBan"): r for r in client.versions(agency, w.year, w.quarter)}
            for row in store.report_versions(agency, w.year, w.quarter):
                if row["status"] == "SUBMITTED" and (remote.get(row["version"]) or {}).get("SHA256") == row["content_sha"]:
                    log.info("phiên bản %d đã được Sở Nội vụ tiếp nhận ở lần chạy trước: nhận lại biên nhận %s",
                             row["version"], remote[row["version"]].get("MaTiepNhan"))
                    _accept(store, settings, period, row, remote[row["version"]], run_id)
                    story.record(settings, period, run_id, "submit", "adopted", {
                        "version": row["version"], "MaTiepNhan": remote[row["version"]].get("MaTiepNhan")})
            versions = store.report_versions(agency, w.year, w.quarter)
            accepted = [v for v in versions if v["status"] == "ACCEPTED"]
            unknown = sorted(set(remote) - {v["version"] for v in accepted})
            if unknown:
                raise SubmissionConflict(
                    f"Sở Nội vụ đã có phiên bản {unknown} của {w.label} mà kho dữ liệu này không ghi nhận "
                    f"(biên nhận {[remote[v].get('MaTiepNhan') for v in unknown]}); cần người vận hành kiểm tra")
            last = accepted[-1] if accepted else None
            if last is not None and last["figures_sha"] == draft["figures_sha"]:
                log.info("nội dung giống phiên bản %d đã được tiếp nhận (biên nhận %s): không gửi gì",
                         last["version"], last["receipt"].get("MaTiepNhan"))
                story.record(settings, period, run_id, "submit", "unchanged", {
                    "version": last["version"], "MaTiepNhan": last["receipt"].get("MaTiepNhan")})
                return _receipt_summary(last["receipt"], report_dir(settings, period, last["version"]), sent=False)
            version = (last["version"] + 1) if last else 1
            pending = next((v for v in versions if v["version"] == version), None)
            if pending and pending["figures_sha"] == draft["figures_sha"] and pending["status"] == "SUBMITTED":
                body, key = pending["body"], pending["idempotency_key"]  # resend exactly: same content, same key
            else:
                core, reason = draft["core"], None
                if last:  # a later version: its documents say which version they replace, and why
                    reason = _change_reason(store, period, last, core, version)
                    revision = Revision(version, last["version"], (last["receipt"] or {}).get("MaTiepNhan"), reason)
                    core = {**core, "TepDinhKem": draft_attachments(core, w, revision)}
                body = sign_body(finalize(core, version=version, reason=reason,
                                          created_at=datetime.now(timezone.utc)), signing_pem, kid)
                key = idempotency_key(agency, w.year, w.quarter, version, content_sha256(body))
            csha = content_sha256(body)
            # Write-ahead: what is about to be sent is stored before it is sent.
            store.upsert_report(agency, w.year, w.quarter, version, window_key=w.key,
                                figures_sha=draft["figures_sha"], body=body, content_sha=csha,
                                idempotency_key=key, status="SUBMITTED", receipt=None, run_id=run_id,
                                submitted_at=st.utcnow())
            folder = report_dir(settings, period, version)
            _write_json(folder / "bao-cao.json", body)
            result = client.submit(body, key)
            log.info("đã gửi phiên bản %d (Idempotency-Key %s): HTTP %d%s", version, key, result.status,
                     ", trả lời lặp lại của lần gửi trước" if result.replayed else "")
            row = {"version": version, "body": body, "content_sha": csha}
            accepted_summary = _accept(store, settings, period, row, result.receipt, run_id, sent=True)
            story.record(settings, period, run_id, "submit", "sent", {
                "version": version, "MaTiepNhan": result.receipt.get("MaTiepNhan"),
                "TrangThai": result.receipt.get("TrangThai"), "LyDoDieuChinh": body.get("LyDoDieuChinh")})
            return accepted_summary


def _change_reason(store: st.Store, period: Period, last: dict, core: dict, version: int) -> str:
    """LyDoDieuChinh: the figures that changed since the last version, and the stewards'
    corrections recorded (or revoked) since it was sent."""
    from .quality.corrections import list_corrections
    from .quality.validation import quality_results
    from .report.changes import corrections_since, describe_changes
    from .report.payload import DOCUMENT_SOURCES

    agency, key = period.agency, period.window.key
    outcome = quality_results(store, agency, key).get("sua_doi") or {}
    corrections = corrections_since(list_corrections(store, agency, key),
                                    last.get("submitted_at") or last.get("created_at"),
                                    not_applied=[f[0] for f in outcome.get("failed") or []],
                                    not_found=outcome.get("not_found") or [])
    return describe_changes(last["body"], core, receipt=(last["receipt"] or {}).get("MaTiepNhan"), version=version,
                            corrections=corrections, unit_names=(core.get(DOCUMENT_SOURCES) or {}).get("TenDonVi"))


def _accept(store: st.Store, settings: Settings, period: Period, row: dict, receipt: dict, run_id: str,
            sent: bool = False) -> dict:
    from .report.documents import decode_attachment

    w = period.window
    if receipt.get("SHA256") and row.get("content_sha") and receipt["SHA256"] != row["content_sha"]:
        raise ApiError(200, "/api/v1/bao-cao", None,
                       "biên nhận có SHA256 khác nội dung đã ký: không ghi nhận, cần kiểm tra")
    store.upsert_report(period.agency, w.year, w.quarter, row["version"], status="ACCEPTED", receipt=receipt,
                        run_id=run_id)
    folder = report_dir(settings, period, row["version"])
    _write_json(folder / "bao-cao.json", row["body"])
    _write_json(folder / "bien-nhan.json", receipt)
    for attachment in row["body"].get("TepDinhKem") or []:
        (folder / Path(attachment["TenTep"]).name).write_bytes(decode_attachment(attachment))
    return _receipt_summary(receipt, folder, sent=sent)


def _receipt_summary(receipt: dict, folder: Path, sent: bool) -> dict:
    return {"sent": sent, "MaTiepNhan": receipt.get("MaTiepNhan"), "TrangThai": receipt.get("TrangThai"),
            "PhienBan": receipt.get("PhienBan"), "report_path": str(folder / "bao-cao.json"),
            "receipt_path": str(folder / "bien-nhan.json")}


def record_receipt(store: st.Store, settings: Settings, period: Period, receipt: dict) -> dict:
    """Store a receipt's later state (DA_DUYET or TRA_LAI, brought back by ``receipt_follow_up``):
    the version's row in the store and its ``bien-nhan.json``."""
    version = int(receipt["PhienBan"])
    w = period.window
    store.upsert_report(period.agency, w.year, w.quarter, version, receipt=receipt)
    folder = report_dir(settings, period, version)
    _write_json(folder / "bien-nhan.json", receipt)
    log.info("biên nhận %s: %s", receipt.get("MaTiepNhan"), receipt.get("TrangThai"))
    return _receipt_summary(receipt, folder, sent=False)
