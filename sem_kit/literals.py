"""Option values of a run, defined once (DESIGN.md "CLI").

The CLI reads its ``choices`` from here, :class:`sem_kit.pipeline.Options`
checks against them and the estimator dispatcher
(:func:`sem_kit.estimators.dispatch.fit_estimator`) dispatches on them.
"""

from __future__ import annotations

from typing import Final

#: ``--estimator``: lavaan's estimator names, in the order the CLI lists them.
ESTIMATORS: Final = ("ML", "MLR", "MLM", "WLSMV")
#: ``--missing``: listwise deletion, or full-information ML on every screened row.
MISSING: Final = ("listwise", "fiml")
#: ``--lang``: report languages.
LANGS: Final = ("en", "zh")
#: ``--screen``: the screening rules of the questionnaire, or none of them.
SCREENS: Final = ("default", "none")

#: The estimators that give a scaled test and robust standard errors from ML estimates.
ROBUST_ESTIMATORS: Final = ("MLM", "MLR")
