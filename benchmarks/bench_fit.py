"""HeckmanMFRegressor fit time and rho error on simulated data of growing size.

Full user x item grids, rank-4 truth, rho = 0.6, sigma = 1, 10% observed, user and
item bias spread 0.8 (a design where rho is identified, see docs/model.md). Each size
is fitted once by each solver (rank 4, reg_factors = 5): L-BFGS alone, and block-coordinate
Newton sweeps handing over to L-BFGS; the fit time, then the extra time for the profiled
standard errors.

Run: python benchmarks/bench_fit.py [--quick]      (grids up to 2e6 pairs)
     python benchmarks/bench_fit.py --largest      (1.54e7 pairs)
"""

import sys

from _common import timed_fit, write

from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_mf

GRIDS = [(300, 200), (1000, 600), (2000, 1000)]
LARGEST = [(15400, 1000)]  # Yahoo! R3's full grid: about 6 minutes for both, so on its own
SOLVERS = ("lbfgs", "block-newton")


def fit_row(X, r, o, solver):
    """One timed fit (then its SEs) and what it estimated."""
    est = HeckmanMFRegressor(n_factors=4, reg_factors=5.0, reg_bias=1.0, solver=solver,
                             rho_criterion="penalised", random_state=0)
    fit_seconds, se_seconds, caught = timed_fit(est, X, r, o)
    return {
        "pairs": f"{X.shape[0]:,}", "observed": f"{int(o.sum()):,}", "solver": solver,
        "fit s": f"{fit_seconds:.1f}", "sweeps": est.n_sweeps_,
        "L-BFGS iterations": est.n_iter_,
        "converged": est.converged_, "degenerate": est.degenerate_ or "no",
        "SE s": f"{se_seconds:.1f}",
        "rho (truth 0.6)": f"{est.rho_:.4f}", "rho SE": f"{est.rho_se_:.4f}",
        "rho error / SE": f"{(est.rho_ - 0.6) / est.rho_se_:.1f}",
        "sigma (truth 1)": f"{est.sigma_:.4f}",
        "objective / pair": f"{est.objective_ / est.n_pairs_:.9f}",
        "warnings": caught,
    }


def main():
    grids = GRIDS[:2] if "--quick" in sys.argv else GRIDS
    if "--largest" in sys.argv:
        grids = LARGEST
    rows = []
    for n_users, n_items in grids:
        X, r, o, truth = make_selection_mf(n_users, n_items, n_factors=4, rho=0.6, sigma=1.0,
                                           density=0.1, bias_scale=0.8, random_state=0)
        for solver in SOLVERS:
            rows.append(fit_row(X, r, o, solver))
            print(rows[-1], flush=True)
    write("fit_largest" if "--largest" in sys.argv else "fit", rows, list(rows[0]),
          note="One fit per size and solver (rank 4, reg_factors 5, reg_bias 1), then the SEs.")


if __name__ == "__main__":
    main()
