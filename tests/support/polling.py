"""Waiting for a condition of a system the test started, with a bound."""
from __future__ import annotations

import time
from typing import Any, Callable


def wait_for(what: str, probe: Callable[[], Any], *, timeout: float, alive: Callable[[], Any] = lambda: None,
             diagnostics: Callable[[], str] = lambda: "", interval: float = 1.0) -> Any:
    """Poll ``probe`` until it returns something true and return it; ``alive`` raises when the
    system under test died. After ``timeout`` seconds: TimeoutError with the last error seen and
    ``diagnostics()``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        alive()
        try:
            value = probe()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last error
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"{what}: not after {timeout:.0f} s (last error: {last!r})\n{diagnostics()}")
