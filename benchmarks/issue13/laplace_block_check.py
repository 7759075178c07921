"""The block-diagonal log det of heckrec.models._laplace against the dense one (docs/model.md).

Binary 300 x 200 grid, biases only, 10% observed, true rho 0.6, reg_bias 10: at fixed rho in
{0, 0.3, 0.6, 0.9}, log m with the block-diagonal H_rows (log_marginal_) and with the dense
H_rows (every user-item cross term, from differenced analytic gradients of the objective).

Usage: python benchmarks/issue13/laplace_block_check.py
"""
import sys
from pathlib import Path

import numpy as np

from heckrec import BivariateProbitMF
from heckrec.datasets import make_selection_mf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import dense_row_hessian, fit_keeping_objective  # noqa: E402

X, r, o, _ = make_selection_mf(300, 200, n_factors=0, rho=0.6, density=0.1, outcome="binary",
                               random_state=0)
print("| rho | log m, blocks | log m, dense | blocks - dense |\n|---|---|---|---|")
for rho in (0.0, 0.3, 0.6, 0.9):
    est = BivariateProbitMF(0, reg_bias=10.0, fixed_rho=rho, rho_criterion="laplace",
                            compute_se=False, random_state=0)
    objective = fit_keeping_objective(est, X, r, o)
    theta, layout = est.theta_, est._layout
    rows = np.concatenate(list(layout.prior_groups().values()))
    H = dense_row_hessian(objective, theta, layout)
    prior = objective.penalty[rows]
    dense = (-est.objective_ - 0.5 * np.linalg.slogdet(H)[1]
             + 0.5 * float(np.log(prior[prior > 0]).sum()))
    print(f"| {rho:.1f} | {est.log_marginal_:.2f} | {dense:.2f} | "
          f"{est.log_marginal_ - dense:+.2f} |", flush=True)
