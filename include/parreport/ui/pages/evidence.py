"""The evidence page (``/data-docs/.../``): the validation evidence of every run (its summary and
GX Data Docs), newest first."""
from __future__ import annotations

from datetime import datetime, timezone

from ... import fmt
from ... import store as st
from ...config import Settings
from ...storage import mtime
from ...files import run_slug
from ..paths import data_docs_root, subdirs
from ..urls import Urls
from .common import RunInfo, agency_view, unit_names, window_view
from .runs import run_label


def evidence_view(store: st.Store, settings: Settings, agency: str, key: str, urls: Urls,
                  run_info: RunInfo | None = None) -> dict:
    root = data_docs_root(settings, agency, key)
    folders = sorted((p for p in subdirs(root) if (p / "index.html").is_file() or (p / "tom-tat.html").is_file()),
                     key=mtime, reverse=True)
    events = store.run_events(agency, key)
    slugs = {run_slug(e["run_id"]): e["run_id"] for e in events}
    info = (run_info(sorted(set(slugs.values()))) if run_info and slugs else {}) or {}
    names = unit_names(store, agency, key)
    runs = []
    for p in folders:
        run_id = slugs.get(p.name)
        runs.append({"label": run_label(run_id, info.get(run_id)) if run_id else run_label(p.name),
                     "at": fmt.datetime_text(datetime.fromtimestamp(mtime(p), tz=timezone.utc)),
                     "summary": urls.evidence(agency, key, p.name) if (p / "tom-tat.html").is_file() else None,
                     "gx": urls.evidence(agency, key, p.name, "index.html") if (p / "index.html").is_file() else None,
                     "quarantine": urls.quarantine(agency, key, run_id) if run_id else None,
                     "run": urls.summary(agency, key, run_id) if run_id else None})
    return {"agency": agency_view(agency, names), "window": window_view(key, settings.deadline_day), "runs": runs,
            "summary_url": urls.summary(agency, key)}
