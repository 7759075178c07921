"""Why BivariateProbitMF's penalised fit runs rho to the boundary (docs/model.md).

At fixed rho, warm-started from the previous rho, the script records the fit's
objective split into the log-likelihood and the penalty, where the log-likelihood
gain sits (observed / unobserved pairs; users by the share of coats they liked),
and how steep the observed outcome's link is in g_r:

    dP(y = 1 | o = 1) / dg_r = phi(g_r) Phi((g_o - rho g_r) / sqrt(1 - rho^2)) / Phi(g_o),

its mean over the observed pairs, beside the spread of g_r there (the scale the
penalty pays for). Data: Coat, ratings >= 3 (biases only at the default reg_bias,
and rank 8 at 1 / 0.1), and issue 13's simulated 1000 x 600 rank-4 grid (true rho
0.5) at rank 8, 1 / 0.1, rho towards +1.

Usage: python benchmarks/issue13/binary_boundary_mechanism.py [coat] [grid]
Writes benchmarks/results/binary_boundary_mechanism.jsonl (one row per fit).
"""
import copy
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import norm

from heckrec import BivariateProbitMF
from heckrec.datasets import load_coat, make_selection_mf
from heckrec.models.bivariate_probit_mf import _per_pair_exact

OUT = Path(__file__).resolve().parents[1] / "results" / "binary_boundary_mechanism.jsonl"


def conditional_slope(g_o, g_r, rho):
    """dP(y = 1 | o = 1) / dg_r under the bivariate probit."""
    inner = (g_o - rho * g_r) / np.sqrt(1.0 - rho**2)
    return norm.pdf(g_r) * norm.cdf(inner) / norm.cdf(g_o)


def profile(name, X, y, o, rhos, settings, X_mar=None, liked_share_groups=None):
    observed = o == 1
    r0 = np.nan_to_num(y).astype(float)
    previous, base = None, {}
    for rho in rhos:
        if previous is None:
            est = BivariateProbitMF(random_state=0, compute_se=False, fixed_rho=rho, **settings)
        else:  # warm start: the path from rho = 0 outwards
            est = copy.deepcopy(previous)
            est.set_params(fixed_rho=rho, warm_start=True)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y, o)
        previous = est
        g_o, g_r = est.decision_scores(X)
        ll = _per_pair_exact(g_o, g_r, r0, o, np.arctanh(rho))
        row = {"data": name, "settings": settings, "rho": rho,
               "objective": est.objective_, "loglik": float(ll.sum()),
               "penalty": float(est.objective_ + ll.sum()),
               "loglik_observed": float(ll[observed].sum()),
               "loglik_unobserved": float(ll[~observed].sum()),
               "mean_conditional_slope": float(conditional_slope(
                   g_o[observed], g_r[observed], rho).mean()),
               "sd_g_r_observed": float(g_r[observed].std()),
               "seconds": time.perf_counter() - start}
        if X_mar is not None:
            row["mean_p_like_mar"] = float(est.predict_proba(X_mar)[:, 1].mean())
        if not base:
            base = {"ll": ll}
        elif liked_share_groups is not None:
            gain = ll - base["ll"]
            users, share = liked_share_groups
            per_user = np.bincount(users[observed], weights=gain[observed])
            # Fifths of the users by the share they liked (ties kept in one fifth).
            fifth = np.searchsorted(np.quantile(share, [0.2, 0.4, 0.6, 0.8]), share,
                                    side="right")
            row["gain_by_liked_quintile"] = np.bincount(fifth, weights=per_user,
                                                        minlength=5).tolist()
        print(json.dumps(row), flush=True)
        with OUT.open("a") as fh:
            fh.write(json.dumps(row) + "\n")


def coat():
    c = load_coat()
    ratings = c.ratings_train.ravel().astype(float)
    o = (ratings > 0).astype(int)
    y = np.where(o == 1, ratings >= 3, np.nan)
    X = c.X_train.to_numpy()
    users = X[:, 0].astype(int)
    observed = o == 1
    share = (np.bincount(users[observed], weights=y[observed])
             / np.bincount(users[observed]))
    rhos = (0.0, -0.5, -0.9, -0.99, -0.999)
    # biases only; rank 8 at 1 / 0.1 (the defaults until 2026-12-06)
    for settings in ({"n_factors": 0, "rho_criterion": "penalised"},
                     {"n_factors": 8, "reg_factors": 1.0}):
        profile("coat", X, y, o, rhos, settings, c.X_test.to_numpy(), (users, share))


def grid():
    X, r, o, _ = make_selection_mf(1000, 600, n_factors=4, rho=0.5, density=0.1,
                                   outcome="binary", random_state=0)
    profile("grid 1000x600 rank 4 rho 0.5", X, r, o, (0.5, 0.9, 0.99, 0.999),
            {"reg_factors": 1.0})


if __name__ == "__main__":
    parts = sys.argv[1:] or ["coat", "grid"]
    for part in parts:
        {"coat": coat, "grid": grid}[part]()
