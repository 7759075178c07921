"""rho_structural_se_ (the design diagnostic behind NotIdentifiedWarning) on the data of
docs/model.md's table: Coat, simulated grids, the semi-synthetic design.

Usage: python benchmarks/issue13/structural_se.py [PATH/u.data]
(the semi-synthetic row needs MovieLens-100K's u.data, e.g. ../shared/data/ml-100k/u.data)
"""
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from real_data import _coat  # noqa: E402

from heckrec import BivariateProbitMF, HeckmanMFRegressor  # noqa: E402
from heckrec.datasets import make_selection_mf, make_semisynthetic  # noqa: E402
from heckrec.models._identification import structural_rho_se  # noqa: E402

#: the free fit's rho, which the table reports (the default holds an unidentified rho at 0)
# (the penalised fit, as these rows were measured before BivariateProbitMF's "auto" default)
FREE = {"if_not_identified": "estimate", "rho_criterion": "penalised"}


def report(name, fit, X, o):
    """Fit, then print rho_, the structural SE and the share of var lambda it leaves."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = fit()
    g_o, seen = est.decision_scores(X)[0], np.asarray(o) == 1
    X = np.asarray(X, dtype=float)
    share = structural_rho_se(g_o[seen], X[seen, 0].astype(int), X[seen, 1].astype(int),
                              X[seen, 2:])[1]
    print(f"{name}: rho_ {est.rho_:+.3f} +- {est.rho_se_:.3f}, rho_structural_se_ "
          f"{est.rho_structural_se_:.3g}, share of var lambda left {share:.2g}, warnings "
          f"{sorted({type(w.message).__name__ for w in caught})}", flush=True)


coat = _coat()
X, o = coat["X"], coat["o"]
liked = np.where(o == 1, coat["r"] >= 3, np.nan)
report("Coat 1-5, defaults", lambda: HeckmanMFRegressor(random_state=0, **FREE).fit(
    X, coat["r"], o), X, o)
report("Coat >= 3, biases only", lambda: BivariateProbitMF(n_factors=0, random_state=0, **FREE).fit(
    X, liked, o), X, o)
# rank 8 at 1 / 0.1: BivariateProbitMF's defaults until 2026-12-06 (docs/model.md)
report("Coat >= 3, rank 8 at 1 / 0.1", lambda: BivariateProbitMF(
    n_factors=8, reg_factors=1.0, random_state=0, **FREE).fit(X, liked, o), X, o)
for seed in (0, 1, 2):
    Xs, rs, os_, _ = make_selection_mf(200, 150, n_factors=1, rho=0.4, density=0.3,
                                       random_state=seed)
    report(f"simulated 200 x 150 rank 1, true 0.4, seed {seed}, defaults",
           lambda: HeckmanMFRegressor(random_state=0, **FREE).fit(Xs, rs, os_), Xs, os_)
    report("the same at 1 / 0.1", lambda: HeckmanMFRegressor(
        n_factors=1, reg_factors=1, reg_bias=0.1, random_state=0).fit(Xs, rs, os_), Xs, os_)
Xb, rb, ob, _ = make_selection_mf(400, 300, n_factors=0, rho=0.8, density=0.3,
                                  outcome="binary", random_state=0)
report("binary 400 x 300 biases only, true 0.8",
       lambda: BivariateProbitMF(n_factors=0, random_state=0, **FREE).fit(Xb, rb, ob), Xb, ob)
for seed in range(5):
    Xb, rb, ob, _ = make_selection_mf(400, 300, n_factors=0, rho=0.0, density=0.3,
                                      outcome="binary", random_state=20000 + seed)
    report(f"binary 400 x 300 biases only, true 0, seed {20000 + seed}",
           lambda: BivariateProbitMF(n_factors=0, random_state=0, **FREE).fit(Xb, rb, ob), Xb, ob)
Xt, rt, ot, _ = make_selection_mf(40, 30, n_factors=1, density=0.25, random_state=5)
report("simulated 40 x 30 rank 1",
       lambda: HeckmanMFRegressor(n_factors=1, **FREE).fit(Xt, rt, ot), Xt, ot)
if len(sys.argv) > 1:
    semi = make_semisynthetic(sys.argv[1], 0.8, seed=0)
    report("semi-synthetic, rho 0.8, defaults", lambda: HeckmanMFRegressor(
        random_state=0, **FREE).fit(
        semi.X_train, semi.r_train, semi.o_train), semi.X_train, semi.o_train)
