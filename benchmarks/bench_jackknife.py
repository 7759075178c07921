"""Cost of the bias corrections of rho against the fit itself (issue 14).

HeckmanMFRegressor on make_selection_mf grids (rank 1, rho 0.4, 30% observed), at the
default penalties and at weak ones (1 / 0.1): the fit, jackknife_rho (one partition,
four warm-started half fits), bootstrap_rho(n_boot=2).bias_corrected() (the two-refit
correction, docs/inference.md), bias_corrected_rho (the two-point correction: two refits
at the fit's rho and two at the one-step corrected rho) and
bootstrap_rho(n_boot=30).bias_corrected(), median of 3
(one for the 30-refit bootstrap) after a warm-up call, side by side in one run. The 1.5e7-pair problem is not run here (a fit takes 90-200 s on
the 2-core machine).

Run: python benchmarks/bench_jackknife.py [--grids 200x150 400x300]
"""

import argparse
import warnings

from _common import median_time, write

from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.inference import bias_corrected_rho, bootstrap_rho, jackknife_rho


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", nargs="+", default=["200x150", "400x300"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for grid in args.grids:
        n_users, n_items = (int(v) for v in grid.split("x"))
        X, r, o, _ = make_selection_mf(n_users, n_items, n_factors=1, rho=0.4, density=0.3,
                                       random_state=0)
        for label, penalties in (("defaults", {}), ("1 / 0.1", dict(reg_factors=1.0,
                                                                      reg_bias=0.1))):
            est = HeckmanMFRegressor(n_factors=1, random_state=0, if_not_identified="estimate",
                                     rho_criterion="penalised", **penalties).fit(X, r, o)
            fit_s = median_time(lambda: est.fit(X, r, o), repeat=3)
            jk_s = median_time(lambda: jackknife_rho(est, X, r, o, n_partitions=1,
                                                     random_state=0), repeat=3)
            boot2_s = median_time(lambda: bootstrap_rho(est, X, n_boot=2,
                                                        random_state=0).bias_corrected(),
                                  repeat=3)
            linear_s = median_time(lambda: bias_corrected_rho(est, X, random_state=0),
                                   repeat=3)
            boot_s = median_time(lambda: bootstrap_rho(est, X, n_boot=30,
                                                       random_state=0).bias_corrected(),
                                 repeat=1)
            rows.append({"grid": grid, "penalties": label, "fit s": f"{fit_s:.3f}",
                         "jackknife s": f"{jk_s:.3f}", "jackknife / fit": f"{jk_s / fit_s:.2f}",
                         "bootstrap(2) s": f"{boot2_s:.3f}",
                         "(fit + bootstrap(2)) / fit": f"{(fit_s + boot2_s) / fit_s:.2f}",
                         "two-point s": f"{linear_s:.3f}",
                         "(fit + two-point) / fit": f"{(fit_s + linear_s) / fit_s:.2f}",
                         "bootstrap(30) s": f"{boot_s:.2f}",
                         "bootstrap / fit": f"{boot_s / fit_s:.1f}"})
            print(rows[-1], flush=True)
    write("bench_jackknife", rows, list(rows[0]),
          note="Median of 3 after a warm-up (the 30-refit bootstrap: one run, after a "
               "warm-up), one run, "
               "2-core machine.")


if __name__ == "__main__":
    main()
