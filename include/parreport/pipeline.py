"""The pipeline's steps as plain functions: each is what one Airflow task does.

Each step reads its inputs from the store (or the run's raw extract), writes its output keyed
by agency × window, and returns a small JSON-able summary for XCom and the operator. Any step
can be retried or cleared alone and gives the same result.
"""
from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import store as st
from .config import Settings
from .extract import DATASETS, ExtractResult, extract_dataset, raw_root, read_records
from .figures import check_identities, compute_bieu06, compute_indicators, reconcile_bieu06
from .http import ApiError, Endpoint
from .intake import IntakeClient, idempotency_key
from .periods import Window, last_closed_window, window_for
from .portal import PortalClient
from .quality.dedupe import dedupe, dedupe_procedures
from .quality.rules import (
    RULE_TITLES,
    RuleContext,
    Violation,
    check_dossier,
    check_dossier_warnings,
    check_rating,
)
from .report.payload import build_core, describe_changes, figures_sha, finalize, json_safe
from .report.signing import content_sha256, sign_body
from .targets import targets_for_year
from .timeutil import VN_TZ, now_local

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
                   interval_end: datetime | None = None) -> Period:
    """The quarter from the params; without them, the one a scheduled run's data interval ends
    in, or the last closed window."""
    agency = (agency or "").strip() or settings.agency
    if year is not None and quarter is not None:
        return Period(agency, window_for(int(year), int(quarter), settings.window_rule))
    if (year is None) != (quarter is None):
        raise ValueError("cần cả 'year' và 'quarter', hoặc bỏ trống cả hai")
    if interval_end is not None:
        local = interval_end.astimezone(VN_TZ).replace(tzinfo=None)
        return Period(agency, last_closed_window(local, settings.window_rule))
    return Period(agency, last_closed_window(now_local(), settings.window_rule))


def open_store(settings: Settings) -> st.Store:
    return st.Store(settings.store_url)


# -- extract ------------------------------------------------------------------------------------
def extract(settings: Settings, portal: Endpoint, period: Period, run_id: str, dataset: str) -> dict:
    root = raw_root(settings.data_path, period.agency, period.window, run_id)
    with PortalClient(portal, page_size=settings.page_size, timeout=settings.http_timeout,
                      max_attempts=settings.max_retries) as client:
        result = extract_dataset(client, dataset, period.agency, period.window, root)
        summary = result.as_dict()
        summary["http"] = dict(client.stats)
    return summary


# -- load ---------------------------------------------------------------------------------------
_TABLES = {"units": st.units, "procedures": st.procedures, "dossiers": st.dossiers,
           "ratings": st.ratings, "bieu06": st.portal_bieu06}


def load(settings: Settings, period: Period, extracts: dict[str, dict], run_id: str) -> dict:
    """Stage every extracted dataset into its (agency × window) partition, replacing it."""
    store = open_store(settings)
    summary = {}
    try:
        for dataset in DATASETS:
            result = ExtractResult(**{k: v for k, v in extracts[dataset].items() if k != "http"})
            records = list(read_records(result.raw_dir))
            duplicates = 0
            if dataset in ("dossiers", "procedures"):
                deduped = dedupe(records) if dataset == "dossiers" else dedupe_procedures(records)
                records, duplicates = deduped.records, deduped.duplicates
            rows = [_row(dataset, i, r) for i, r in enumerate(records)]
            n = store.replace_partition(_TABLES[dataset], period.agency, period.window.key, rows)
            store.record_load(period.agency, period.window.key, dataset, run_id=run_id, raw_dir=result.raw_dir,
                              tong_so=result.tong_so, delivered=result.delivered, staged=n, duplicates=duplicates)
            summary[dataset] = {"delivered": result.delivered, "staged": n, "duplicates": duplicates}
            log.info("nạp %s: nhận %d, lưu %d, trùng lặp bỏ %d", dataset, result.delivered, n, duplicates)
    finally:
        store.dispose()
    return summary


