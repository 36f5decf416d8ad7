"""Write the results.json of five fixed-seed runs on the sample data (the regression baseline).

Run from the repository root with the project's virtualenv:

    .venv/bin/python tests/regression/make_before.py

tests/test_regression_results.py holds every later version to these files (numbers
to 1e-6 relative). They were written before the engine redesign of issue #13 and
are to be regenerated only when a change of numbers is intended and explained.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sem_kit import AnalysisResult

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = ROOT / "data" / "sample_responses.csv"

# name -> analyze() keyword arguments; seed fixed, two jobs give the resamples of one job
RUNS: dict[str, dict] = {
    "ml_boot1000": {"bootstrap": 1000, "seed": 20261202},
    "mlr": {"estimator": "MLR", "bootstrap": 0, "seed": 1},
    # WLSMV asked for a bootstrap, as tests/test_pipeline_fiml_wlsmv.py asks (none is run)
    "wlsmv": {"estimator": "WLSMV", "bootstrap": 200, "seed": 5},
    "fiml_boot200": {"missing": "fiml", "bootstrap": 200, "seed": 20261202},
    "group_gender": {"group": "gender", "bootstrap": 0, "seed": 1},
}


def results(name: str) -> dict:
    """results.json of run ``name`` (with the input path made relative to the repo)."""
    import sem_kit

    return stored(sem_kit.analyze(DATA, **RUNS[name]))


def stored(res: AnalysisResult) -> dict:
    """results.json of the result ``res`` of a run of RUNS as this baseline stores it."""
    out = res.to_dict()
    out["meta"]["input"]["path"] = "data/sample_responses.csv"
    out["meta"].pop("tool_version", None)
    return json.loads(json.dumps(out, allow_nan=True))


def main(names: list[str]) -> None:
    for name in names or list(RUNS):
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(results(name), indent=1, ensure_ascii=False, allow_nan=True)
                        + "\n", encoding="utf-8")
        print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    main(sys.argv[1:])
