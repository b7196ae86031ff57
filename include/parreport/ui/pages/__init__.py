"""What each page shows, read from the pipeline's store and data directory (read only) and worded
for people through :mod:`parreport.fmt`; one module per page, each function returning plain dicts
for its template (``../templates/``):

- :mod:`.quarters`: ``/`` the quarters at a glance (``quarters_overview``);
- :mod:`.run`: ``/tom-tat/…`` what one run did (``run_story``);
- :mod:`.quarantine`: ``/cach-ly/…`` a run's quarantine and its download (``quarantine_view``,
  ``quarantine_export``);
- :mod:`.receipt`: ``/bien-nhan/…`` a receipt (``receipt_view``);
- :mod:`.documents`: ``/bao-cao/…/`` the documents of each version (``documents_view``);
- :mod:`.evidence`: ``/data-docs/…/`` the evidence of each run (``evidence_view``);
- shared by them: :mod:`.runs` (what a run came to, from ``store.run_events``) and :mod:`.common`
  (a window, an agency, a receipt's state, the steward's commands, the report versions).

Nothing here writes.
"""
from .common import agency_view, window_view
from .documents import documents_view
from .evidence import evidence_view
from .quarantine import quarantine_export, quarantine_view
from .quarters import quarters_overview
from .receipt import receipt_view
from .run import run_story
from .runs import run_outcome

__all__ = ["quarters_overview", "run_story", "quarantine_view", "quarantine_export", "receipt_view",
           "documents_view", "evidence_view", "run_outcome", "window_view", "agency_view"]
