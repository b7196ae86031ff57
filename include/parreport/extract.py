"""Extraction: pull each dataset from the portal, drop personal data, keep the raw pages.

Raw pages are kept per run under ``<data_dir>/raw/<agency>/<window>/<run>/<dataset>/``,
as received but for the personal-data fields (privacy.py), which are dropped before the page
is written. Re-running an extraction replaces that run's folder for the dataset, so a retried
task leaves exactly one copy.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from queue import Full, Queue

from .files import run_slug, write_bytes, write_json
from .periods import Window
from .portal import Page, PortalClient
from .privacy import strip_page, strip_raw_page
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
    for page in prefetched(_pages_for(client, dataset, agency, window)):
        if page.number == 1 and result.pages:
            # The listing restarted (an expired cursor): keep only the reading that completes, so
            # tong_so is checked against it and its pages are staged once.
            for old in target.glob("page-*.json"):
                old.unlink()
            result.pages = result.delivered = 0
            result.restarts += 1
            dropped.clear()
        texts = strip_raw_page(page.raw, dataset, dropped) if page.raw is not None else None
        if texts is None:
            records, plain = strip_page(page.data, dataset, dropped)
        result.pages += 1
        count = len(texts if texts is not None else records)
        result.delivered += count
        if page.number == 1:
            result.tong_so = page.tong_so
        header = {"endpoint": page.endpoint, "params": page.params, "page": page.number,
                  "tong_so": page.tong_so, "count": count}
        write_bytes(target / f"page-{page.number:05d}.json",
                    page_bytes(header, records, plain) if texts is None else page_text_bytes(header, texts))
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


def prefetched(pages: Iterable[Page], depth: int = 2) -> Iterator[Page]:
    """The pages of ``pages`` in order, read by a thread of their own up to ``depth`` pages
    ahead, so that the next page is on its way while this one is stripped and written. The
    reading (token, retries, an expired cursor's restart) stays in that one thread; an error
    there is raised here, at the page where it happened; stopping early stops the thread."""
    done, failed = object(), []
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.2)
                return True
            except Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            failed.append(exc)
        put(done)

    thread = threading.Thread(target=read, name="extract-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = queue.get()
            if item is done:
                if failed:
                    raise failed[0]
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=30)
        close = getattr(pages, "close", None)
        if close is not None and not thread.is_alive():
            close()


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


def page_text_bytes(header: dict, texts: list[bytes]) -> bytes:
    """:func:`page_bytes` of records given as their JSON texts (one line each)."""
    return _dumps(header)[:-1].encode("utf-8") + b',"data":[\n' + b",\n".join(texts) + b"\n]}\n"


# What staging reads of a record besides its text: its reference (kinds.KINDS ref_field) and
# the keys of de-duplication (quality/dedupe.py: MaHoSo, NgayCapNhat; MaTTHC, MaDonViThucHien).
STAGING_FIELDS = ("MaHoSo", "NgayCapNhat", "MaTTHC", "MaDonViThucHien", "MaDanhGia", "MaDonVi", "MaLinhVuc")


def read_record_texts(dataset_dir: str | Path, fields: tuple[str, ...] | None = None) -> Iterator[tuple[str, object]]:
    """``(JSON text, record)`` of every record of a kept raw extract, in delivery order (page
    after page), one page in memory at a time. A page in another layout is read whole.

    ``fields``: a record that is an object is decoded into a dict of only those fields (the
    ones present), which costs a fraction of decoding it all (staging needs only its keys);
    anything else is decoded whole."""
    decode = _loads if fields is None else _partial_decoder(fields)
    for path in sorted(as_path(dataset_dir).glob("page-*.json"), key=lambda p: p.name):
        with path.open("rb") as f:
            text = f.read().decode("utf-8")
        lines = text.split("\n")
        if len(lines) >= 3 and lines[0].endswith('"data":[') and lines[-2] == "]}":
            for line in lines[1:-2]:
                if line:
                    line = line[:-1] if line.endswith(",") else line
                    yield line, decode(line)
        else:
            for record in json.loads(text)["data"]:
                line = _dumps(record)
                yield line, record if fields is None else decode(line)


def _partial_decoder(fields: tuple[str, ...]):
    if _Decoder is None:  # pragma: no cover
        return _loads
    if fields not in _DECODERS:  # a TypedDict: msgspec builds the dict of those fields itself
        from typing import Any, TypedDict

        _DECODERS[fields] = _Decoder(TypedDict("_Keys", {name: Any for name in fields}, total=False))
    decoder = _DECODERS[fields]

    def decode(text: str):
        try:
            return decoder.decode(text)
        except ValueError:  # not an object, or NaN / Infinity: decoded whole
            return _loads(text)

    return decode


_DECODERS: dict[tuple[str, ...], object] = {}


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
    from msgspec.json import Decoder as _Decoder, decode as _decode, encode as _encode
except ImportError:  # pragma: no cover
    _decode, _encode, _Decoder = json.loads, None, None
