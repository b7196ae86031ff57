"""Deployment configuration, with documented embedded defaults.

Precedence (lowest first): embedded defaults → the JSON file named by ``PARREPORT_CONFIG`` →
individual ``PARREPORT_*`` environment variables. Credentials are never configuration: they
live only in the Airflow connections ``dvc_portal``, ``snv_report_api`` and
``report_signing_key``.

| key | env | default |
|---|---|---|
| agency | PARREPORT_AGENCY | 000.00.20.H57 (Sở LĐ-TB&XH tỉnh Thừa Thiên Huế) |
| agencies | PARREPORT_AGENCIES | (agency): comma-separated MaDonVi; a run without `agency` maps over all of them |
| window_rule | PARREPORT_WINDOW_RULE | nd09 (15th of the month before → 14th of the last month); or calendar |
| deadline_day | PARREPORT_DEADLINE_DAY | 20 (23:59:59 on the 20th of the quarter's last month) |
| data_dir | PARREPORT_DATA_DIR | $AIRFLOW_HOME/parreport |
| storage_url | PARREPORT_STORAGE_URL | (data_dir): where raw pages, evidence and reports live — a folder, or s3://[conn_id@]bucket/prefix (storage.py) |
| storage_conn_id | PARREPORT_STORAGE_CONN_ID | (none): the Airflow connection of a storage URL (e.g. an aws connection with endpoint_url) |
| store_url | PARREPORT_STORE_URL | sqlite:///<data_dir>/store.db (PostgreSQL: postgresql+psycopg2://…) |
| targets | (file only) | INDICATORS.md §4 defaults; {"2026": {"HS_TRUC_TUYEN": 60}, "default": {…}} |
| page_size | PARREPORT_PAGE_SIZE | 1000 (1–1000, the portal's limit) |
| http_timeout | PARREPORT_HTTP_TIMEOUT | 60 seconds |
| max_retries | PARREPORT_MAX_RETRIES | 8 attempts per request for transient failures |
| schedule_delay_hours | PARREPORT_SCHEDULE_DELAY_HOURS | 24: a scheduled run starts a day after its window closes |
| schedule_from | PARREPORT_SCHEDULE_FROM | (none): ISO instant; the schedule starts no quarter due before it (scripts/serve.sh sets it to an installation's first start) |
| alert_emails | PARREPORT_ALERT_EMAILS | (none): alert recipients, else the parreport_smtp connection's extra "to" |
| blocking_threshold | PARREPORT_BLOCKING_THRESHOLD | 0.01: the run stops before submission when more than this share of the window's dossiers is quarantined |
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_AGENCY = "000.00.20.H57"

CONN_PORTAL = "dvc_portal"
CONN_INTAKE = "snv_report_api"
CONN_SIGNING_KEY = "report_signing_key"
#: The report DAG (dags/quarterly_par_report.py); the UI, serve and demo address it by this id.
DAG_ID = "quarterly_par_report"


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")


@dataclass(frozen=True)
class Settings:
    agency: str = DEFAULT_AGENCY
    agencies: tuple[str, ...] = ()  # province-wide: every agency a run without `agency` reports (default: agency)
    window_rule: str = "nd09"
    deadline_day: int = 20
    data_dir: str = ""
    store_url: str = ""
    storage_url: str = ""  # artefacts shared by every worker (storage.py); empty = data_dir
    storage_conn_id: str = ""  # the Airflow connection of a storage URL
    targets: dict[str, Any] = field(default_factory=dict)
    page_size: int = 1000  # the contract's largest page: fewest round trips
    http_timeout: float = 60.0
    max_retries: int = 8
    schedule_delay_hours: float = 24.0  # a scheduled run starts this long after its window closes
    schedule_from: str = ""  # ISO instant: no scheduled run for a quarter due before it (a new installation)
    alert_emails: str = ""  # comma-separated; else the parreport_smtp connection's extra "to"
    blocking_threshold: float = 0.01  # stop before submission when quarantined > this × window's dossiers

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def storage(self):
        """The artefacts' root every worker and the API server share (storage.root): a Path
        for a local folder, an ObjectStoragePath for a URL such as ``s3://bucket/prefix``."""
        from .storage import root

        return root(self)


_ENV = {
    "agency": ("PARREPORT_AGENCY", str),
    "agencies": ("PARREPORT_AGENCIES", lambda v: tuple(a.strip() for a in v.split(",") if a.strip())),
    "window_rule": ("PARREPORT_WINDOW_RULE", str),
    "deadline_day": ("PARREPORT_DEADLINE_DAY", int),
    "data_dir": ("PARREPORT_DATA_DIR", str),
    "store_url": ("PARREPORT_STORE_URL", str),
    "storage_url": ("PARREPORT_STORAGE_URL", str),
    "storage_conn_id": ("PARREPORT_STORAGE_CONN_ID", str),
    "page_size": ("PARREPORT_PAGE_SIZE", int),
    "http_timeout": ("PARREPORT_HTTP_TIMEOUT", float),
    "max_retries": ("PARREPORT_MAX_RETRIES", int),
    "blocking_threshold": ("PARREPORT_BLOCKING_THRESHOLD", float),
    "schedule_delay_hours": ("PARREPORT_SCHEDULE_DELAY_HOURS", float),
    "schedule_from": ("PARREPORT_SCHEDULE_FROM", str),
    "alert_emails": ("PARREPORT_ALERT_EMAILS", str),
}


class ConfigError(ValueError):
    pass


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings from defaults, the optional PARREPORT_CONFIG JSON file and PARREPORT_* variables."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    path = env.get("PARREPORT_CONFIG")
    if path:
        try:
            loaded = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"không đọc được tệp cấu hình PARREPORT_CONFIG={path}: {exc}") from exc
        known = {f.name for f in fields(Settings)}
        unknown = set(loaded) - known
        if unknown:
            raise ConfigError(f"khóa cấu hình không biết trong {path}: {sorted(unknown)}")
        values.update(loaded)
    for key, (var, kind) in _ENV.items():
        if env.get(var):
            try:
                values[key] = kind(env[var])
            except ValueError as exc:
                raise ConfigError(f"{var}={env[var]!r} không hợp lệ") from exc
    settings = Settings(**values)
    data_dir = settings.data_dir or str(Path(env.get("AIRFLOW_HOME") or airflow_home()) / "parreport")
    store_url = settings.store_url or f"sqlite:///{Path(data_dir).resolve()}/store.db"
    settings = replace(settings, data_dir=data_dir, store_url=store_url,
                       agencies=tuple(settings.agencies) or (settings.agency,))
    if settings.window_rule not in ("nd09", "calendar"):
        raise ConfigError(f"window_rule phải là 'nd09' hoặc 'calendar', không phải {settings.window_rule!r}")
    if not 1 <= settings.page_size <= 1000:
        raise ConfigError("page_size phải trong khoảng 1–1000")
    if not 0 <= settings.blocking_threshold <= 1:
        raise ConfigError("blocking_threshold phải trong khoảng 0–1 (ví dụ 0.01 = 1 %)")
    if not 1 <= settings.deadline_day <= 28:
        raise ConfigError("deadline_day phải trong khoảng 1–28")
    return settings
