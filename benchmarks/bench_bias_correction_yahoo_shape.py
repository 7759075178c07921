"""The two-point bias correction on issue 15's Yahoo-shaped log (docs/benchmarks.md).

The simulated log of `bench_scale.py` (15,400 x 1,000, rank 4, rho 0.5, 2% observed;
make_selection_log, seed 0), listed as the grid of its users x items (the correction
simulates o at every pair, so it needs the listed fit), HeckmanMFRegressor(n_factors=4) at
its defaults: the fit with its SEs, then bias_corrected_rho(est, X, random_state=0)
(2 + 2 warm-started refits). Prints and writes one row.

Usage: python benchmarks/bench_bias_correction_yahoo_shape.py
"""
import numpy as np
from _common import fit_then_correct, write

from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_log

TRUE_RHO = 0.5


def listed_grid(X, r):
    """Every pair of the log's users x items, o = 1 where the log has it."""
    users, items = np.unique(X[:, 0]), np.unique(X[:, 1])
    cell = np.searchsorted(users, X[:, 0]) * items.size + np.searchsorted(items, X[:, 1])
    o = np.zeros(users.size * items.size, dtype=np.int8)
    o[cell] = 1
    y = np.zeros(o.size)
    y[cell] = r
    row, column = np.divmod(np.arange(o.size), items.size)
    return np.column_stack([users[row], items[column]]), y, o


def main():
    X_log, r_log, _ = make_selection_log(15_400, 1_000, n_factors=4, rho=TRUE_RHO,
                                         density=0.02, random_state=0)
    X, y, o = listed_grid(X_log, r_log)
    del X_log, r_log
    # penalised: the fit bias_corrected_rho is written for ("auto" would move to the
    # evidence here)
    est = HeckmanMFRegressor(n_factors=4, rho_criterion="penalised", random_state=0)
    fit_s, res, correction_s, warned = fit_then_correct(est, X, y, o)
    low, high = res.conf_int()
    row = {"pairs": f"{X.shape[0]:,}", "observed": f"{int(o.sum()):,}",
           "rho_ (truth 0.5)": f"{est.rho_:+.4f} +- {est.rho_se_:.4f}",
           "structural SE": f"{est.rho_structural_se_:.3g}",
           "corrected rho": f"{res.estimate:+.4f} +- {res.se:.4f}",
           "95% interval": f"[{low:+.3f}, {high:+.3f}]",
           "one-step": f"{res.one_step_estimate:+.4f}", "bias slope": f"{res.bias_slope:+.3f}",
           "fit s (with SEs)": f"{fit_s:.1f}", "correction s": f"{correction_s:.1f}",
           "cost (fits)": f"{(fit_s + correction_s) / fit_s:.2f}",
           "warnings": warned}
    print(row, flush=True)
    write("bias_correction_yahoo_shape", [row], list(row),
          note="HeckmanMFRegressor(n_factors=4, rho_criterion='penalised') defaults otherwise, "
               "on the listed grid of "
               "bench_scale.py's Yahoo-shaped log; bias_corrected_rho(est, X, random_state=0).")


if __name__ == "__main__":
    main()
