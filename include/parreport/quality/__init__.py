"""Data quality: per-record validation rules and de-duplication (INDICATORS.md §2, §5)."""
from .dedupe import DedupeResult, dedupe, dedupe_by, dedupe_procedures
from .rules import (
    BLOCKING_RULES,
    RULE_TITLES,
    WARNING_RULES,
    RuleContext,
    Violation,
    check_dossier,
    check_dossier_warnings,
    check_procedure,
    check_rating,
    check_unit,
    parse_timestamp,
    valid_timestamp,
)

__all__ = [
    "BLOCKING_RULES",
    "RULE_TITLES",
    "WARNING_RULES",
    "DedupeResult",
    "RuleContext",
    "Violation",
    "check_dossier",
    "check_dossier_warnings",
    "check_procedure",
    "check_rating",
    "check_unit",
    "dedupe",
    "dedupe_by",
    "dedupe_procedures",
    "parse_timestamp",
    "valid_timestamp",
]
