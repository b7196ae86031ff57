"""Fakes shared by the tests: a webhook receiver and an SMTP server on 127.0.0.1 (free ports,
stopped on exit), a database session that answers one row, and a clock the test moves."""
from __future__ import annotations

import email
import email.policy
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Hook", "Smtp", "OneRowSession", "Clock"]


class _LocalServer:
    """A socketserver on 127.0.0.1 (a free port), served in a thread while the ``with`` lasts."""

    def _serve(self, server) -> None:
        self.server = server
        self.port = server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Hook(_LocalServer):
    """A webhook receiver: records every POST, answers the queued statuses, then 200."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                if status == 503:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))

    def connection(self, **extra) -> str:
        return json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": self.port, "schema": "http",
                           "login": "canh-bao", "password": "mat-khau-bi-mat",
                           "extra": {"path": "/hooks/TOKEN-BI-MAT-123", "backoff": 0.01, **extra}})


class Smtp(_LocalServer):
    """A minimal SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)."""

    def __init__(self):
        self.messages: list[dict] = []
        box = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str):
                self.wfile.write((line + "\r\n").encode())

            def handle(self):
                self.reply("220 127.0.0.1 ESMTP test")
                sender, rcpts = None, []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    cmd = raw.decode("ascii", "replace").strip()
                    verb = cmd[:4].upper()
                    if verb == "EHLO":
                        self.wfile.write(b"250-127.0.0.1\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n")
                    elif verb == "HELO":
                        self.reply("250 127.0.0.1")
                    elif verb == "MAIL":
                        sender, rcpts = cmd.split(":", 1)[1].strip().split()[0].strip("<>"), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpts.append(cmd.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        lines = []
                        while True:
                            line = self.rfile.readline()
                            if line in (b".\r\n", b".\n", b""):
                                break
                            lines.append(line[1:] if line.startswith(b"..") else line)
                        box.messages.append({"from": sender, "to": rcpts, "data": b"".join(lines)})
                        self.reply("250 OK queued")
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 not implemented")

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._serve(Server(("127.0.0.1", 0), Handler))

    def connection(self, **extra) -> str:
        return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": self.port,
                           "extra": {"from_email": "airflow@so-ldtbxh.example.vn", "disable_ssl": True,
                                     "disable_tls": True, "timeout": 5, "retry_limit": 0,
                                     "to": "truong-phong@so-ldtbxh.example.vn; van-thu@so-ldtbxh.example.vn",
                                     **extra}})

    def parsed(self, i: int = 0):
        return email.message_from_bytes(self.messages[i]["data"], policy=email.policy.default)


class OneRowSession:
    """A stand-in for a SQLAlchemy session whose ``execute(...).one_or_none()`` answers ``row``
    (what a deadline reference reads of a DAG run)."""

    def __init__(self, row):
        self.row = row

    def execute(self, stmt):  # noqa: ARG002 - any statement
        return self

    def one_or_none(self):
        return self.row


class Clock:
    """A clock (``time.time``-like: seconds) that stands still until the test sets ``now``."""

    def __init__(self, now: float = 1_750_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now
