"""sem_kit: from survey responses and a questionnaire to a structural-equation-model report."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from sem_kit.errors import DataError, InputError, QuestionnaireError
from sem_kit.pipeline import AnalysisResult, Options, analyze
from sem_kit.questionnaire import Questionnaire, load_questionnaire

try:
    __version__ = version("sem_kit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

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
