"""Where a run's artefacts live: one folder or bucket that every worker and the API server share.

Whatever one task leaves for another, and whatever the operator's pages read, is kept under
:func:`root`: the raw pages (``raw/``), the validation evidence (``data_docs/``: Data Docs,
``tom-tat.html``, ``cach-ly.json``) and the reports (``reports/``: signed body, documents,
receipt). Nothing else travels between tasks but the store and XCom.

| setting | variable | default |
|---|---|---|
| storage_url | PARREPORT_STORAGE_URL | the data directory (``$PARREPORT_DATA_DIR``), a local folder |
| storage_conn_id | PARREPORT_STORAGE_CONN_ID | none: the URL's own (``s3://<conn_id>@bucket/prefix``), else the provider's default credentials |

A local folder (a plain path or ``file://``) is a :class:`pathlib.Path`: files are written
atomically (temporary file + rename) and served as files. Any other URL (``s3://bucket/prefix``)
is an Airflow :class:`airflow.sdk.ObjectStoragePath` whose credentials come from the Airflow
connection ``storage_conn_id`` (for S3 and S3-compatible servers such as MinIO: an ``aws``
connection, its ``endpoint_url`` in the extra). Call sites use only what both kinds share
(``/``, ``open``, ``read_bytes``/``write_bytes``, ``exists``, ``is_file``/``is_dir``,
``iterdir``, ``glob``, ``mkdir``); the few operations that differ are here.

Libraries that need a local folder (Great Expectations' Data Docs) write into
:func:`scratch_dir`, which :func:`publish_dir` then copies to the storage.

``parreport storage check`` (run by ``scripts/airflow_init.sh``) creates the bucket
folder when missing and writes, reads and removes one object: a wrong URL or connection stops
the installation before a quarter runs.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:  # pragma: no cover
    from airflow.sdk import ObjectStoragePath

    from .config import Settings

__all__ = ["StoragePath", "root", "as_path", "is_local", "uri", "remove_tree", "relative_name", "mtime",
           "scratch_dir", "publish_dir", "discard_scratch", "check"]

StoragePath = Union[Path, "ObjectStoragePath"]


def _local(url: str) -> Path | None:
    if "://" not in url:
        return Path(url)
    if url.startswith("file://"):
        return Path(url.removeprefix("file://"))
    return None


def as_path(location: Any, conn_id: str | None = None) -> StoragePath:
    """A path object for ``location``: a Path, an ObjectStoragePath, or a string one of them
    printed (``/srv/parreport/raw/…`` or ``s3://conn@bucket/…``, as kept in XCom and the store)."""
    if isinstance(location, Path) or not isinstance(location, str) and hasattr(location, "protocol"):
        return location
    text = str(location)
    local = _local(text)
    if local is not None:
        return local
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(text, conn_id=conn_id or None)


def root(settings: "Settings") -> StoragePath:
    """The artefacts' root: ``storage_url`` (with ``storage_conn_id``), else the data directory."""
    return as_path(settings.storage_url or settings.data_dir, settings.storage_conn_id or None)


def is_local(path: Any) -> bool:
    return isinstance(path, Path)


def uri(path: StoragePath) -> str:
    """How a log line or a stored summary names ``path`` (``file://…`` locally)."""
    return path.resolve().as_uri() if is_local(path) else str(path)


def remove_tree(path: StoragePath) -> None:
    """Remove a folder and everything under it (nothing when it does not exist)."""
    if is_local(path):
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.rmdir(recursive=True)


def relative_name(path: StoragePath, base: StoragePath) -> str:
    """``path`` below ``base`` as ``a/b.html`` (an object store's relative path cannot be printed)."""
    return "/".join(path.relative_to(base).parts)


def mtime(path: StoragePath) -> float:
    """When ``path`` last changed (POSIX seconds). An object store's folder has no time of its own:
    its newest object's, from one listing."""
    if is_local(path) or not path.is_dir():
        return path.stat().st_mtime
    found = path.fs.find(path.path, detail=True)
    times = [info.get("LastModified") for info in found.values()]
    return max((t.timestamp() for t in times if t is not None), default=0.0)


def scratch_dir(dest: StoragePath | None) -> Path | None:
    """A local folder to build ``dest`` in: ``dest`` itself when it is local, else a new
    temporary folder (give it to :func:`publish_dir` when done)."""
    if dest is None or is_local(dest):
        return dest
    return Path(tempfile.mkdtemp(prefix="parreport-scratch-"))


def publish_dir(local: Path | None, dest: StoragePath | None) -> None:
    """Copy what was built in ``local`` (from :func:`scratch_dir`) to ``dest`` and remove it;
    nothing when ``dest`` is local (it was built in place)."""
    if local is None or dest is None or is_local(dest):
        return
    try:
        for file in sorted(p for p in local.rglob("*") if p.is_file()):
            target = dest.joinpath(*file.relative_to(local).parts)
            target.write_bytes(file.read_bytes())
    finally:
        shutil.rmtree(local, ignore_errors=True)


def discard_scratch(local: Path | None, dest: StoragePath | None) -> None:
    """Remove a :func:`scratch_dir` that will not be published (the work failed); nothing when
    ``dest`` is local (it was built in place, and a retry replaces it)."""
    if local is not None and dest is not None and not is_local(dest):
        shutil.rmtree(local, ignore_errors=True)


def check(settings: "Settings") -> str:
    """Create the root when missing (a bucket included), then write, read and remove one
    object: the storage answers with the configured connection. Returns the root's name."""
    base = root(settings)
    base.mkdir(parents=True, exist_ok=True)
    probe = base / ".parreport-storage-check"
    probe.write_bytes(b"ok")
    if probe.read_bytes() != b"ok":
        raise RuntimeError(f"kho tệp {base}: đọc lại không đúng nội dung vừa ghi")
    probe.unlink()
    return str(base)
