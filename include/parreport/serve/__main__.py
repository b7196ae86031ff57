"""``python -m parreport.serve`` (what ``scripts/serve.sh`` runs; see :mod:`.run`)."""
import sys

from .run import main

sys.exit(main())
