"""The Sở Nội vụ report intake of report-api.yaml.

Order of the checks on POST /api/v1/bao-cao (each refusal binds nothing):
fault (429/503) -> token (401) -> size (413) -> Idempotency-Key present and 1–255 visible ASCII
(400) -> JSON (400 when not JSON at all) -> agency of the client (403, when the body names
another MaDonViBaoCao) -> content (422: every schema error of BaoCaoQuy, LyDoDieuChinh when
PhienBan > 1, the attachments' base64/SHA256, the signature; all in one ``errors`` list) ->
key already bound (200 replay when the signed content is the same, else 422) -> identity
already accepted (200 replay with the stored receipt when same, else 409) -> version gap (409)
-> accepted (201).

Choices where the contract leaves room (the most literal reading is taken):

- Idempotency keys are global (not per client), kept 30 days (``key_ttl``).
- "The stored answer" of a replay is the receipt exactly as first returned (TrangThai
  DA_TIEP_NHAN); GET /api/v1/bao-cao/{MaTiepNhan} shows the current review state.
- A 200 replay through the identity rule does not bind the new key (only a 201 binds a key).
- The receipt moves from DA_TIEP_NHAN to DA_DUYET (or TRA_LAI with LyDoTraLai, by the
  ``return_policy`` switch) ``review_delay`` seconds after acceptance.
- GET /api/v1/bao-cao/{MaTiepNhan} of another agency's report answers 404 (the only error the
  contract lists there besides 401).
- Faults (429/503) apply to POST only (the contract lists 429/503 for POST only); a 2xx answer
  cut short (``rate_truncate``/``truncate``, a proxy's fault) to any API call, after the report
  was accepted — the answer is lost, the report is not.
- GET /api/v1/bao-cao without MaDonViBaoCao, Nam or Quy (1–4) answers 400 (not listed).
- Attachments are checked too: NoiDung must be base64 and SHA256 must match it (422).
- Inspection endpoints under /_sandbox/ are not in the contract.
- A province: each client reports for one agency, and a signing key may belong to one agency
  (``key_agencies``: kid -> MaDonVi); a report is verified only with its agency's keys and the
  keys bound to no agency, so one agency cannot sign for another. ``refused_agencies`` (a fault
  for tests) answers POST of those agencies' clients with 403 right after the token check.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import yaml
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from jsonschema import Draft202012Validator, FormatChecker

from ..report.signing import SignatureInvalid, content_sha256, verify_body
from ..timeutil import VN_TZ
from .common import (
    FaultInjector,
    FaultSettings,
    Problem,
    TokenIssuer,
    install_problem_handlers,
    install_token_route,
    install_truncation,
)

CONTRACTS = Path(__file__).with_name("contracts")
MAX_BODY = 20 * 1024 * 1024
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
RETURN_POLICIES = ("none", "all", "first")


@dataclass
class IntakeClient:
    secret: str
    agency: str


@dataclass
class IntakeSettings:
    clients: dict[str, IntakeClient]  # client_id -> secret and the agency it may report for
    public_keys: dict[str, str] = field(default_factory=dict)  # kid -> public key PEM
    token_ttl: int = 300
    faults: FaultSettings = field(default_factory=FaultSettings)
    review_delay: float = 5.0  # seconds from DA_TIEP_NHAN to DA_DUYET / TRA_LAI
    return_policy: str = "none"  # "none", "all" (every report is sent back) or "first" (PhienBan 1 only)
    state_file: str | None = None  # JSON file keeping accepted reports across restarts
    max_body: int = MAX_BODY
    key_ttl: float = 30 * 86_400
    seed: int = 0
    clock: Callable[[], float] = time.monotonic  # token expiry
    wall_clock: Callable[[], float] = time.time  # receipts, review delay, key retention
    key_agencies: dict[str, str] = field(default_factory=dict)  # kid -> the only agency it signs for
    refused_agencies: set[str] = field(default_factory=set)  # fault: POST from these agencies -> 403

    def keys_of(self, agency: str) -> dict[str, str]:
        """The public keys that may sign a report of ``agency``: its own and the unbound ones."""
        return {kid: pem for kid, pem in self.public_keys.items() if self.key_agencies.get(kid, agency) == agency}

    @staticmethod
    def clients_from(mapping: dict) -> dict[str, IntakeClient]:
        """``{"id": {"secret": "...", "agency": "000.00.20.H57"}}`` -> IntakeClient objects."""
        return {cid: v if isinstance(v, IntakeClient) else IntakeClient(v["secret"], v["agency"])
                for cid, v in mapping.items()}


# ------------------------------------------------------------------------------------ validation
def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date")
    def _is_date(value) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE.match(value):
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True

    @checker.checks("date-time")
    def _is_date_time(value) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        try:
            datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        except ValueError:
            return False
        return True

    return checker


def load_report_schema() -> dict:
    """The BaoCaoQuy schema of the vendored report-api.yaml, with its components for $ref."""
    doc = yaml.safe_load((CONTRACTS / "report-api.yaml").read_text(encoding="utf-8"))
    return {"$ref": "#/components/schemas/BaoCaoQuy", "components": doc["components"]}


def json_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "$"


class ReportValidator:
    def __init__(self):
        self.validator = Draft202012Validator(load_report_schema(), format_checker=_format_checker())

    def errors(self, body: Any, public_keys: dict[str, str]) -> list[dict]:
        errors: list[dict] = []
        for err in self.validator.iter_errors(body):
            path = list(err.absolute_path)
            if err.validator == "required":
                missing = [name for name in err.validator_value if isinstance(err.instance, dict) and name not in err.instance]
                errors += [{"field": json_path(path + [m]), "message": f"thiếu trường bắt buộc {m!r}"} for m in missing]
            elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
                allowed = set(err.schema.get("properties", {}))
                errors += [{"field": json_path(path + [x]), "message": f"trường không được phép {x!r}"}
                           for x in err.instance if x not in allowed]
            else:
                errors.append({"field": json_path(path), "message": err.message})
        if isinstance(body, dict):
            version, reason = body.get("PhienBan"), body.get("LyDoDieuChinh")
            if isinstance(version, int) and not isinstance(version, bool) and version > 1 and (
                    not isinstance(reason, str) or not reason.strip()):
                errors.append({"field": "LyDoDieuChinh", "message": "bắt buộc và khác rỗng khi PhienBan > 1"})
            files = body.get("TepDinhKem")
            for i, f in enumerate(files if isinstance(files, list) else []):
                if not isinstance(f, dict) or not isinstance(f.get("NoiDung"), str):
                    continue
                try:
                    raw = base64.b64decode(f["NoiDung"], validate=True)
                except (binascii.Error, ValueError):
                    errors.append({"field": f"TepDinhKem[{i}].NoiDung", "message": "không phải base64"})
                    continue
                if isinstance(f.get("SHA256"), str) and f["SHA256"].lower() != hashlib.sha256(raw).hexdigest():
                    errors.append({"field": f"TepDinhKem[{i}].SHA256", "message": "không khớp SHA-256 của nội dung"})
            try:
                verify_body(body, public_keys)
            except SignatureInvalid as exc:
                errors.append({"field": "ChuKy", "message": str(exc)})
            except Exception as exc:  # an unserialisable body (e.g. a float NaN) cannot be canonicalised
                errors.append({"field": "ChuKy", "message": f"không kiểm tra được chữ ký: {exc.__class__.__name__}"})
        errors.sort(key=lambda e: e["field"])
        return errors


# ------------------------------------------------------------------------------------ state
class IntakeState:
    """Accepted reports, key bindings and a log of POST attempts; optionally kept in a JSON file."""

    def __init__(self, path: str | None):
        self.path = Path(path) if path else None
        self.reports: list[dict] = []  # {"receipt", "body", "sha256", "key", "accepted_at"}
        self.keys: dict[str, dict] = {}  # key -> {"receipt_id", "sha256", "bound_at"}
        self.requests: list[dict] = []
        self.seq = 0
        if self.path and self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.reports, self.keys, self.seq = data["reports"], data["keys"], data["seq"]

    def save(self) -> None:
        if not self.path:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".intake-state-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"reports": self.reports, "keys": self.keys, "seq": self.seq}, fh, ensure_ascii=False)
        os.replace(tmp, self.path)

    def by_receipt(self, receipt_id: str) -> dict | None:
        return next((r for r in self.reports if r["receipt"]["MaTiepNhan"] == receipt_id), None)

    def by_identity(self, agency: str, year: int, quarter: int) -> list[dict]:
        return [r for r in self.reports if (r["receipt"]["MaDonViBaoCao"], r["receipt"]["Nam"], r["receipt"]["Quy"])
                == (agency, year, quarter)]


def create_intake_app(settings: IntakeSettings) -> FastAPI:
    if settings.return_policy not in RETURN_POLICIES:
        raise ValueError(f"return_policy must be one of {RETURN_POLICIES}")
    app = FastAPI(title="Sandbox — tiếp nhận báo cáo Sở Nội vụ (report-api.yaml)", docs_url=None, redoc_url=None,
                  openapi_url=None)
    install_problem_handlers(app)
    clients = IntakeSettings.clients_from(settings.clients)
    tokens = TokenIssuer({cid: c.secret for cid, c in clients.items()}, settings.token_ttl,
                         settings.faults.token_max_calls, settings.clock)
    faults = FaultInjector(settings.faults, settings.seed, "intake")
    validator = ReportValidator()
    state = IntakeState(settings.state_file)
    app.state.settings, app.state.state, app.state.faults = settings, state, faults
    install_truncation(app, faults)

    def current(report: dict) -> dict:
        """The receipt with its review state now."""
        receipt = dict(report["receipt"])
        if settings.wall_clock() - report["accepted_at"] >= settings.review_delay:
            policy = settings.return_policy
            if policy == "all" or (policy == "first" and receipt["PhienBan"] == 1):
                receipt["TrangThai"] = "TRA_LAI"
                receipt["LyDoTraLai"] = ("Số liệu Biểu 06 chưa khớp với hệ thống một cửa điện tử; "
                                         "đề nghị rà soát và gửi lại phiên bản điều chỉnh.")
            else:
                receipt["TrangThai"] = "DA_DUYET"
        return receipt

    def client_agency(request: Request) -> tuple[str, str]:
        client_id = tokens.authenticate(request.headers.get("authorization"))
        return client_id, clients[client_id].agency

    def replay(receipt: dict) -> JSONResponse:
        return JSONResponse(receipt, status_code=200, headers={"Idempotent-Replayed": "true"})

    install_token_route(app, tokens)

    @app.post("/api/v1/bao-cao")
    async def submit(request: Request):
        entry = {"n": len(state.requests) + 1, "at": datetime.now(VN_TZ).isoformat(timespec="seconds"),
                 "key": request.headers.get("idempotency-key"), "client_id": None, "status": None,
                 "MaDonViBaoCao": None, "Nam": None, "Quy": None, "PhienBan": None, "replayed": False}
        state.requests.append(entry)
        try:
            response = await _submit(request, entry)
        except Problem as exc:
            response = exc.response()
        entry["status"] = response.status_code
        return response

    async def _submit(request: Request, entry: dict) -> JSONResponse:
        faults.check()
        client_id, agency = client_agency(request)
        entry["client_id"] = client_id
        if agency in settings.refused_agencies:
            raise Problem(403, "Forbidden", f"Sở Nội vụ tạm dừng tiếp nhận báo cáo của đơn vị {agency} "
                                            "(lỗi giả lập của sandbox).", "agency-refused")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body:
            raise Problem(413, "Content Too Large", "Báo cáo vượt quá 20 MiB.", "too-large")
        key = request.headers.get("idempotency-key")
        if key is None or not _KEY.match(key):
            raise Problem(400, "Bad Request", "Thiếu hoặc sai header Idempotency-Key (1–255 ký tự ASCII hiển thị).",
                          "idempotency-key")
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > settings.max_body:
                raise Problem(413, "Content Too Large", "Báo cáo vượt quá 20 MiB.", "too-large")
        try:
            body = json.loads(bytes(raw).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Problem(400, "Bad Request", f"Nội dung không phải JSON hợp lệ: {exc}", "not-json")
        if isinstance(body, dict):
            ky = body.get("KyBaoCao") if isinstance(body.get("KyBaoCao"), dict) else {}
            entry.update(MaDonViBaoCao=body.get("MaDonViBaoCao"), Nam=ky.get("Nam"), Quy=ky.get("Quy"),
                         PhienBan=body.get("PhienBan"))
            if isinstance(body.get("MaDonViBaoCao"), str) and body["MaDonViBaoCao"] != agency:
                raise Problem(403, "Forbidden", f"Tài khoản này chỉ được gửi báo cáo của đơn vị {agency}.",
                              "wrong-agency")
        errors = validator.errors(body, settings.keys_of(agency))
        if errors:
            raise Problem(422, "Unprocessable Content", f"Báo cáo không hợp lệ: {len(errors)} lỗi.", "invalid-report",
                          errors=errors)
        sha = content_sha256(body)
        now = settings.wall_clock()
        bound = state.keys.get(key)
        if bound and now - bound["bound_at"] > settings.key_ttl:
            del state.keys[key]
            bound = None
        if bound:
            if bound["sha256"] != sha:
                raise Problem(422, "Unprocessable Content",
                              "Idempotency-Key này đã dùng cho một báo cáo có nội dung khác.", "idempotency-key-reused",
                              errors=[{"field": "Idempotency-Key", "message": "đã gắn với nội dung khác"}])
            entry["replayed"] = True
            return replay(state.by_receipt(bound["receipt_id"])["receipt"])
        year, quarter, version = body["KyBaoCao"]["Nam"], body["KyBaoCao"]["Quy"], body["PhienBan"]
        versions = state.by_identity(agency, year, quarter)
        same = next((r for r in versions if r["receipt"]["PhienBan"] == version), None)
        if same is not None:
            if same["sha256"] != sha:
                raise Problem(409, "Conflict", f"Phiên bản {version} của báo cáo này đã được tiếp nhận với nội dung "
                                               "khác; điều chỉnh phải gửi phiên bản mới kèm LyDoDieuChinh.",
                              "version-exists")
            entry["replayed"] = True
            return replay(same["receipt"])
        expected = len(versions) + 1
        if version != expected:
            raise Problem(409, "Conflict", f"Phiên bản phải là {expected} (các phiên bản liên tiếp, bắt đầu từ 1).",
                          "version-gap")
        state.seq += 1
        accepted = datetime.fromtimestamp(now, VN_TZ)
        receipt = {
            "MaTiepNhan": f"SNV-{accepted:%Y}-{state.seq:06d}",
            "ThoiDiemTiepNhan": accepted.isoformat(timespec="seconds"),
            "TrangThai": "DA_TIEP_NHAN",
            "LyDoTraLai": None,
            "MaDonViBaoCao": agency,
            "Nam": year,
            "Quy": quarter,
            "PhienBan": version,
            "SHA256": sha,
        }
        state.reports.append({"receipt": receipt, "body": body, "sha256": sha, "key": key, "accepted_at": now})
        state.keys[key] = {"receipt_id": receipt["MaTiepNhan"], "sha256": sha, "bound_at": now}
        state.save()
        return JSONResponse(receipt, status_code=201)

    @app.get("/api/v1/bao-cao")
    async def list_reports(request: Request):
        _client, agency = client_agency(request)
        params = request.query_params
        unit = params.get("MaDonViBaoCao")
        try:
            year, quarter = int(params.get("Nam", "")), int(params.get("Quy", ""))
        except ValueError:
            raise Problem(400, "Bad Request", "Cần MaDonViBaoCao, Nam và Quy (số nguyên).", "invalid-parameter")
        if not unit or not 1 <= quarter <= 4:
            raise Problem(400, "Bad Request", "Cần MaDonViBaoCao, Nam và Quy (1–4).", "invalid-parameter")
        if unit != agency:
            raise Problem(403, "Forbidden", f"Tài khoản này chỉ xem được báo cáo của đơn vị {agency}.", "wrong-agency")
        versions = sorted(state.by_identity(unit, year, quarter), key=lambda r: r["receipt"]["PhienBan"])
        return {"data": [current(r) for r in versions]}

    @app.get("/api/v1/bao-cao/{receipt_id}")
    async def get_report(receipt_id: str, request: Request):
        _client, agency = client_agency(request)
        report = state.by_receipt(receipt_id)
        if report is None or report["receipt"]["MaDonViBaoCao"] != agency:
            raise Problem(404, "Not Found", f"Không có biên nhận {receipt_id!r}.", "unknown-receipt")
        return current(report)

    # ---------------------------------------------------------------- inspection (not in the contract)
    @app.get("/_sandbox/accepted")
    async def sandbox_accepted():
        return {"data": [{"receipt": current(r), "body": r["body"], "idempotency_key": r["key"]} for r in state.reports]}

    @app.get("/_sandbox/requests")
    async def sandbox_requests():
        return {"data": state.requests}

    @app.get("/_sandbox/faults")
    async def sandbox_faults():
        return {"calls": faults.calls, "injected": [{"call": c, "status": s} for c, s in faults.injected],
                "answers": faults.answers, "truncated": faults.truncated}

    @app.get("/_sandbox/health")
    async def sandbox_health():
        return {"status": "ok", "accepted": len(state.reports)}

    return app
