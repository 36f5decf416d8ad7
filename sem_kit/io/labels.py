"""Answer labels that survey platforms write instead of numbers.

A platform's "answers as text" download writes each answer's label: the
agreement series (``Strongly disagree`` ... ``Strongly agree``,
``非常不同意`` ... ``非常同意``), the 符合 series of Chinese questionnaires
(``非常不符合`` ... ``非常符合``), in 5- and 7-point versions; LimeSurvey's
code download writes answer codes ``A1`` ... ``A7`` (``AO01`` ... in
LimeSurvey 4 and later). :func:`series_labels` gives, for a scale of *K*
points from ``min``, the number each known label stands for; the
questionnaire's own ``value_labels:`` and scale labels come first (see
:func:`sem_kit.io.ingest.read_responses`).

A label means a position on the scale, so the same word stands for
different numbers on a 5- and a 7-point scale (``Agree`` is 4 of 5 and 6
of 7): the series are chosen by the item's scale, never guessed from the
answers.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

SERIES: dict[int, tuple[tuple[str, ...], ...]] = {
    5: (
        ("strongly disagree", "disagree", "neither agree nor disagree", "agree",
         "strongly agree"),
        ("strongly disagree", "somewhat disagree", "neither agree nor disagree",
         "somewhat agree", "strongly agree"),
        ("strongly disagree", "disagree", "neutral", "agree", "strongly agree"),
        ("strongly disagree", "disagree", "undecided", "agree", "strongly agree"),
        ("strongly disagree", "disagree", "neither agree or disagree", "agree",
         "strongly agree"),
        ("非常不同意", "不同意", "一般", "同意", "非常同意"),
        ("非常不同意", "比较不同意", "不确定", "比较同意", "非常同意"),
        ("完全不同意", "不同意", "中立", "同意", "完全同意"),
        ("非常不同意", "不太同意", "说不清", "比较同意", "非常同意"),
        ("非常不符合", "不符合", "一般", "符合", "非常符合"),
        ("非常不符合", "比较不符合", "不确定", "比较符合", "非常符合"),
        ("完全不符合", "不太符合", "说不清", "基本符合", "完全符合"),
    ),
    7: (
        ("strongly disagree", "disagree", "somewhat disagree", "neither agree nor disagree",
         "somewhat agree", "agree", "strongly agree"),
        ("strongly disagree", "moderately disagree", "slightly disagree", "neutral",
         "slightly agree", "moderately agree", "strongly agree"),
        ("strongly disagree", "disagree", "slightly disagree", "neither disagree nor agree",
         "slightly agree", "agree", "strongly agree"),
        ("strongly disagree", "disagree", "somewhat disagree", "neither agree or disagree",
         "somewhat agree", "agree", "strongly agree"),
        ("非常不同意", "不同意", "有点不同意", "一般", "有点同意", "同意", "非常同意"),
        ("非常不同意", "不同意", "比较不同意", "中立", "比较同意", "同意", "非常同意"),
        ("完全不同意", "不同意", "有些不同意", "说不清", "有些同意", "同意", "完全同意"),
        ("非常不符合", "不符合", "比较不符合", "一般", "比较符合", "符合", "非常符合"),
        ("完全不符合", "不符合", "有点不符合", "不确定", "有点符合", "符合", "完全符合"),
    ),
}
"""The known label series by number of points; each tuple runs from the lowest
answer to the highest. Labels are compared after :func:`fold`. Within one
scale size a label has one position in every series that holds it (checked
by the tests), so the series of one size merge into one table."""

LIMESURVEY_CODE = re.compile(r"^A[O0]?(\d{1,2})$", re.IGNORECASE)
"""LimeSurvey answer codes: ``A1`` ... (``AO01`` ... since LimeSurvey 4)."""

_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """A label as compared: full-width forms folded (NFKC), case-folded, spaces single."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


@cache
def series_labels(points: int) -> dict[str, int]:
    """Folded label -> position (1-based) in the known series of ``points`` points.

    Parameters
    ----------
    points:
        The number of answer categories (5 or 7; other sizes have no series).

    Returns
    -------
    dict
        Empty for a size without known series.
    """
    table: dict[str, int] = {}
    for series in SERIES.get(points, ()):
        for position, label in enumerate(series, start=1):
            table.setdefault(fold(label), position)
    return table


def answer_code(text: str, points: int | None = None) -> int | None:
    """The position a LimeSurvey answer code stands for (``A3`` -> 3), or ``None``.

    Parameters
    ----------
    text:
        The cell's text.
    points:
        The scale's number of points: a code beyond it is not a code.
    """
    match = LIMESURVEY_CODE.match(text.strip())
    if match is None:
        return None
    position = int(match.group(1))
    if position < 1 or (points is not None and position > points):
        return None
    return position
