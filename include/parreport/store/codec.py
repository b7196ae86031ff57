"""How the store writes and reads values: JSON columns, PostgreSQL COPY fields, timestamps."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from msgspec.json import decode as _msgspec_decode

def json_loads(text: str | bytes) -> Any:
    """JSON columns are read with msgspec (several times faster than the standard library, and
    the same values); what it refuses (NaN, Infinity) falls back to the standard library."""
    try:
        return _msgspec_decode(text)
    except ValueError:
        return json.loads(text)




def csv_field(value: Any) -> str:
    """One field of PostgreSQL's COPY ... (FORMAT csv, NULL '\\N'): text always quoted (so that
    a quoted value is never NULL), numbers bare, None as the unquoted null marker."""
    if value is None:
        return "\\N"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
