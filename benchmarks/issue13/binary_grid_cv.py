"""BivariateProbitMFCV at its defaults on issue 13's binary grid (1000 x 600, rank 4, true rho
0.5, 10% observed): the setting chosen by 3-fold held-out log-likelihood, and its rho_.

Usage: python benchmarks/issue13/binary_grid_cv.py
Appends a row to benchmarks/results/binary_grid_defaults.jsonl.
"""
import json
import time
import warnings
from pathlib import Path

import numpy as np

from heckrec import BivariateProbitMFCV
from heckrec.datasets import make_selection_mf

OUT = Path(__file__).resolve().parents[1] / "results" / "binary_grid_defaults.jsonl"

X, r, o, truth = make_selection_mf(1000, 600, n_factors=4, rho=0.5, density=0.1,
                                   outcome="binary", random_state=0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    start = time.perf_counter()
    cv = BivariateProbitMFCV(random_state=0).fit(X, r, o)
    seconds = time.perf_counter() - start
g_r = cv.best_estimator_.decision_scores(X)[1]
row = {"setting": "BivariateProbitMFCV defaults", "best_params": cv.best_params_,
       "rho_hat": cv.rho_, "rho_se": cv.rho_se_, "rho_free": cv.best_estimator_.rho_free_,
       "degenerate": cv.degenerate_ is not None,
       "rmse_g_r": float(np.sqrt(np.mean((g_r - truth["g_r"]) ** 2))), "fit_s": seconds,
       "warnings": sorted({w.category.__name__ for w in caught})}
print(row, flush=True)
with OUT.open("a") as handle:
    handle.write(json.dumps(row) + "\n")
