"""The quarter's figures in one pass: each dossier is classified once and counted in Biểu 06 and
in the indicators together (what ``pipeline.compute`` runs on the store's streamed records);
the same numbers as :func:`.bieu06.compute_bieu06` and :func:`.indicators.compute_indicators`."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..periods import Window
from .bieu06 import Bieu06Tally
from .classify import bounds, classify_bounded
from .indicators import IndicatorTally
from .records import Dossier, Rating, as_dossiers, as_ratings
from .scopes import ProcedureIndex, Scopes

__all__ = ["compute_quarter"]


def compute_quarter(dossiers: Iterable[Mapping | Dossier], ratings: Iterable[Mapping | Rating],
                    procedures: Iterable[Mapping] | ProcedureIndex, units: Iterable[Mapping], agency: str,
                    window: Window, targets: Mapping[str, Any]) -> tuple[list[dict], list[dict]]:
    """``(Biểu 06 rows, ChiTieu items)`` of the window, reading ``dossiers`` and ``ratings`` once."""
    index = ProcedureIndex.of(procedures)
    scopes = Scopes(units, agency)
    bieu06 = Bieu06Tally(index)
    indicators = IndicatorTally(index, scopes, window)
    indicators.add_procedures()
    start, end, end_date = bounds(window)
    for d in as_dossiers(dossiers):
        c = classify_bounded(d, start, end, end_date)
        bieu06.add(d, c)
        indicators.add_dossier(d, c)
    for r in as_ratings(ratings):
        indicators.add_rating(r)
    return bieu06.rows(), indicators.items(targets)
