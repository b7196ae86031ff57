"""The steward's page of a run's quarantine (``/cach-ly/...``), filterable by rule and unit, and
the same rows for download (``quarantine_export``: CSV / XLSX, never cut)."""
from __future__ import annotations

import json
from collections import Counter

from ... import fmt
from ... import store as st
from ...config import Settings
from ...files import run_slug
from ...quality import rule_title
from ...quarantine import flat_rows, unit_label
from ...story import ADHOC_PREFIX, QUARANTINE_FILE, snapshot_quarantine
from ..paths import data_docs_root, safe_name
from ..urls import Urls
from .common import RunInfo, agency_view, steward_commands, unit_names, window_view
from .runs import run_label

PAGE_LIMIT = 1000  # records listed on the quarantine page; the downloads carry every one


def quarantine_items(store: st.Store, settings: Settings, agency: str, key: str,
                     run_id: str | None) -> tuple[list[dict], str]:
    """The run's quarantine (its evidence file), else the partition's current one; with where
    it came from, in words."""
    safe_name(agency), safe_name(key)
    if run_id:
        path = data_docs_root(settings, agency, key) / run_slug(run_id) / QUARANTINE_FILE
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                return list(data.get("items") or []), "run"
            except (OSError, ValueError):
                pass
    return snapshot_quarantine(store, agency, key), "current"


def quarantine_view(store: st.Store, settings: Settings, agency: str, key: str, run_id: str | None,
                    rule: str | None, unit: str | None, urls: Urls, run_info: RunInfo | None = None) -> dict:
    items, source = quarantine_items(store, settings, agency, key, run_id)
    names = unit_names(store, agency, key)
    rows = flat_rows(items, names, agency)
    rule_counts = Counter()
    unit_counts = Counter()
    for item in items:
        for r in {v["rule"] for v in item.get("violations") or []}:
            rule_counts[r] += 1
        unit_counts[item.get("direct_unit") or item.get("unit") or ""] += 1
    shown = [r for r in rows if (not rule or r["QuyTac"] == rule) and (not unit or r["_unit_code"] == unit)]
    records: dict[tuple, dict] = {}
    for r in shown:
        rec = records.setdefault((r["LoaiBanGhi"], r["STT"]), {"kind": r["LoaiBanGhi"], "ref": r["Ma"], "seq": r["STT"],
                                                               "unit": r["DonVi"], "rules": []})
        rec["rules"].append({"title": r["TenQuyTac"], "code": r["QuyTac"], "field": r["Truong"], "message": r["MoTa"]})
    window = window_view(key, settings.deadline_day)
    info = (run_info([run_id]) if run_info and run_id else {}) or {}
    filters = {"quy_tac": rule, "don_vi": unit}
    return {
        "agency": agency_view(agency, names), "window": window, "run_id": run_id,
        "run_label": run_label(run_id, info.get(run_id)) if run_id else None, "source": source,
        "records": list(records.values())[:PAGE_LIMIT], "shown": fmt.number(len(records)),
        "truncated": fmt.number(PAGE_LIMIT) if len(records) > PAGE_LIMIT else None,
        "total_dossiers": fmt.number(sum(1 for i in items if i.get("kind") == "dossier")),
        "total_ratings": fmt.number(sum(1 for i in items if i.get("kind") == "rating")),
        "rules": [{"code": r, "title": rule_title(r), "count": fmt.number(n), "selected": r == rule}
                  for r, n in rule_counts.most_common()],
        "units": [{"code": u, "title": _unit_title(u, names, agency), "count": fmt.number(n), "selected": u == unit}
                  for u, n in sorted(unit_counts.items(), key=lambda x: _unit_title(x[0], names, agency))],
        "rule": rule, "unit": unit,
        "csv_url": urls.quarantine_download(agency, key, "csv", run_id, **filters),
        "xlsx_url": urls.quarantine_download(agency, key, "xlsx", run_id, **filters),
        "clear_url": urls.quarantine(agency, key, run_id),
        "summary_url": urls.summary(agency, key, run_id), "grid_url": urls.grid(run_id) if run_id and not
        run_id.startswith(ADHOC_PREFIX) else None,
        "commands": steward_commands(agency, window),
    }


def _unit_title(code: str, names: dict[str, str], agency: str) -> str:
    return unit_label(code or None, names, agency)


def quarantine_export(store: st.Store, settings: Settings, agency: str, key: str, run_id: str | None,
                      rule: str | None, unit: str | None) -> tuple[list[dict], str]:
    items, _ = quarantine_items(store, settings, agency, key, run_id)
    names = unit_names(store, agency, key)
    rows = [r for r in flat_rows(items, names, agency)
            if (not rule or r["QuyTac"] == rule) and (not unit or r["_unit_code"] == unit)]
    w = window_view(key, settings.deadline_day)
    return rows, f"Cách ly {w['title']}, {agency}"
