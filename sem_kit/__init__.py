"""sem_kit: from survey responses and a questionnaire to a structural-equation-model report."""

from __future__ import annotations

from sem_kit.errors import DataError, InputError, QuestionnaireError
from sem_kit.questionnaire import Questionnaire, load_questionnaire
from sem_kit.version import __version__

_LAZY = {"AnalysisResult", "Options", "analyze"}


def __getattr__(name: str) -> object:
    """Import the analysis pipeline on first use, so ``sem-kit --help`` starts fast."""
    if name in _LAZY:
        from sem_kit import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'sem_kit' has no attribute {name!r}")


__all__ = [
    "AnalysisResult",
    "Options",
    "analyze",
    "DataError",
    "InputError",
    "Questionnaire",
    "QuestionnaireError",
    "__version__",
    "load_questionnaire",
]
