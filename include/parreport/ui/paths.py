"""Where the operator's pages read files, and the one rule for serving them: a file is served
only when every segment of its path is a plain name (no ``..``, no separator, no hidden file)
and its resolved path — symbolic links followed — is inside the tree it is served from."""
from __future__ import annotations

import re
from pathlib import Path

from ..config import Settings
from ..storage import is_local

__all__ = ["NotFound", "SAFE_NAME", "safe_name", "safe_path", "data_docs_root", "reports_root", "subdirs",
           "version_dirs", "files"]

# Agency codes (000.00.20.H57), window keys (2025Q1_20241215_20250314), run slugs and versions.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
# A segment of a file path inside a served tree: no separator, no NUL, no leading dot.
_SAFE_SEGMENT = re.compile(r"^[^./\\\x00][^/\\\x00]{0,254}$")


class NotFound(LookupError):
    """Nothing to show (missing, or not allowed: the caller cannot tell which)."""


def safe_name(value: str) -> str:
    if not isinstance(value, str) or not SAFE_NAME.match(value):
        raise NotFound(f"tên không hợp lệ: {value!r}")
    return value


def safe_path(root: Path, *parts: str) -> Path:
    """``root/parts...`` as an existing regular file or directory strictly inside ``root``.

    Every part must be a plain name (parts may contain ``/`` separated segments, each checked);
    the resolved path, symbolic links followed, must stay inside the resolved ``root``. Anything
    else is :class:`NotFound`.
    """
    segments: list[str] = []
    for part in parts:
        for seg in str(part).split("/"):
            if seg == "":
                continue
            if not _SAFE_SEGMENT.match(seg) or "\\" in seg:
                raise NotFound(f"đường dẫn không hợp lệ: {part!r}")
            segments.append(seg)
    if not is_local(root):  # an object store (storage.py): no links to follow, no ".." got this far
        target = root.joinpath(*segments)
        if not (target.is_file() or target.is_dir()):
            raise NotFound("không có tệp này")
        return target
    try:
        base = root.resolve(strict=True)
        target = base.joinpath(*segments).resolve(strict=True)
    except (OSError, RuntimeError):
        raise NotFound("không có tệp này") from None
    if target != base and not target.is_relative_to(base):
        raise NotFound("không có tệp này")
    if not (target.is_file() or target.is_dir()):
        raise NotFound("không có tệp này")
    return target


def data_docs_root(settings: Settings, agency: str, window_key: str) -> Path:
    return settings.storage / "data_docs" / safe_name(agency) / safe_name(window_key)


def reports_root(settings: Settings, agency: str, window_key: str) -> Path:
    return settings.storage / "reports" / safe_name(agency) / safe_name(window_key)


def subdirs(root: Path, pattern: str = "*") -> list[Path]:
    try:
        return [p for p in root.glob(pattern) if p.is_dir() and SAFE_NAME.match(p.name)]
    except OSError:
        return []


def version_dirs(root: Path) -> list[tuple[int, Path]]:
    out = []
    for p in subdirs(root, "v*"):
        if re.fullmatch(r"v\d{1,6}", p.name):
            out.append((int(p.name[1:]), p))
    return sorted(out)


def files(folder: Path) -> list[Path]:
    """The visible files of a folder, recursively (no hidden file, no temporary file)."""
    try:
        return sorted(p for p in folder.rglob("*")
                      if p.is_file() and not any(s.startswith(".") for s in p.relative_to(folder).parts)
                      and not p.name.endswith(".tmp"))
    except OSError:
        return []
