"""scripts/airflow_init.sh (the compose init service): both databases, the dvc_portal pool, the users; it refuses to start without its secrets,
before it touches any database. Its full run is tests/system/test_production_stack.py."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("missing", ["admin", "operator", "empty"])
def test_a_missing_or_empty_password_secret_stops_the_init(tmp_path, missing):
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("airflow", "parreport"):  # record any call: none may happen
        (bin_dir / tool).write_text(f'#!/bin/sh\necho {tool} "$@" >> {calls}\n')
        (bin_dir / tool).chmod(0o755)
    admin, operator = tmp_path / "admin", tmp_path / "operator"
    admin.write_text("s3cret-a\n")
    operator.write_text("s3cret-o\n")
    if missing == "admin":
        admin.unlink()
    elif missing == "operator":
        operator.unlink()
    else:
        operator.write_text("\n")
    done = subprocess.run(["bash", str(ROOT / "scripts/airflow_init.sh")], capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "AIRFLOW_ADMIN_PASSWORD_FILE": str(admin),
                               "AIRFLOW_OPERATOR_PASSWORD_FILE": str(operator)})
    assert done.returncode != 0
    assert ("is empty" if missing == "empty" else "is missing") in done.stderr
    assert not calls.exists()


def test_with_its_secrets_it_migrates_both_databases_then_creates_the_users(tmp_path):
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("airflow", "parreport"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho {tool} "$@" >> {calls}\n')
        (bin_dir / tool).chmod(0o755)
    (tmp_path / "admin").write_text("s3cret-a\n")
    (tmp_path / "operator").write_text("s3cret-o")
    done = subprocess.run(["bash", str(ROOT / "scripts/airflow_init.sh")], capture_output=True, text=True, timeout=60,
                          env={"PATH": f"{bin_dir}:/usr/bin:/bin", "AIRFLOW_OPERATOR_USERNAME": "vanhanh",
                               "AIRFLOW_ADMIN_PASSWORD_FILE": str(tmp_path / "admin"),
                               "AIRFLOW_OPERATOR_PASSWORD_FILE": str(tmp_path / "operator")})
    assert done.returncode == 0, done.stderr
    lines = calls.read_text().splitlines()
    assert lines[:3] == ["airflow db migrate", "parreport db upgrade", "parreport storage check"]
    assert lines[3].startswith("airflow pools set dvc_portal 4 ")  # the scheduler runs no task without it
    lines = lines[:2] + lines[4:]
    assert lines[2].startswith("airflow users create --username admin --role Admin ")
    assert lines[2].endswith("--password s3cret-a")
    assert lines[3] == "airflow users reset-password --username admin --password s3cret-a"
    assert lines[4].startswith("airflow users create --username vanhanh --role Op ") and lines[4].endswith("s3cret-o")
    assert "s3cret" not in done.stdout + done.stderr