def _row(dataset: str, seq: int, record: Any) -> dict:
    row: dict[str, Any] = {"seq": seq, "record": record}
    rec = record if isinstance(record, dict) else {}

    def text(name: str) -> str | None:
        v = rec.get(name)
        return v[:128] if isinstance(v, str) else None

    if dataset == "units":
        row["ma_don_vi"] = text("MaDonVi")
    elif dataset == "procedures":
        row["ma_tthc"] = text("MaTTHC")
    elif dataset == "dossiers":
        row["ma_ho_so"] = text("MaHoSo")
    elif dataset == "ratings":
        row["ma_danh_gia"] = text("MaDanhGia")
    return row


# -- validate -----------------------------------------------------------------------------------
def _units_below(units: list[dict], root: str) -> set[str]:
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


def _as_dicts(records: list) -> list[dict]:
    return [r for r in records if isinstance(r, dict)]


def validate(settings: Settings, period: Period) -> dict:
    """Judge every staged record by INDICATORS.md §5; quarantine what breaks a blocking rule."""
    store = open_store(settings)
    agency, key = period.agency, period.window.key
    try:
        units = _as_dicts(store.records(st.units, agency, key))
        procedures = _as_dicts(store.records(st.procedures, agency, key))
        ctx = RuleContext(procedure_codes={p["MaTTHC"] for p in procedures if isinstance(p.get("MaTTHC"), str)},
                          agency_units=_units_below(units, agency))
        quarantined, q_rows, by_rule, rating_rules, warnings = [], [], Counter(), Counter(), Counter()
        dossier_rows = list(store.rows(st.dossiers, agency, key))
        for row in dossier_rows:
            rec = row["record"]
            violations = (check_dossier(rec, ctx) if isinstance(rec, dict)
                          else [Violation("bad_type", "", "bản ghi không phải đối tượng JSON")])
            if violations:
                quarantined.append(row["seq"])
                by_rule.update({v.rule for v in violations})
                q_rows.append({"kind": "dossier", "seq": row["seq"], "ref": row["ma_ho_so"],
                               "violations": [asdict(v) for v in violations], "created_at": st.utcnow()})
            else:
                warnings.update(v.rule for v in check_dossier_warnings(rec))
        rating_bad = []
        for row in store.rows(st.ratings, agency, key):
            rec = row["record"]
            violations = (check_rating(rec, ctx) if isinstance(rec, dict)
                          else [Violation("bad_type", "", "bản ghi không phải đối tượng JSON")])
            if violations:
                rating_bad.append(row["seq"])
                rating_rules.update({v.rule for v in violations})
                q_rows.append({"kind": "rating", "seq": row["seq"], "ref": row["ma_danh_gia"],
                                       "violations": [asdict(v) for v in violations], "created_at": st.utcnow()})
        store.replace_partition(st.quarantine, agency, key, q_rows)
        store.set_accepted(st.dossiers, agency, key, set(quarantined))
        store.set_accepted(st.ratings, agency, key, set(rating_bad))
    finally:
        store.dispose()
    summary = {"dossiers": len(dossier_rows), "accepted": len(dossier_rows) - len(quarantined),
               "quarantined": len(quarantined), "by_rule": dict(sorted(by_rule.items())),
               "ratings_rejected": len(rating_bad), "rating_rules": dict(sorted(rating_rules.items())),
               "warnings": dict(sorted(warnings.items()))}
    log.info("kiểm tra: %d hồ sơ, %d cách ly (%s); %d đánh giá bị loại", summary["dossiers"],
             summary["quarantined"], ", ".join(f"{RULE_TITLES.get(k, k)}: {v}" for k, v in by_rule.items()) or "không",
             len(rating_bad))
    return summary


