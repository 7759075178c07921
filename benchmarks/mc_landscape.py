"""Why the paper's alternating mc fit drifts to rho -> 1 (a diagnostic).

At the exact fit's scores (100 x 80 biases-only grid, true rho 0.6), print
the exact log-likelihood and the mc objectives of the r step (MC^r) and the
o step (MC^o) as rho varies, with 1600 fixed draws, and how many r = 0 pairs
the guard replaced. Then the rho reached by each alternating round for 100
and 1600 draws.

Run: python benchmarks/mc_landscape.py   (about a minute)
"""

import contextlib
import io
import math
import warnings

import numpy as np

from heckrec import BivariateProbitMF
from heckrec._kernels import bivariate_probit as terms
from heckrec.datasets import make_selection_mf


def main():
    X, r, o, _ = make_selection_mf(100, 80, n_factors=0, rho=0.6, density=0.3,
                                   outcome="binary", bias_scale=0.8, random_state=1)
    exact = BivariateProbitMF(n_factors=0, compute_se=False, random_state=0,
                              rho_criterion="penalised").fit(X, r, o)
    g_o, g_r = exact.decision_scores(X)
    r0, o0 = np.nan_to_num(r), o.astype(bool)
    eps = np.random.default_rng(0).standard_normal(1600)
    d_o, d_r = np.empty(len(o)), np.empty(len(o))
    print(f"exact fit: rho_ = {exact.rho_:.4f}")
    print(f"{'rho':>6} {'exact':>10} {'MC^r':>10} {'guarded':>8} {'MC^o':>10} {'guarded':>8}")
    for rho in (0.7, round(exact.rho_, 3), 0.95, 0.99, 0.999):
        a = math.atanh(rho)
        ll = terms.exact_terms(g_o, g_r, r0, o0, a, d_o, d_r)[0]
        mr = terms.mc_terms(g_o, g_r, r0, o0, a, eps, True, d_o, d_r)
        mo = terms.mc_terms(g_o, g_r, r0, o0, a, eps, False, d_o, d_r)
        print(f"{rho:6.3f} {ll:10.2f} {mr[0]:10.2f} {mr[2]:8d} {mo[0]:10.2f} {mo[2]:8d}")
    for n_draws in (100, 1600):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            BivariateProbitMF(n_factors=0, likelihood="mc", n_draws=n_draws, max_iter=120,
                              compute_se=False, random_state=0, verbose=1).fit(X, r, o)
        rounds = [line.split("rho ")[1] for line in out.getvalue().splitlines()
                  if line.startswith("[mc]")]
        print(f"n_draws {n_draws}: rho after each round {', '.join(rounds)}")


if __name__ == "__main__":
    main()
