"""Extraction: pull each dataset from the portal, drop personal data, keep the raw pages.

Raw pages are kept per run under ``<data_dir>/raw/<agency>/<window>/<run>/<dataset>/``,
as received but for the personal-data fields (privacy.py), which are dropped before the page
is written. Re-running an extraction replaces that run's folder for the dataset, so a retried
task leaves exactly one copy.
"""
from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .files import run_slug, write_json
from .kinds import DATASETS
from .periods import Window
from .portal import Page, PortalClient
from .privacy import strip_record

log = logging.getLogger(__name__)



class IncompleteExtract(RuntimeError):
    """Fewer records arrived than the listing's tong_so announced."""


@dataclass
class ExtractResult:
    dataset: str
    raw_dir: str
    pages: int = 0
    delivered: int = 0
    tong_so: int | None = None
    restarts: int = 0
    dropped_fields: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def raw_root(data_dir: Path, agency: str, window: Window, run_id: str) -> Path:
    return Path(data_dir) / "raw" / agency / window.key / run_slug(run_id)


def _pages_for(client: PortalClient, dataset: str, agency: str, window: Window) -> Iterable[Page]:
    if dataset == "units":
        return [client.units(agency)]
    if dataset == "procedures":
        return client.procedures(agency)
    if dataset == "dossiers":
        return client.dossiers(agency, window)
    if dataset == "ratings":
        return client.ratings(agency, window)
    if dataset == "bieu06":
        return [client.bieu06(agency, window)]
    raise ValueError(f"unknown dataset {dataset!r}")


def extract_dataset(client: PortalClient, dataset: str, agency: str, window: Window,
                    root: Path) -> ExtractResult:
    """Fetch one dataset to ``root/<dataset>/page-NNNNN.json`` and check it against tong_so."""
    target = Path(root) / dataset
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    result = ExtractResult(dataset, str(target))
    dropped: set[str] = set()
    for page in _pages_for(client, dataset, agency, window):
        if page.number == 1 and result.pages:
            # The listing restarted (an expired cursor): keep only the reading that completes, so
            # tong_so is checked against it and its pages are staged once.
            for old in target.glob("page-*.json"):
                old.unlink()
            result.pages = result.delivered = 0
            result.restarts += 1
            dropped.clear()
        records = [strip_record(r, dataset, dropped) for r in page.data]
        result.pages += 1
        result.delivered += len(records)
        if page.number == 1:
            result.tong_so = page.tong_so
        write_json(target / f"page-{page.number:05d}.json", {
            "endpoint": page.endpoint, "params": page.params, "page": page.number,
            "tong_so": page.tong_so, "count": len(records), "data": records,
        })
    result.dropped_fields = sorted(dropped)
    if result.tong_so is not None:
        if result.delivered < result.tong_so:
            raise IncompleteExtract(
                f"{dataset}: cổng báo tong_so={result.tong_so} nhưng chỉ nhận được {result.delivered} bản ghi "
                f"qua {result.pages} trang — dữ liệu thiếu, không tính tiếp")
        if result.delivered > result.tong_so:
            result.warnings.append(
                f"{dataset}: nhận {result.delivered} bản ghi, nhiều hơn tong_so={result.tong_so} "
                "(bản ghi thay đổi trong lúc phân trang được giao lại; sẽ khử trùng theo MaHoSo)")
    write_json(target / "_summary.json", result.as_dict())
    log.info("%s: %d bản ghi, %d trang, tong_so=%s; bỏ các trường dữ liệu cá nhân/không có trong hợp đồng: %s",
             dataset, result.delivered, result.pages, result.tong_so, ", ".join(result.dropped_fields) or "không có")
    return result


def read_records(dataset_dir: str | Path) -> Iterator[dict]:
    """The records of a kept raw extract, in delivery order (page after page)."""
    for path in sorted(Path(dataset_dir).glob("page-*.json")):
        page = json.loads(path.read_text(encoding="utf-8"))
        yield from page["data"]
