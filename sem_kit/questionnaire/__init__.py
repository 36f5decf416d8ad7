"""Questionnaire definitions: the YAML format, its checks, and the built-in ones."""

from sem_kit.questionnaire.loader import (
    DEFAULT_QUESTIONNAIRE,
    builtin_names,
    builtin_text,
    load_questionnaire,
    parse_questionnaire,
)
from sem_kit.questionnaire.model import Questionnaire
from sem_kit.questionnaire.schema import Scale

__all__ = [
    "DEFAULT_QUESTIONNAIRE",
    "Questionnaire",
    "Scale",
    "builtin_names",
    "builtin_text",
    "load_questionnaire",
    "parse_questionnaire",
]
