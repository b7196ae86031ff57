"""Running the sandbox: ``python -m parreport.sandbox serve ...`` and ``run_sandbox()``.

Both servers run in one process, each on its own 127.0.0.1 port (0 = a free port). Once both
accept connections, the ready file (JSON ``{"portal_url", "intake_url", "pid", "seed",
"agency"}``) is written atomically. Credentials never touch the disk: they come from the
environment:

- ``SANDBOX_PORTAL_CLIENTS``: ``{"client_id": "secret", ...}``
- ``SANDBOX_INTAKE_CLIENTS``: ``{"client_id": {"secret": "...", "agency": "000.00.20.H57"}, ...}``
- ``SANDBOX_PUBLIC_KEYS`` (optional): ``{"kid": "-----BEGIN PUBLIC KEY-----..."}``, added to
  any ``--public-key KID=PEM_PATH``; a value may also be ``{"pem": "...", "agency": "MaDonVi"}``:
  a key that signs for that agency only.

A province (``--agencies 3`` or ``--agencies 000.00.20.H57,000.00.21.H57``): the portal serves
every agency's units, procedures, dossiers and ratings (parreport.sandbox.province); give each
agency its own intake client in ``SANDBOX_INTAKE_CLIENTS`` and its own key. Two faults aim at
one agency: ``--fail-agency MaDonVi[=STATUS]`` (the portal's /ho-so answers STATUS, 403 by
default, for every unit of that agency) and ``--refuse-agency MaDonVi`` (the intake answers 403
to that agency's reports).

Fault spec (``--faults``): comma-separated ``[portal.|intake.]name=value``; a name without a
prefix applies to both servers. Names: rate_503, rate_429, retry_after, token_max_calls,
schedule (``503@1|429@2``: the 1st API call answers 503, the 2nd 429), rate_truncate and
truncate (``3|7``: the 3rd and 7th 2xx answers cut short mid-body), cursor_ttl (portal, s),
expire_cursors (portal, ``2|5``: the 2nd and 5th requests with a cursor answered "expired"). Example:
``portal.rate_503=0.05,portal.schedule=429@3,intake.schedule=503@1,retry_after=1``.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import httpx
import uvicorn

from . import catalogue as cat
from .common import FaultSettings
from .generator import GeneratorConfig, generate
from .province import generate_province, province_agencies
from .intake_app import IntakeSettings, create_intake_app
from .portal_app import PortalSettings, create_portal_app

LOCAL_HOSTS = ("127.0.0.1", "localhost")


def split_fault_spec(spec: str | dict | None) -> tuple[dict, dict]:
    """A --faults spec (or ``{"portal": {...}, "intake": {...}}``) -> (portal items, intake items)."""
    portal: dict[str, Any] = {}
    intake: dict[str, Any] = {}
    if not spec:
        return portal, intake
    if isinstance(spec, dict):
        return dict(spec.get("portal", {})), dict(spec.get("intake", {}))
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        target, _, bare = name.partition(".")
        if target == "portal":
            portal[bare] = value
        elif target == "intake":
            intake[bare] = value
        else:
            portal[name] = intake[name] = value
    return portal, intake


def _ts_arg(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S")


def window_span(spec: str) -> dict[str, datetime]:
    """``--window YEAR-Q``: the span that window needs — one quarter of earlier dossiers (still in
    progress or finished within it), the window, and a month after it (the extraction)."""
    from datetime import timedelta

    from ..periods import window_for

    year, _, quarter = spec.partition("-")
    try:
        window = window_for(int(year), int(quarter))
    except ValueError:
        raise SystemExit(f"--window expects YEAR-Q (e.g. 2025-1), got {spec!r}") from None
    return {"span_start": window.start - timedelta(days=92), "span_end": window.end + timedelta(days=31)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m parreport.sandbox",
                                     description="Sandbox servers for portal-api.yaml and report-api.yaml")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run both servers until SIGTERM/SIGINT")
    s.add_argument("--host", default="127.0.0.1", help="only 127.0.0.1 (or localhost) is accepted")
    s.add_argument("--portal-port", type=int, default=0)
    s.add_argument("--intake-port", type=int, default=0)
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--dossiers-per-quarter", type=int, default=5000)
    s.add_argument("--agency", default=cat.DEFAULT_AGENCY)
    s.add_argument("--agencies", default=None,
                   help="a province: a number of agencies (1–8) or comma-separated MaDonVi; overrides --agency")
    s.add_argument("--fail-agency", action="append", default=[], metavar="MADONVI[=STATUS]",
                   help="portal: /ho-so of every unit of that agency answers STATUS (default 403)")
    s.add_argument("--refuse-agency", action="append", default=[], metavar="MADONVI",
                   help="intake: reports of that agency's clients answer 403")
    s.add_argument("--span-start", type=_ts_arg, default=None, help="yyyyMMddHHmmss")
    s.add_argument("--span-end", type=_ts_arg, default=None, help="yyyyMMddHHmmss")
    s.add_argument("--window", default=None, metavar="YEAR-Q",
                   help="generate only what the quarter's window needs: from one quarter before its start to "
                        "a month after its end (instead of the default span; --span-start/--span-end win); "
                        "a province-sized --dossiers-per-quarter then fits in memory")
    s.add_argument("--as-of", type=_ts_arg, default=None, help="extraction instant, yyyyMMddHHmmss")
    s.add_argument("--invalid-rate", type=float, default=None)
    s.add_argument("--duplicate-rate", type=float, default=None)
    s.add_argument("--no-duplicates", action="store_true", help="do not deliver the stale duplicate copies")
    s.add_argument("--faults", default="", help="fault spec, see the module docstring")
    s.add_argument("--token-ttl", type=int, default=300, help="expires_in of both servers' tokens (s)")
    s.add_argument("--cursor-ttl", type=float, default=900.0, help="portal cursor validity (s)")
    s.add_argument("--page-cache-mib", type=int, default=1536,
                   help="portal: serialised listing pages kept in memory (MiB), least recently used dropped")
    s.add_argument("--review-delay", type=float, default=5.0, help="intake: DA_TIEP_NHAN -> DA_DUYET after (s)")
    s.add_argument("--return-policy", choices=("none", "all", "first"), default="none",
                   help="intake: send reports back (TRA_LAI) instead of approving them")
    s.add_argument("--state-file", default=None, help="intake: JSON file keeping accepted reports")
    s.add_argument("--public-key", action="append", default=[], metavar="KID=PEM_PATH")
    s.add_argument("--ready-file", default=None)
    s.add_argument("--exit-with-parent", action="store_true", help="stop when the parent process goes away")
    s.add_argument("--log-level", default="warning")
    return parser


def _env_json(name: str, required: bool) -> dict:
    raw = os.environ.get(name)
    if not raw:
        if required:
            raise SystemExit(f"{name} is not set (JSON with the client credentials)")
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SystemExit(f"{name} must be a JSON object")
    return value


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us (two servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def serve(args: argparse.Namespace) -> int:
    if args.host not in LOCAL_HOSTS:
        print(f"refusing to bind {args.host!r}: the sandbox listens on 127.0.0.1 only", file=sys.stderr)
        return 2
    host = "127.0.0.1"
    portal_clients = {str(k): str(v) for k, v in _env_json("SANDBOX_PORTAL_CLIENTS", True).items()}
    intake_clients = IntakeSettings.clients_from(_env_json("SANDBOX_INTAKE_CLIENTS", True))
    public_keys, key_agencies = _public_keys(_env_json("SANDBOX_PUBLIC_KEYS", False))
    for item in args.public_key:
        kid, _, path = item.partition("=")
        if not kid or not path:
            print(f"--public-key expects KID=PEM_PATH, got {item!r}", file=sys.stderr)
            return 2
        public_keys[kid] = Path(path).read_text(encoding="utf-8")
    portal_faults, intake_faults = split_fault_spec(args.faults)

    overrides: dict[str, Any] = {"seed": args.seed, "agency": args.agency,
                                 "dossiers_per_quarter": args.dossiers_per_quarter}
    if args.window:
        overrides.update(window_span(args.window))
    for name in ("span_start", "span_end", "as_of", "invalid_rate", "duplicate_rate"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    try:
        failing = _failing_agencies(args.fail_agency)
        dataset = (generate_province(GeneratorConfig(**overrides), args.agencies) if args.agencies
                   else generate(GeneratorConfig(**overrides)))
    except ValueError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    portal = create_portal_app(dataset, PortalSettings(
        clients=portal_clients, token_ttl=args.token_ttl, cursor_ttl=args.cursor_ttl,
        faults=FaultSettings.parse(portal_faults), deliver_duplicates=not args.no_duplicates,
        failing_agencies=failing, page_cache_bytes=args.page_cache_mib * 2**20))
    intake = create_intake_app(IntakeSettings(
        clients=intake_clients, public_keys=public_keys, token_ttl=args.token_ttl,
        faults=FaultSettings.parse(intake_faults), review_delay=args.review_delay,
        return_policy=args.return_policy, state_file=args.state_file, seed=args.seed,
        key_agencies=key_agencies, refused_agencies=set(args.refuse_agency)))

    portal_sock, intake_sock = _bind(host, args.portal_port), _bind(host, args.intake_port)
    servers = [
        _Server(uvicorn.Config(portal, log_level=args.log_level, access_log=False, lifespan="off")),
        _Server(uvicorn.Config(intake, log_level=args.log_level, access_log=False, lifespan="off")),
    ]
    urls = {"portal_url": f"http://{host}:{portal_sock.getsockname()[1]}",
            "intake_url": f"http://{host}:{intake_sock.getsockname()[1]}"}
    parent = os.getppid()

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def stop(*_):
            for s in servers:
                s.should_exit = True

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        tasks = [asyncio.create_task(servers[0].serve(sockets=[portal_sock])),
                 asyncio.create_task(servers[1].serve(sockets=[intake_sock]))]
        while not all(s.started for s in servers):
            if any(t.done() for t in tasks):
                stop()
                break
            await asyncio.sleep(0.02)
        else:
            if args.ready_file:
                ready = Path(args.ready_file)
                tmp = ready.with_name(ready.name + ".tmp")
                tmp.write_text(json.dumps({**urls, "pid": os.getpid(), "seed": args.seed, "agency": dataset.agencies[0],
                                           "agencies": dataset.agencies}))
                os.replace(tmp, ready)
            print(json.dumps(urls), flush=True)
        while not all(t.done() for t in tasks):
            if args.exit_with_parent and os.getppid() != parent:
                stop()
            await asyncio.sleep(0.2)
        for t in tasks:
            t.result()

    asyncio.run(main())
    return 0


def _public_keys(raw: dict) -> tuple[dict[str, str], dict[str, str]]:
    """SANDBOX_PUBLIC_KEYS -> (kid -> PEM, kid -> the agency it is bound to)."""
    keys, agencies = {}, {}
    for kid, value in raw.items():
        if isinstance(value, dict):
            keys[str(kid)] = str(value["pem"])
            if value.get("agency"):
                agencies[str(kid)] = str(value["agency"])
        else:
            keys[str(kid)] = str(value)
    return keys, agencies


def _failing_agencies(items: list[str]) -> dict[str, int]:
    """``["000.00.22.H57", "000.00.23.H57=500"]`` -> {agency: status} (403 when not given)."""
    out = {}
    for item in items:
        agency, _, status = item.partition("=")
        code = int(status) if status else 403
        if not agency or not 400 <= code <= 599:
            raise ValueError(f"--fail-agency expects MaDonVi[=4xx|5xx], got {item!r}")
        out[agency] = code
    return out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2  # pragma: no cover


# ---------------------------------------------------------------------------------- in Python
@dataclass
class SandboxHandle:
    portal_url: str
    intake_url: str
    pid: int
    portal_clients: dict[str, str]
    intake_clients: dict[str, dict]
    process: subprocess.Popen = field(repr=False)
    log_path: str = ""
    agencies: list[str] = field(default_factory=list)

    @property
    def portal_client(self) -> tuple[str, str]:
        """(client_id, secret) of the first portal client."""
        return next(iter(self.portal_clients.items()))

    @property
    def intake_client(self) -> tuple[str, str, str]:
        """(client_id, secret, agency) of the first intake client."""
        cid, v = next(iter(self.intake_clients.items()))
        return cid, v["secret"], v["agency"]

    def intake_client_for(self, agency: str) -> tuple[str, str]:
        """(client_id, secret) of the intake client that reports for ``agency``."""
        for cid, v in self.intake_clients.items():
            if v["agency"] == agency:
                return cid, v["secret"]
        raise KeyError(f"no intake client for {agency}")

    def accepted(self) -> list[dict]:
        """GET /_sandbox/accepted of the intake: [{receipt, body, idempotency_key}]."""
        return httpx.get(self.intake_url + "/_sandbox/accepted", timeout=10).json()["data"]

    def intake_requests(self) -> list[dict]:
        return httpx.get(self.intake_url + "/_sandbox/requests", timeout=10).json()["data"]

    def portal_requests(self) -> list[dict]:
        return httpx.get(self.portal_url + "/_sandbox/requests", timeout=10).json()["data"]

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@contextlib.contextmanager
def run_sandbox(*, seed: int = 42, dossiers_per_quarter: int = 5000, agency: str = cat.DEFAULT_AGENCY,
                agencies: int | str | list[str] | None = None, fail_agencies: dict[str, int] | list[str] | None = None,
                refuse_agencies: list[str] | None = None,
                faults: str | dict | None = None, token_ttl: int | None = None, cursor_ttl: float | None = None,
                review_delay: float | None = None, return_policy: str | None = None,
                state_file: str | os.PathLike | None = None, public_keys: dict[str, str] | None = None,
                portal_clients: dict[str, str] | None = None, intake_clients: dict[str, dict] | None = None,
                no_duplicates: bool = False, as_of: datetime | None = None, extra_args: tuple[str, ...] = (),
                startup_timeout: float = 60.0, portal_port: int = 0, intake_port: int = 0) -> Iterator[SandboxHandle]:
    """Start the sandbox in a subprocess, yield a handle, and always stop it on exit.

    Client credentials default to fresh random secrets (``handle.portal_client``,
    ``handle.intake_client``); they reach the subprocess through the environment only.

    A province: ``agencies`` (a count or MaDonVi codes, see ``province.province_agencies``); each
    agency then gets its own intake client by default (``handle.intake_client_for(agency)``).
    ``public_keys`` values may be ``{"pem": ..., "agency": ...}`` (a key for one agency only).
    ``fail_agencies`` ({agency: status} or agencies, 403) and ``refuse_agencies`` aim a fault
    at one agency (see the module docstring).
    """
    codes = province_agencies(agencies) if agencies else [agency]
    portal_clients = portal_clients or {"sandbox-portal": secrets.token_urlsafe(18)}
    intake_clients = intake_clients or (
        {"sandbox-intake": {"secret": secrets.token_urlsafe(18), "agency": agency}} if not agencies else
        {f"sandbox-intake-{code.lower().replace('.', '-')}": {"secret": secrets.token_urlsafe(18), "agency": code}
         for code in codes})
    if isinstance(faults, dict):
        faults = ",".join([f"portal.{k}={_spec_value(v)}" for k, v in faults.get("portal", {}).items()]
                          + [f"intake.{k}={_spec_value(v)}" for k, v in faults.get("intake", {}).items()])
    with tempfile.TemporaryDirectory(prefix="parreport-sandbox-") as tmp:
        ready = Path(tmp) / "ready.json"
        log_path = Path(tmp) / "sandbox.log"
        cmd = [sys.executable, "-m", "parreport.sandbox", "serve", "--host", "127.0.0.1",
               "--portal-port", str(portal_port), "--intake-port", str(intake_port), "--seed", str(seed),
               "--dossiers-per-quarter", str(dossiers_per_quarter), "--agency", agency,
               "--ready-file", str(ready), "--exit-with-parent"]
        for flag, value in (("--faults", faults), ("--token-ttl", token_ttl), ("--cursor-ttl", cursor_ttl),
                            ("--review-delay", review_delay), ("--return-policy", return_policy),
                            ("--state-file", state_file),
                            ("--as-of", as_of.strftime("%Y%m%d%H%M%S") if as_of else None)):
            if value not in (None, ""):
                cmd += [flag, str(value)]
        if no_duplicates:
            cmd.append("--no-duplicates")
        if agencies:
            cmd += ["--agencies", ",".join(codes)]
        failing = fail_agencies.items() if isinstance(fail_agencies, dict) else ((a, 403) for a in fail_agencies or ())
        for code, status in failing:
            cmd += ["--fail-agency", f"{code}={status}"]
        for code in refuse_agencies or ():
            cmd += ["--refuse-agency", code]
        cmd += list(extra_args)
        env = dict(os.environ)
        env["SANDBOX_PORTAL_CLIENTS"] = json.dumps(portal_clients)
        env["SANDBOX_INTAKE_CLIENTS"] = json.dumps(intake_clients)
        if public_keys:
            env["SANDBOX_PUBLIC_KEYS"] = json.dumps(public_keys)
        with open(log_path, "wb") as log:
            process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                       stdin=subprocess.DEVNULL)
        handle = None
        try:
            deadline = time.monotonic() + startup_timeout
            while not ready.exists():
                if process.poll() is not None:
                    raise RuntimeError(f"sandbox exited with {process.returncode}:\n"
                                       + log_path.read_text(errors="replace")[-4000:])
                if time.monotonic() > deadline:
                    raise TimeoutError(f"sandbox not ready after {startup_timeout} s:\n"
                                       + log_path.read_text(errors="replace")[-4000:])
                time.sleep(0.05)
            info = json.loads(ready.read_text())
            handle = SandboxHandle(info["portal_url"], info["intake_url"], info["pid"], portal_clients,
                                   intake_clients, process, str(log_path), info.get("agencies", codes))
            yield handle
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


def _spec_value(value: Any) -> str:
    if isinstance(value, dict):
        return "|".join(f"{status}@{call}" for call, status in value.items())
    if isinstance(value, (set, list, tuple)):
        return "|".join(str(v) for v in sorted(value))
    return str(value)
