"""Shared fixtures; shared helpers and fakes live in tests/support/ (fakes.py: a webhook receiver,
an SMTP server, a one-row session, a clock; stores.py: a store at the schema's head; postgres.py, stack.py,
serving.py, browser.py: servers the tests start on 127.0.0.1)."""
from __future__ import annotations

import pytest

from tests.support.stores import new_store


@pytest.fixture
def sqlite_store(tmp_path):
    """A fresh SQLite store at the schema's head under the test's tmp_path, disposed after it."""
    with new_store(f"sqlite:///{tmp_path}/store.db") as store:
        yield store
