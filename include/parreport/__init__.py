"""Quarterly administrative-procedure (TTHC) service report pipeline.

Where things live (the flow of docs/DESIGN.md, one module or small package per job):

- the quarter and its configuration: ``periods`` (reporting windows, deadlines, which quarter a
  run is about), ``config`` (settings, connection and DAG ids), ``targets``, ``kinds`` (each
  record kind named once), ``limits`` (pool, timeouts, retries of the tasks);
- the two external systems: ``http`` (the one HTTP client: OAuth client credentials, retries),
  ``connections`` (Airflow connections → endpoints), ``portal``, ``intake``, ``receipts``;
- the stages: ``extract`` (+ ``privacy``: personal data dropped first), ``store`` (+ ``db``: its
  migrations), ``quality/`` (the GX rulebook of expectations/, quarantine, corrections),
  ``figures``, ``report/`` (payload, changes, signing, documents), ``follow_up`` (receipts
  after acceptance), ``pipeline`` (each task's step) and ``tasks`` (what a task runs, errors);
- people: ``fmt`` (how numbers and codes are written), ``story`` (what each run did),
  ``quarantine`` (the steward's rows), ``ui/`` (the operator's and steward's pages: ``app`` the
  routes, ``pages/`` what each page shows, ``urls`` every page's path), ``alerts/`` (messages,
  notifiers, the deadline callback), ``cli`` (the steward's and maintainer's commands), ``files``
  (atomic writes, run slugs);
- Airflow: ``airflow_plugins/`` (timetable, deadline reference, pages; entry points),
  ``calendar_timetable``;
- running it here: ``demo`` (scripts/run_quarter.sh), ``serve/`` (scripts/serve.sh: the command,
  the installation's files, the sandbox and its connections, process supervision, Airflow's REST
  API, the printed guide), ``sandbox/`` (portal and intake servers implementing docs/contracts/,
  the data generator).
"""
