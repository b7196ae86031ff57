"""A store created at the schema's head, the way ``parreport db upgrade`` creates it
(``Store()`` itself creates nothing)."""
from __future__ import annotations

from parreport import db
from parreport import store as st


def new_store(url: str) -> st.Store:
    """A store at ``url``, created or upgraded to head first."""
    db.upgrade(url)
    return st.Store(url)
