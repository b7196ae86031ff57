"""Extraction: pull each dataset from the portal, drop personal data, keep the raw pages.

Raw pages are kept per run under ``<data_dir>/raw/<agency>/<window>/<run>/<dataset>/``,
as received but for the personal-data fields (privacy.py), which are dropped before the page
is written. Re-running an extraction replaces that run's folder for the dataset, so a retried
task leaves exactly one copy.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .files import run_slug, write_bytes, write_json
from .periods import Window
from .portal import Page, PortalClient
from .privacy import strip_page
from .storage import as_path, remove_tree

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


def raw_root(data_dir, agency: str, window: Window, run_id: str):
    """The run's raw pages under the artefacts' root (a folder or an object store: storage.py)."""
    return as_path(data_dir) / "raw" / agency / window.key / run_slug(run_id)


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
    target = as_path(root) / dataset
    if target.exists():
        remove_tree(target)
    target.mkdir(parents=True, exist_ok=True)
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
        records, plain = strip_page(page.data, dataset, dropped)
        result.pages += 1
        result.delivered += len(records)
        if page.number == 1:
            result.tong_so = page.tong_so
        write_bytes(target / f"page-{page.number:05d}.json", page_bytes({
            "endpoint": page.endpoint, "params": page.params, "page": page.number,
            "tong_so": page.tong_so, "count": len(records)}, records, plain))
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


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def page_bytes(header: dict, records: list, plain: bool = False) -> bytes:
    """A kept page: one JSON object (``header`` + ``"data"``) with each record on a line of its
    own, so that loading can stream a page's records and keep each one's text as it is.
    ``plain`` (only strings, integers, booleans and nulls, see privacy.strip_page): written by
    msgspec, several times faster; otherwise by the standard library, which keeps a float's
    ``repr`` and NaN / Infinity as received."""
    head = _dumps(header)[:-1].encode("utf-8")
    body = None
    if plain and _encode is not None:
        try:
            body = b",\n".join(_encode(r) for r in records)
        except (TypeError, ValueError):  # e.g. a lone surrogate: the standard library decides
            body = None
    if body is None:
        body = ",\n".join(_dumps(r) for r in records).encode("utf-8")
    return head + b',"data":[\n' + body + b"\n]}\n"


def read_record_texts(dataset_dir: str | Path) -> Iterator[tuple[str, object]]:
    """``(JSON text, record)`` of every record of a kept raw extract, in delivery order (page
    after page), one page in memory at a time. A page in another layout is read whole."""
    for path in sorted(as_path(dataset_dir).glob("page-*.json"), key=lambda p: p.name):
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        if len(lines) >= 3 and lines[0].endswith('"data":[') and lines[-2] == "]}":
            for line in lines[1:-2]:
                if line:
                    line = line[:-1] if line.endswith(",") else line
                    yield line, _loads(line)
        else:
            for record in json.loads(text)["data"]:
                yield _dumps(record), record


def _loads(text: str):
    try:
        return _decode(text)
    except ValueError:  # e.g. NaN / Infinity, which the standard library reads (and writes)
        return json.loads(text)


def read_records(dataset_dir: str | Path) -> Iterator[dict]:
    """The records of a kept raw extract, in delivery order (page after page)."""
    for _, record in read_record_texts(dataset_dir):
        yield record


try:  # msgspec comes with Airflow; it reads and writes JSON several times faster than the standard library
    from msgspec.json import decode as _decode, encode as _encode
except ImportError:  # pragma: no cover
    _decode, _encode = json.loads, None
