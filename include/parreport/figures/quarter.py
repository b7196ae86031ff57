"""The quarter's figures in one pass: each dossier is classified once and counted in Biểu 06 and
in the indicators together; the same numbers as :func:`.bieu06.compute_bieu06` and
:func:`.indicators.compute_indicators`.

:func:`compute_quarter_from_texts` is what ``pipeline.compute`` runs on the store's streamed
JSON texts: the dossiers are counted a part at a time (:func:`tally_dossier_texts`), in the
task's process and — for a large window — in helper processes too (``quality.chunks.spread``),
and the parts' integer counts are added up: sums do not depend on who counted what."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..periods import Window
from .bieu06 import Bieu06Tally
from .classify import bounds, classify_bounded
from .indicators import IndicatorTally
from .records import Dossier, Rating, as_dossiers, as_ratings, dossiers_from_json
from .scopes import ProcedureIndex, Scopes

__all__ = ["compute_quarter", "compute_quarter_from_texts", "tally_dossier_texts"]


def _tallies(procedures: Iterable[Mapping] | ProcedureIndex, units: Iterable[Mapping], agency: str,
             window: Window) -> tuple[Bieu06Tally, IndicatorTally]:
    index = ProcedureIndex.of(procedures)
    return Bieu06Tally(index), IndicatorTally(index, Scopes(units, agency), window)


def _add_dossiers(dossiers: Iterable[Dossier], bieu06: Bieu06Tally, indicators: IndicatorTally,
                  window: Window) -> None:
    """Each dossier classified once, counted in Biểu 06 and in the indicators."""
    start, end, end_date = bounds(window)
    for d in dossiers:
        c = classify_bounded(d, start, end, end_date)
        bieu06.add(d, c)
        indicators.add_dossier(d, c)


def _finish(bieu06: Bieu06Tally, indicators: IndicatorTally, ratings: Iterable[Mapping | Rating],
            targets: Mapping[str, Any]) -> tuple[list[dict], list[dict]]:
    for r in as_ratings(ratings):
        indicators.add_rating(r)
    return bieu06.rows(), indicators.items(targets)


def compute_quarter(dossiers: Iterable[Mapping | Dossier], ratings: Iterable[Mapping | Rating],
                    procedures: Iterable[Mapping] | ProcedureIndex, units: Iterable[Mapping], agency: str,
                    window: Window, targets: Mapping[str, Any]) -> tuple[list[dict], list[dict]]:
    """``(Biểu 06 rows, ChiTieu items)`` of the window, reading ``dossiers`` and ``ratings`` once."""
    bieu06, indicators = _tallies(procedures, units, agency, window)
    indicators.add_procedures()
    _add_dossiers(as_dossiers(dossiers), bieu06, indicators, window)
    return _finish(bieu06, indicators, ratings, targets)


# Dossiers per part: a part's texts wait in the task's memory until a helper takes them (up to
# six parts: chunks.spread's first four and two per helper), and counting them is cheap — small
# parts keep that to a few tens of MiB; the counts sent back are a few hundred integers.
PART = 5_000


def tally_dossier_texts(procedures: list[Mapping], units: list[Mapping], agency: str, window: Window,
                        texts: list[str]) -> tuple[dict, dict]:
    """Biểu 06's and the indicators' counts of some dossiers (their JSON texts), to be added to
    the other parts' (:meth:`.bieu06.Bieu06Tally.merge`, :meth:`.indicators.IndicatorTally.merge`)."""
    bieu06, indicators = _tallies(procedures, units, agency, window)
    _add_dossiers(dossiers_from_json(texts), bieu06, indicators, window)
    return bieu06.counts, indicators.counts


def compute_quarter_from_texts(dossier_texts: Iterable[str], ratings: Iterable[Mapping | Rating],
                               procedures: list[Mapping], units: list[Mapping], agency: str, window: Window,
                               targets: Mapping[str, Any], helpers: int | None = None) -> tuple[list[dict], list[dict]]:
    """:func:`compute_quarter` of dossiers given as JSON texts, counted in parts of :data:`PART`
    on every core the task has (``helpers``: as ``chunks.spread``)."""
    from ..quality.chunks import batches, spread  # not at import: a helper counting a part needs none of it

    bieu06, indicators = _tallies(procedures, units, agency, window)
    indicators.add_procedures()
    for b_counts, i_counts in spread(tally_dossier_texts, (list(procedures), list(units), agency, window),
                                     batches(dossier_texts, PART), helpers, doing="tính số liệu hồ sơ"):
        bieu06.merge(b_counts)
        indicators.merge(i_counts)
    return _finish(bieu06, indicators, ratings, targets)
