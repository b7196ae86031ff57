"""Extraction reads the next page in a thread of its own (extract.prefetched): pages arrive in
order, an error of the reading is raised at the page where it happened, and a consumer that
stops early stops the reading."""
from __future__ import annotations

import threading
import time

import pytest

from parreport.extract import prefetched


def test_pages_arrive_in_order_and_an_error_is_raised_after_the_pages_before_it():
    def pages():
        yield from range(5)
        raise RuntimeError("cổng trả lời lỗi ở trang 6")

    got = []
    with pytest.raises(RuntimeError, match="trang 6"):
        for page in prefetched(pages()):
            got.append(page)
    assert got == [0, 1, 2, 3, 4]


def test_a_consumer_that_stops_early_stops_the_reading():
    read = []

    def pages():
        for n in range(1000):
            read.append(n)
            yield n

    before = threading.active_count()
    stream = prefetched(pages(), depth=2)
    assert next(stream) == 0
    stream.close()
    time.sleep(0.5)
    assert threading.active_count() == before
    assert len(read) <= 5  # at most a few pages ahead, never the whole listing
