"""An S3-compatible object store for tests: moto's server on 127.0.0.1, a free port, always stopped.

    with s3_server(logs) as s3:
        s3.endpoint_url, s3.connection("parreport_storage"), s3.keys("bucket", "prefix/")

The Airflow connection it gives is what production uses for MinIO or any S3-compatible server:
an ``aws`` connection whose extra names the ``endpoint_url`` (see docker-compose.yaml).
"""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tests.support.stack import free_port, stop_group, wait_port

# moto accepts any key pair; these are not credentials of anything.
ACCESS_KEY, SECRET_KEY, REGION = "parreport-test", "parreport-test-secret", "us-east-1"


@dataclass
class S3Server:
    endpoint_url: str
    proc: subprocess.Popen

    def connection(self) -> str:
        """The JSON of an AIRFLOW_CONN_* variable: an ``aws`` connection to this server."""
        return json.dumps({"conn_type": "aws", "login": ACCESS_KEY, "password": SECRET_KEY,
                           "extra": {"endpoint_url": self.endpoint_url, "region_name": REGION}})

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name=REGION)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key under ``prefix``, as the server lists them."""
        out: list[str] = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out += [o["Key"] for o in page.get("Contents", [])]
        return sorted(out)


@contextlib.contextmanager
def s3_server(logs: Path, timeout: float = 60.0) -> Iterator[S3Server]:
    """moto's S3 server (``moto[server]``) on 127.0.0.1 at a free port; stopped (its whole process
    group) when the context ends."""
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(logs / "moto-s3.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_port(port, timeout, proc, "moto S3 server")
        yield S3Server(f"http://127.0.0.1:{port}", proc)
    finally:
        stop_group(proc, grace=10)
        log.close()
