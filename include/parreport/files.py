"""Files the pipeline writes: atomic JSON and the file-system form of a run id."""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["run_slug", "write_json", "write_bytes"]


def run_slug(run_id: str | None) -> str:
    """A file-system-safe form of an Airflow run id (``manual__2025-…`` → ``manual__2025-…``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id or "").strip("_") or "run"


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` atomically: a reader sees the old file or the new one, never half of one.
    ``path`` may be in an object store (storage.py): one object put, atomic by nature."""
    if not isinstance(path, (str, Path)):
        path.write_bytes(data)
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any, indent: int | None = None) -> None:
    """Write ``obj`` as UTF-8 JSON atomically."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":"))
    write_bytes(path, text.encode("utf-8"))
