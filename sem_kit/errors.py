"""Errors that end a run with exit code 2 (bad input) and a message for the user.

Every message names what is wrong and where: the file, the key path or the
column and row, the value found, and what was expected. The CLI prints
``str(error)`` and exits 2; it never prints a traceback for these.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input from the user: a data file, a questionnaire or an option.

    Parameters
    ----------
    message:
        What is wrong and what would be right.
    file:
        The file at fault, if any; it is put before the message.
    """

    def __init__(self, message: str, file: str | Path | None = None) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        super().__init__(f"{self.file}: {message}" if self.file else message)


class QuestionnaireError(InputError):
    """A questionnaire file that does not follow the format (a key path is named)."""


class DataError(InputError):
    """A responses file that cannot be analysed (column, row and value are named)."""