# -- figures ------------------------------------------------------------------------------------
def _quality(store: st.Store, period: Period, bieu06: list[dict], portal_rows: list[dict]) -> dict:
    agency, key = period.agency, period.window.key
    stats = store.load_stats(agency, key)
    q_rows = list(store.rows(st.quarantine, agency, key))
    dossier_rules: Counter = Counter()
    rating_rules: Counter = Counter()
    for r in q_rows:
        target = dossier_rules if r["kind"] == "dossier" else rating_rules
        target.update({v["rule"] for v in r["violations"]})
    n_dossier_q = sum(1 for r in q_rows if r["kind"] == "dossier")
    accepted = [r for r in store.rows(st.dossiers, agency, key, st.dossiers.c.accepted.is_(True))]
    warn = Counter(v.rule for r in accepted for v in check_dossier_warnings(r["record"]))
    checks = []
    for rule in RULE_TITLES:
        if rule == "due_before_receipt":
            continue
        checks.append({"Ten": f"Hồ sơ: {RULE_TITLES[rule]}", "MucDo": "CHAN",
                       "KetQua": "KHONG_DAT" if dossier_rules[rule] else "DAT", "SoLoi": dossier_rules[rule]})
    for rule in sorted(rating_rules):
        checks.append({"Ten": f"Đánh giá: {RULE_TITLES.get(rule, rule)}", "MucDo": "CHAN",
                       "KetQua": "KHONG_DAT", "SoLoi": rating_rules[rule]})
    checks.append({"Ten": f"Hồ sơ: {RULE_TITLES.get('due_before_receipt', 'Ngày hẹn trả trước ngày tiếp nhận')}",
                   "MucDo": "CANH_BAO", "KetQua": "KHONG_DAT" if warn["due_before_receipt"] else "DAT",
                   "SoLoi": warn["due_before_receipt"]})
    for dataset, label in (("dossiers", "hồ sơ"), ("ratings", "đánh giá"), ("procedures", "thủ tục")):
        s = stats.get(dataset) or {}
        short = max(0, (s.get("tong_so") or 0) - (s.get("delivered") or 0))
        extra = max(0, (s.get("delivered") or 0) - (s.get("tong_so") or 0)) if s.get("tong_so") is not None else 0
        checks.append({"Ten": f"Số bản ghi {label} nhận được khớp tong_so của cổng", "MucDo": "CANH_BAO",
                       "KetQua": "KHONG_DAT" if short or extra else "DAT", "SoLoi": short + extra})
    dupes = (stats.get("dossiers") or {}).get("duplicates") or 0
    checks.append({"Ten": "Hồ sơ được giao trùng MaHoSo (giữ bản NgayCapNhat mới nhất)", "MucDo": "CANH_BAO",
                   "KetQua": "KHONG_DAT" if dupes else "DAT", "SoLoi": dupes})
    diffs = reconcile_bieu06(bieu06, portal_rows)
    checks.append({"Ten": "Đối soát Biểu 06 với số liệu của Cổng DVC", "MucDo": "CANH_BAO",
                   "KetQua": "KHONG_DAT" if diffs else "DAT", "SoLoi": len(diffs)})
    return {"SoBanGhi": (stats.get("dossiers") or {}).get("staged", 0), "SoBanGhiLoai": n_dossier_q,
            "SoBanGhiDaSua": 0, "DoiSoatCongDVC": diffs, "KiemTra": checks}


def compute(settings: Settings, period: Period, run_id: str) -> dict:
    """Biểu 06 and every indicator from the accepted records; the identities are checked first."""
    store = open_store(settings)
    agency, key, window = period.agency, period.window.key, period.window
    try:
        units = _as_dicts(store.records(st.units, agency, key))
        procedures = _as_dicts(store.records(st.procedures, agency, key))
        dossiers = store.records(st.dossiers, agency, key, st.dossiers.c.accepted.is_(True))
        ratings = store.records(st.ratings, agency, key, st.ratings.c.accepted.is_(True))
        portal_rows = _as_dicts(store.records(st.portal_bieu06, agency, key))
        bieu06 = compute_bieu06(dossiers, procedures, window)
        problems = check_identities(bieu06)
        if problems:
            raise IdentityError("Biểu 06 vi phạm đẳng thức, không gửi báo cáo: " + "; ".join(problems))
        targets = targets_for_year(window.year, settings.targets or None)
        indicators = compute_indicators(dossiers, ratings, procedures, units, agency, window, targets)
        content = {"Bieu06": bieu06, "ChiTieu": indicators,
                   "ChatLuongDuLieu": _quality(store, period, bieu06, portal_rows)}
        content = json_safe(content)
        store.save_figures(agency, key, content, run_id)
    finally:
        store.dispose()
    total = bieu06[-1]
    log.info("Biểu 06 (TONG): tiếp nhận %d, đã giải quyết %d, đang giải quyết %d; %d chỉ tiêu",
             total["TiepNhan"]["Tong"], total["DaGiaiQuyet"]["Tong"], total["DangGiaiQuyet"]["Tong"], len(indicators))
    return {"rows": len(bieu06), "indicators": len(indicators), "TONG": total,
            "DoiSoatCongDVC": len(content["ChatLuongDuLieu"]["DoiSoatCongDVC"])}


