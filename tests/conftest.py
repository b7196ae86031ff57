"""Shared fixtures; shared helpers and fakes live in tests/support/ (fakes.py: a webhook receiver,
an SMTP server, a one-row session, a clock; stores.py: a store at the schema's head; postgres.py, stack.py,
serving.py, browser.py: servers the tests start on 127.0.0.1)."""
from __future__ import annotations

import pytest

from tests.support.airflow_home import copy_installation, install
from tests.support.stores import new_store


@pytest.fixture
def sqlite_store(tmp_path):
    """A fresh SQLite store at the schema's head under the test's tmp_path, disposed after it."""
    with new_store(f"sqlite:///{tmp_path}/store.db") as store:
        yield store


@pytest.fixture(scope="session")
def airflow_template(tmp_path_factory):
    """One migrated installation per session (``airflow db migrate``, ``parreport db upgrade``), never
    run in itself: :func:`new_airflow_home` copies it."""
    return install(tmp_path_factory.mktemp("airflow-template"))


@pytest.fixture(scope="session")
def new_airflow_home(tmp_path_factory, airflow_template):
    """``new_airflow_home(store=True)``: a fresh, migrated AIRFLOW_HOME of its own (a copy of the
    session's template), for any scope."""
    def make(*, store: bool = True):
        return copy_installation(airflow_template, tmp_path_factory.mktemp("airflow-home"), store=store)
    return make
