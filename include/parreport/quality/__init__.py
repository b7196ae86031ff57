"""Data quality: de-duplication (INDICATORS.md §2) and validation by the Great Expectations
suites of ``parreport/expectations/`` (§5); see validation.py."""
from .contract import FINISHED_STATUSES, RECEIVED_STATUSES, valid_timestamp
from .dedupe import DedupeResult, dedupe, dedupe_by, dedupe_procedures
from .rules import BLOCKING_RULES, RULE_TITLES, WARNING_RULES, rule_title

__all__ = [
    "BLOCKING_RULES",
    "FINISHED_STATUSES",
    "RECEIVED_STATUSES",
    "RULE_TITLES",
    "WARNING_RULES",
    "DedupeResult",
    "dedupe",
    "dedupe_by",
    "dedupe_procedures",
    "rule_title",
    "valid_timestamp",
]
