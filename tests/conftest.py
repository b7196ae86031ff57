"""Shared fixtures; shared helpers and fakes live in tests/support/ (fakes.py: a webhook receiver,
an SMTP server, a one-row session, a clock; stores.py: a store at the schema's head; postgres.py, stack.py,
serving.py, browser.py: servers the tests start on 127.0.0.1)."""
from __future__ import annotations

import pytest
from hypothesis import settings

from tests.support.airflow_home import copy_installation, install
from tests.support.stores import new_store

# Hypothesis' properties are about correctness, never speed: its default 200 ms deadline per example
# fails a property when the machine is loaded (two xdist workers, one of them running Airflow), so
# no example has a deadline. Tests that set their own settings keep them.
settings.register_profile("parreport", deadline=None)
settings.load_profile("parreport")

#: The files that take minutes (Airflow runs, the production stack, the serve.sh day, the pages in
#: Chromium). Under pytest-xdist (scripts/test.sh: ``-n 2 --dist loadfile --no-loadscope-reorder``)
#: each file goes whole to one worker, handed out in collection order as a worker runs short of
#: work, so these are collected first: one worker takes the e2e file (then the province, the pages),
#: the other the stack (then serve.sh), and the ≈ 600 short tests fill in beside them. The e2e and
#: province files share the worker's migrated ``airflow_template``.
SLOW_FIRST = ("tests/system/test_e2e.py", "tests/system/test_production_stack.py", "tests/system/test_serve.py",
              "tests/system/test_province.py", "tests/ui/test_views.py")


def pytest_collection_modifyitems(config, items):
    """Under xdist only: the files of :data:`SLOW_FIRST` first, in that order; every other test keeps
    its place, and the tests inside a file keep theirs (a file's tests may depend on its order)."""
    if not hasattr(config, "workerinput"):  # not an xdist worker: the order does not matter
        return
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(SLOW_FIRST)))  # stable


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
