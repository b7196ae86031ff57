"""Screenshots with headless Chromium, driven over the DevTools protocol (127.0.0.1 only).

``chromium --screenshot`` cannot carry a session, and Airflow's UI needs one: the JWT the auth
manager issues is set as the ``_token`` cookie (what the UI's login does), the page is loaded,
and the screenshot is taken once the page shows the text we wait for (or the wait runs out).
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import httpx

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=vi-VN"]


def chromium() -> str | None:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _Page:
    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0

    def call(self, method: str, timeout: float = 30.0, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def text(self) -> str:
        r = self.call("Runtime.evaluate", expression="document.body ? document.body.innerText : ''",
                      returnByValue=True)
        return r.get("result", {}).get("value") or ""


@contextlib.contextmanager
def headless_chromium(width: int = 1400, height: int = 900, timeout: float = 30.0,
                      extra_flags: tuple[str, ...] = ()) -> Iterator["Browser"]:
    exe = chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed (Debian: apt-get install -y chromium)")
    profile = Path(tempfile.mkdtemp(prefix="parreport-chromium-"))
    proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, *extra_flags, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=open(profile / "chromium.log", "wb"),
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not start:\n" + (profile / "chromium.log").read_text(errors="replace"))
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        yield Browser(port, width, height)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        shutil.rmtree(profile, ignore_errors=True)


class Browser:
    def __init__(self, port: int, width: int, height: int):
        self.port, self.width, self.height = port, width, height

    def screenshot(self, url: str, png: Path, *, cookies: dict[str, str] | None = None,
                   wait_for: tuple[str, ...] = (), settle: float = 1.5, timeout: float = 45.0,
                   full_page: bool = False) -> str:
        """Load ``url`` in a new tab (with ``cookies`` for its origin), wait until its text has
        every string of ``wait_for``, save a PNG; returns the page's text."""
        from websockets.sync.client import connect

        target = httpx.put(f"http://127.0.0.1:{self.port}/json/new?about:blank", timeout=10).json()
        try:
            with connect(target["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024, open_timeout=20) as ws:
                return self._capture(_Page(ws), url, png, cookies, wait_for, settle, timeout, full_page)
        finally:
            with contextlib.suppress(Exception):
                httpx.get(f"http://127.0.0.1:{self.port}/json/close/{target['id']}", timeout=5)

    def _capture(self, page: _Page, url: str, png: Path, cookies, wait_for, settle, timeout, full_page) -> str:
        page.call("Page.enable")
        page.call("Network.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                  deviceScaleFactor=1, mobile=False)
        for name, value in (cookies or {}).items():
            page.call("Network.setCookie", name=name, value=value, url=url, path="/", httpOnly=True)
        page.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            time.sleep(0.2)
            with contextlib.suppress(Exception):
                text = page.text()
            if all(w in text for w in wait_for):
                break
        time.sleep(settle)
        with contextlib.suppress(Exception):
            text = page.text()
        params: dict = {"format": "png"}
        if full_page:
            metrics = page.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics.get("contentSize")
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": min(size["height"], 4000), "scale": 1}
            params["captureBeyondViewport"] = True
        data = page.call("Page.captureScreenshot", **params)["data"]
        png.parent.mkdir(parents=True, exist_ok=True)
        png.write_bytes(base64.b64decode(data))
        return text