# -- report -------------------------------------------------------------------------------------
def report_dir(settings: Settings, period: Period, version: int) -> Path:
    return settings.data_path / "reports" / period.agency / period.window.key / f"v{version}"


def build_report(settings: Settings, period: Period, run_id: str) -> dict:
    """Build what the report says (the body without its version members and signature) and
    store it as the quarter's draft; the version is decided when it is submitted."""
    store = open_store(settings)
    agency, w = period.agency, period.window
    try:
        content = store.load_figures(agency, w.key)
        if content is None:
            raise RuntimeError("chưa có số liệu cho kỳ này: chạy lại bước tính số liệu")
        units = _as_dicts(store.records(st.units, agency, w.key))
        name = next((u.get("TenDonVi") for u in units if u.get("MaDonVi") == agency), None) or agency
        core = build_core(agency=agency, agency_name=name, window=w, content=content)
        sha = figures_sha(core)
        store.save_draft(agency, w.key, core, sha, run_id)
        accepted = [v for v in store.report_versions(agency, w.year, w.quarter) if v["status"] == "ACCEPTED"]
    finally:
        store.dispose()
    last = accepted[-1] if accepted else None
    unchanged = last is not None and last["figures_sha"] == sha
    log.info("báo cáo %s: %s", w.label,
             f"nội dung giống phiên bản {last['version']} đã được tiếp nhận — sẽ không gửi gì mới" if unchanged
             else f"nội dung mới, sẽ gửi phiên bản {(last['version'] + 1) if last else 1}")
    return {"figures_sha": sha, "unchanged": unchanged, "last_accepted_version": last["version"] if last else None}


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)


def submit(settings: Settings, intake: Endpoint, signing_pem: str, kid: str, period: Period, run_id: str) -> dict:
    """Send the quarter's draft as the next version, unless the last accepted version says the
    same; store the receipt.

    The intake's own listing is read first, so that a version sent by a run that died before
    storing its receipt is adopted (same SHA-256), never sent twice, and a version this
    installation never recorded stops the submission for an operator to look at.
    """
    store = open_store(settings)
    agency, w = period.agency, period.window
    try:
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
                return _receipt_summary(last["receipt"], report_dir(settings, period, last["version"]), sent=False)
            version = (last["version"] + 1) if last else 1
            pending = next((v for v in versions if v["version"] == version), None)
            if pending and pending["figures_sha"] == draft["figures_sha"] and pending["status"] == "SUBMITTED":
                body, key = pending["body"], pending["idempotency_key"]  # resend exactly: same content, same key
            else:
                reason = describe_changes(last["body"], draft["core"]) if last else None
                body = sign_body(finalize(draft["core"], version=version, reason=reason,
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
            return _accept(store, settings, period, row, result.receipt, run_id, sent=True)
    finally:
        store.dispose()


def _accept(store: st.Store, settings: Settings, period: Period, row: dict, receipt: dict, run_id: str,
            sent: bool = False) -> dict:
    w = period.window
    if receipt.get("SHA256") and row.get("content_sha") and receipt["SHA256"] != row["content_sha"]:
        raise ApiError(200, "/api/v1/bao-cao", None,
                       "biên nhận có SHA256 khác nội dung đã ký: không ghi nhận, cần kiểm tra")
    store.upsert_report(period.agency, w.year, w.quarter, row["version"], status="ACCEPTED", receipt=receipt,
                        run_id=run_id)
    folder = report_dir(settings, period, row["version"])
    _write_json(folder / "bao-cao.json", row["body"])
    _write_json(folder / "bien-nhan.json", receipt)
    return _receipt_summary(receipt, folder, sent=sent)


def _receipt_summary(receipt: dict, folder: Path, sent: bool) -> dict:
    return {"sent": sent, "MaTiepNhan": receipt.get("MaTiepNhan"), "TrangThai": receipt.get("TrangThai"),
            "PhienBan": receipt.get("PhienBan"), "report_path": str(folder / "bao-cao.json"),
            "receipt_path": str(folder / "bien-nhan.json")}
