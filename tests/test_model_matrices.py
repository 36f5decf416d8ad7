"""estimation.model_matrices against lavInspect(fit, "est") and "cov.lv" (psych_reference.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from references import reference, reference_table

from sem_kit.engine.fit import model_matrices
from sem_kit.estimators.ml import fit_model

HS = reference("psych_holzinger")
DATA = reference_table("psych_holzinger.csv")


def _frame(nested: dict) -> pd.DataFrame:
    return pd.DataFrame(nested).T.astype(float)


@pytest.mark.parametrize("block", ["cfa", "hierarchical"])
def test_matrices_match_lavaan(block: str) -> None:
    ref = HS[block]
    mats = model_matrices(fit_model(ref["model"], DATA))
    for name, ours in [("lambda", mats.lambda_), ("theta", mats.theta), ("psi", mats.psi),
                       ("cov_lv", mats.cov_lv)] + ([("beta", mats.beta)] if "beta" in ref else []):
        theirs = _frame(ref[name])
        ours = ours.loc[theirs.index, theirs.columns]
        np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), atol=1e-5, err_msg=name)
    if "cor_lv" in ref:
        theirs = _frame(ref["cor_lv"])
        np.testing.assert_allclose(mats.cor_lv.loc[theirs.index, theirs.columns].to_numpy(),
                                   theirs.to_numpy(), atol=1e-5)
