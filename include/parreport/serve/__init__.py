"""``scripts/serve.sh``: the embedded installation with its UI, in one command.

One ``AIRFLOW_HOME`` is one installation. This package (run by ``scripts/serve.sh`` after
``setup.sh``, ``airflow_env.sh`` and ``airflow db migrate``) starts, on 127.0.0.1 only:

- the sandbox (Cổng DVC + Sở Nội vụ giả lập): one persistent "province" per installation — the
  intake keeps its accepted reports and the client secrets stay the same from one start to the
  next (``<data_dir>/sandbox/``);
- Airflow's API server (``--port``, default 8080), scheduler (LocalExecutor), DAG processor and
  triggerer, each from ``.venv`` (``.venv/bin`` first on PATH), each in its own process group,
  their output in ``$AIRFLOW_HOME/serve/logs/``.

Before Airflow starts, the sandbox's connections ``dvc_portal`` and ``snv_report_api`` are written
to the metadata database (their host and port change with every start) and ``report_signing_key``
is created there once and kept: runs triggered in the UI, cleared tasks and scheduled quarters
all find them. The user ``admin`` logs in with ``PARREPORT_ADMIN_PASSWORD``, or with a password
generated and printed at every start (SimpleAuthManager's passwords file, written here).

Scheduling. The DAG does not catch up, and Airflow would still start, on the first unpause, the
latest quarter whose run time has passed — a quarter nobody asked for, beside the operator's own
run. The installation's first start is therefore kept as ``PARREPORT_SCHEDULE_FROM``
(``$AIRFLOW_HOME/serve/schedule_from``, exported by ``airflow_env.sh``): the schedule starts no
quarter due before it, and every later quarter runs on its own, a day after its window closes.
Each DAG is unpaused the first time this command sees it; after that the operator's pause holds.

The command runs until Ctrl-C (SIGINT), SIGTERM or SIGHUP, then stops what it started: each
component's process group (SIGTERM, then SIGKILL after a grace period), a last sweep for any
process carrying this start's marker, and the sandbox.

Where things live:

- :mod:`.run`: the command (options, lock, signals) and :class:`~.run.Serve`, which starts,
  watches and stops everything in order;
- :mod:`.home`: the installation's own files in ``$AIRFLOW_HOME/serve/`` (lock, passwords file,
  ``schedule_from``) and the components' environment;
- :mod:`.sandbox`: the sandbox, its clients and the signing key kept per installation, and the
  Airflow connections pointing at it;
- :mod:`.processes`: process groups, stopping them, the sweep by marker;
- :mod:`.airflow_api`: Airflow's REST API (is it up, the report DAG, unpausing new DAGs);
- :mod:`.guide`: what is printed for the operator once it is up.
"""
from .guide import login_text, next_quarter_text
from .home import admin_password, running_elsewhere, schedule_from, write_passwords_file
from .processes import cmdline, processes_with
from .run import main
from .sandbox import add_sandbox_arguments, http_connection, installation_sandbox, sandbox_clients, sandbox_dir, signing_key

__all__ = ["main", "admin_password", "write_passwords_file", "schedule_from", "running_elsewhere", "login_text",
           "next_quarter_text", "sandbox_clients", "sandbox_dir", "signing_key", "http_connection",
           "installation_sandbox", "add_sandbox_arguments", "cmdline", "processes_with"]
