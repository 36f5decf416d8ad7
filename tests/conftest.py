"""Shared fixtures: one BLAS thread for the session, the built-in questionnaire, and the
analyses of the bundled sample data, each run once per set of options.

The paths of the test data and the loader of the stored references are in
tests/references.py (test modules need them at import time).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator

import pytest
from references import SAMPLE

from sem_kit import AnalysisResult, Questionnaire, analyze, load_questionnaire
from sem_kit.engine.threads import one_blas_thread

#: The sample data's bytes when the session began (no run may change the file).
SAMPLE_AT_START = SAMPLE.read_bytes()


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread() -> Iterator[None]:
    """Every test under one BLAS thread, as ``analyze`` and the refits run: the fits of
    small matrices called directly by the tests are several times faster so (measured
    36 s -> 15 s for the estimator reference tests on a busy two-core machine)."""
    with one_blas_thread():
        yield


@pytest.fixture(scope="session")
def builtin_questionnaire() -> Questionnaire:
    """The built-in questionnaire (customer-knowledge-sharing); it is immutable."""
    return load_questionnaire()


@pytest.fixture(scope="session")
def sample_run() -> Callable[..., AnalysisResult]:
    """``sample_run(**options)``: ``analyze(SAMPLE, **options)`` with the built-in
    questionnaire, run once per set of options in the session.

    Each call returns a deep copy of the stored result, so a test that changes what it
    got cannot change another test's. ``sample_run.original`` holds the file's bytes at
    the start of the session.
    """
    done: dict[tuple, AnalysisResult] = {}

    def run(**options: object) -> AnalysisResult:
        key = tuple(sorted(options.items()))
        if key not in done:
            done[key] = analyze(SAMPLE, **options)
        return copy.deepcopy(done[key])

    run.original = SAMPLE_AT_START
    return run
