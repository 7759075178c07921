"""The spread of bias_corrected_rho's replications against the fit's SE (docs/inference.md).

One dataset of the coverage study's 400 x 300 continuous design (rank 1, true rho 0.8,
penalties 1 / 0.1, seed given): eight replications at theta_hat, refitted warm from
theta_hat as the correction does, at the default tol and at tol 1e-10, then refitted
cold. Prints the replications' mean bias and SD of atanh(rho) beside the fit's SE.

Usage: python benchmarks/replication_noise.py [seed]
"""
import copy
import sys
import time
import warnings

import numpy as np

from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.inference._api import _refit_simulated

warnings.simplefilter("ignore")
seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
settings = {"n_factors": 1, "random_state": 0, "reg_factors": 1.0, "reg_bias": 0.1,
            "rho_criterion": "penalised"}
X, r, o, _ = make_selection_mf(400, 300, n_factors=1, rho=0.8, density=0.3,
                               outcome="continuous", random_state=seed)
est = HeckmanMFRegressor(**settings).fit(X, r, o)
a_hat, se_a = np.arctanh(est.rho_), est.rho_se_ / (1 - est.rho_**2)
print(f"fit: rho_ {est.rho_:.4f} +- {est.rho_se_:.4f}; SE of atanh(rho) {se_a:.4f}")
print("| refits | mean a* - a_hat | SD of a* | SE(a) of the fit | iterations | seconds |")
print("|---|---|---|---|---|---|")
for label, tol in (("warm, default tol", None), ("warm, tol 1e-10", 1e-10)):
    start, values, iterations = time.perf_counter(), [], []
    for j in range(8):
        fitted = copy.deepcopy(est)
        if tol:
            fitted.set_params(tol=tol)
        refit = _refit_simulated(fitted, X, None, 1000 + j, None, est.theta_.copy())
        values.append(np.arctanh(refit.rho_))
        iterations.append(refit.n_iter_)
    values = np.array(values)
    print(f"| {label} | {values.mean() - a_hat:+.4f} | {values.std(ddof=1):.4f} | {se_a:.4f} "
          f"| {int(np.median(iterations))} | {time.perf_counter() - start:.1f} |")
start, values = time.perf_counter(), []
for j in range(8):
    y_b, o_b = est.simulate(X, random_state=1000 + j)
    values.append(np.arctanh(HeckmanMFRegressor(compute_se=False, **settings)
                             .fit(X, y_b, o_b).rho_))
values = np.array(values)
print(f"| cold | {values.mean() - a_hat:+.4f} | {values.std(ddof=1):.4f} | {se_a:.4f} | "
      f"| {time.perf_counter() - start:.1f} |")
