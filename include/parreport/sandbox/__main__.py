"""``python -m parreport.sandbox serve ...`` (see runner.py)."""
import sys

from .runner import main

sys.exit(main())
