"""--estimator MLR through the structural stage, held to lavaan's sem(..., estimator = "MLR").

The reference is estimators_ninefactor_mlr.json (estimators_reference.R): the built-in
model on tests/reference/data/sim_ninefactor.csv.
"""

from __future__ import annotations

import pandas as pd
import pytest
from references import reference, reference_table

from sem_kit import load_questionnaire
from sem_kit.pipeline import Options
from sem_kit.structural.stage import structural_model

MLR = reference("estimators_ninefactor_mlr")
SCALED = {"chisq_scaled": "chisq.scaled", "df_scaled": "df.scaled",
          "pvalue_scaled": "pvalue.scaled", "scaling_factor": "chisq.scaling.factor",
          "cfi_scaled": "cfi.scaled", "tli_scaled": "tli.scaled", "rmsea_scaled": "rmsea.scaled",
          "cfi_robust": "cfi.robust", "tli_robust": "tli.robust", "rmsea_robust": "rmsea.robust"}


@pytest.fixture(scope="module")
def result():
    data = reference_table(MLR["data_file"])
    return structural_model(load_questionnaire(), data, bootstrap=0, estimator="MLR")


def test_mlr_scaled_and_robust_fit_measures(result) -> None:
    fit = result.fit_measures
    for ours, theirs in SCALED.items():
        ref = MLR["fit"][theirs]
        if ours in ("chisq_scaled", "scaling_factor", "df_scaled"):
            assert fit[ours] == pytest.approx(ref, rel=0.01), ours
        else:
            assert fit[ours] == pytest.approx(ref, abs=1e-3), ours
    block = result.to_dict()["fit"]
    assert set(SCALED) <= set(block)


def test_mlr_path_standard_errors_are_robust(result) -> None:
    est = pd.DataFrame(MLR["estimates"])
    est = est[est.op == "~"].set_index(["lhs", "rhs"])
    for row in result.paths.to_dict("records"):
        lav = est.loc[(row["to"], row["from"])]
        assert row["est"] == pytest.approx(lav["est"], abs=1e-3)
        assert row["se"] == pytest.approx(lav["se"], rel=0.01)


def test_fiml_with_another_estimator_is_refused_clearly() -> None:
    from sem_kit.errors import InputError

    for estimator in ("MLM", "MLR", "WLSMV"):
        with pytest.raises(InputError, match=f"--missing fiml with --estimator {estimator}"):
            Options(estimator=estimator, missing="fiml").check()
    for estimator in ("ML", "MLM", "MLR", "WLSMV"):
        Options(estimator=estimator).check()
    Options(missing="fiml").check()
