"""The two-point bias correction's cost on the 1.5e7-pair problem (issue 14: <= 3 fits).

bench_fit.py --largest's problem (Yahoo! R3's full grid, 15,400 x 1,000 pairs, rank 4,
10% observed, true rho 0.6), HeckmanMFRegressor(reg_factors=5, reg_bias=1,
solver="block-newton"): the fit with its standard errors, then
``bias_corrected_rho(est, X)`` (two refits at rho_, two at the one-step value, each
warm-started), one run each, side by side.

Run: python benchmarks/bench_bias_correction_large.py
"""

from _common import fit_then_correct, write

from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_mf


def main():
    X, r, o, _ = make_selection_mf(15400, 1000, n_factors=4, rho=0.6, sigma=1.0, density=0.1,
                                   bias_scale=0.8, random_state=0)
    est = HeckmanMFRegressor(n_factors=4, reg_factors=5.0, reg_bias=1.0,
                             solver="block-newton", rho_criterion="penalised", random_state=0)
    fit_s, res, correction_s, _ = fit_then_correct(est, X, r, o)
    low, high = res.conf_int()
    row = {"pairs": f"{X.shape[0]:,}", "fit s (with SEs)": f"{fit_s:.1f}",
           "two-point s": f"{correction_s:.1f}",
           "(fit + two-point) / fit": f"{(fit_s + correction_s) / fit_s:.2f}",
           "rho_": f"{est.rho_:.4f} +- {est.rho_se_:.4f}",
           "corrected": f"{res.estimate:.4f} +- {res.se:.4f}",
           "interval": f"[{low:.4f}, {high:.4f}]", "slope": f"{res.bias_slope:.3f}",
           "truth": "0.6"}
    print(row, flush=True)
    write("bias_correction_large", [row], list(row),
          note="One run of each, 2-core machine, nothing else running.")


if __name__ == "__main__":
    main()
