"""Reporting windows of INDICATORS.md §1, to the second, for every quarter of 2024–2026."""
from datetime import datetime

import pytest

from parreport.periods import deadline_for, last_closed_window, window_containing, window_for

# The table of INDICATORS.md §1, written out for 2024–2026.
EXPECTED = {
    (2024, 1): ("20231215000000", "20240314235959"), (2024, 2): ("20240315000000", "20240614235959"),
    (2024, 3): ("20240615000000", "20240914235959"), (2024, 4): ("20240915000000", "20241214235959"),
    (2025, 1): ("20241215000000", "20250314235959"), (2025, 2): ("20250315000000", "20250614235959"),
    (2025, 3): ("20250615000000", "20250914235959"), (2025, 4): ("20250915000000", "20251214235959"),
    (2026, 1): ("20251215000000", "20260314235959"), (2026, 2): ("20260315000000", "20260614235959"),
    (2026, 3): ("20260615000000", "20260914235959"), (2026, 4): ("20260915000000", "20261214235959"),
}


@pytest.mark.parametrize("yq", sorted(EXPECTED))
def test_nd09_windows(yq):
    w = window_for(*yq)
    assert (w.start_ts, w.end_ts) == EXPECTED[yq]


def test_windows_tile_time_without_gap_or_overlap():
    keys = sorted(EXPECTED)
    for a, b in zip(keys, keys[1:]):
        assert (window_for(*b).start - window_for(*a).end).total_seconds() == 1


def test_calendar_rule():
    w = window_for(2024, 1, "calendar")
    assert (w.start_ts, w.end_ts) == ("20240101000000", "20240331235959")
    assert window_for(2024, 4, "calendar").end_ts == "20241231235959"


def test_boundaries_and_lookup():
    w = window_for(2025, 1)
    assert w.contains(datetime(2024, 12, 15, 0, 0, 0)) and w.contains(datetime(2025, 3, 14, 23, 59, 59))
    assert not w.contains(datetime(2024, 12, 14, 23, 59, 59)) and not w.contains(datetime(2025, 3, 15))
    assert window_containing(datetime(2024, 12, 20)).key == w.key
    assert last_closed_window(datetime(2025, 3, 15, 0, 0, 1)).key == w.key
    assert last_closed_window(datetime(2025, 3, 14, 23, 59, 59)).key == window_for(2024, 4).key
    assert deadline_for(w) == datetime(2025, 3, 20, 23, 59, 59)
    assert w.previous().key == window_for(2024, 4).key and w.year_before().key == window_for(2024, 1).key


@pytest.mark.parametrize("bad", [(2025, 0), (2025, 5), (1999, 1)])
def test_rejects_bad_quarters(bad):
    with pytest.raises(ValueError):
        window_for(*bad)
