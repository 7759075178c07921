"""Binary-outcome likelihoods compared: mc (n_draws 50, 100, 500), ghk and exact.

1. One likelihood + gradient pass of the MF model (k = 8) at a fixed theta:
   median time, and the error of the log-likelihood against exact (per
   observed pair).
2. Fits on simulated data (biases only, true rho 0.6): fit time, rho_, its
   distance to the truth and to the exact fit, the exact log-likelihood at
   the estimate. mc uses the paper's alternating steps (max_iter bounds the
   rounds at max_iter / 20).

Run: python benchmarks/bench_binary.py [n_users n_items]   (defaults 500 400)
"""

import sys
import time
import warnings

import numpy as np
from _common import median_time, write

from heckrec import BivariateProbitMF
from heckrec.datasets import make_selection_mf
from heckrec.models._layout import ParamLayout
from heckrec.models._likelihood_binary import BivariateProbitLikelihood
from heckrec.models._pairs import PairSet

METHODS = [("exact", 0), ("ghk", 100), ("mc", 50), ("mc", 100), ("mc", 500)]


def pass_table(n_users, n_items):
    X, r, o, truth = make_selection_mf(n_users, n_items, n_factors=8, rho=0.6, density=0.1,
                                       outcome="binary", random_state=0)
    pairs = PairSet(X[:, 0].astype(np.int64), X[:, 1].astype(np.int64), np.nan_to_num(r),
                    o.astype(bool), np.zeros((len(o), 0)), n_users, n_items)
    layout = ParamLayout(n_users, n_items, 8, 0, ("a",))
    rng = np.random.default_rng(0)
    theta = rng.normal(0.0, 0.2, layout.size)
    theta[layout.slices["mu_o"]] = -1.3   # about 10% observed
    theta[layout.index("a")] = np.arctanh(0.6)
    exact_ll = BivariateProbitLikelihood("exact").loglik_grad(theta, layout, pairs)[0]
    rows = []
    for kind, n_draws in METHODS:
        draws = None
        if kind == "ghk":
            draws = np.log(rng.uniform(size=n_draws))
        elif kind == "mc":
            draws = rng.standard_normal(n_draws)
        lik = BivariateProbitLikelihood(kind, draws)
        seconds = median_time(lambda: lik.loglik_grad(theta, layout, pairs))
        ll = lik.loglik_grad(theta, layout, pairs)[0]
        rows.append({"likelihood": kind, "n_draws": n_draws or "-",
                     "pairs": pairs.n_pairs, "observed": int(pairs.o.sum()),
                     "pass (ms)": f"{1e3 * seconds:.1f}",
                     "loglik error per observed pair": f"{abs(ll - exact_ll) / pairs.o.sum():.2e}"})
    write("binary_pass", rows, list(rows[0]),
          note=f"One loglik + gradient pass, k = 8, {n_users} x {n_items} grid, median of 5. "
               "mc's value is its r-step (MC^r) estimator.")


def fit_table(n_users, n_items):
    X, r, o, _ = make_selection_mf(n_users, n_items, n_factors=0, rho=0.6, density=0.3,
                                   outcome="binary", bias_scale=0.8, random_state=1)
    rows, exact_rho = [], None
    for kind, n_draws in METHODS:
        # the penalised fit for every likelihood, so they optimise the same objective
        est = BivariateProbitMF(n_factors=0, likelihood=kind, n_draws=max(n_draws, 1),
                                rho_criterion="penalised",
                                max_iter=200 if kind == "mc" else 1000,
                                compute_se=kind == "exact", random_state=0)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # degenerate mc fits are reported in the table
            est.fit(X, r, o)
        seconds = time.perf_counter() - start
        if kind == "exact":
            exact_rho, exact_se = est.rho_, est.rho_se_
        rows.append({"likelihood": kind, "n_draws": n_draws or "-",
                     "fit (s)": f"{seconds:.1f}", "iterations": est.n_iter_,
                     "rho_": f"{est.rho_:.4f}", "rho_ - 0.6": f"{est.rho_ - 0.6:+.4f}",
                     "rho_ - exact (SE)": f"{(est.rho_ - exact_rho) / exact_se:+.2f}",
                     "exact loglik": f"{est.loglik_:.1f}",
                     "degenerate": est.degenerate_ or "no"})
    write("binary_fit", rows, list(rows[0]),
          note=f"Fits on a {n_users} x {n_items} biases-only grid (true rho 0.6; "
               f"{int(o.sum())} of {len(o)} pairs observed). Exact rho_ = {exact_rho:.4f} +- "
               f"{exact_se:.4f}; its distance to 0.6 is the grid's incidental-parameter bias. "
               "mc: at most 10 alternating rounds.")


if __name__ == "__main__":
    n_users, n_items = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (500, 400)
    pass_table(n_users, n_items)
    fit_table(150, 100)
