"""rho_criterion "penalised" / "laplace" / "evidence" side by side (docs/model.md).

Parts:
    sim      simulated grids with known rho (tests/test_laplace.py's designs): binary
             biases-only 200 x 150 (rho 0.6) and continuous 200 x 150 rank 1 (rho 0.4),
             30% observed, seeds 0-1, each at the estimator's default penalties
    grid     issue 13's binary grid (1000 x 600, rank 4, rho 0.5, 10% observed)
    coat     Coat, no MAR ratings: BivariateProbitMF (rating >= 3) and HeckmanMFRegressor
             (1-5) at their defaults; mean prediction on the MAR pairs, AUC / RMSE

Usage: python benchmarks/issue13/marginal_rho.py {sim|grid|coat} [criterion ...]
Rows are appended to benchmarks/results/marginal_rho.jsonl.
"""
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.datasets import load_coat, make_selection_mf

OUT = Path(__file__).resolve().parents[1] / "results" / "marginal_rho.jsonl"


def fit(est, X, r, o):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        est.fit(X, r, o)
        seconds = time.perf_counter() - start
    return {"criterion": est.rho_criterion, "rho_hat": est.rho_, "rho_se": est.rho_se_,
            "prior_precisions": {g: round(v, 4) for g, v in est.prior_precisions_.items()},
            "fits": getattr(est, "n_laplace_fits_", 1), "seconds": round(seconds, 1),
            "degenerate": est.degenerate_ is not None,
            "warnings": sorted({type(w.message).__name__ for w in caught})}


def emit(row):
    print(json.dumps(row), flush=True)
    with OUT.open("a") as f:
        f.write(json.dumps(row) + "\n")


def sim(criteria):
    designs = [("binary", 200, 150, 0, 0.6), ("continuous", 200, 150, 1, 0.4)]
    for outcome, nu, ni, k, rho in designs:
        for seed in (0, 1):
            X, r, o, _ = make_selection_mf(nu, ni, n_factors=k, rho=rho, density=0.3,
                                           outcome=outcome, random_state=seed)
            cls = BivariateProbitMF if outcome == "binary" else HeckmanMFRegressor
            for criterion in criteria:
                est = cls(k, rho_criterion=criterion, random_state=0, if_not_identified="estimate")
                row = fit(est, X, r, o)
                emit({"design": f"{outcome} {nu}x{ni} rank {k}", "true_rho": rho,
                      "seed": seed, **row})


def grid(criteria):
    """Issue 13's binary grid: 1000 x 600, rank 4, rho 0.5, 10% observed, rank 8 at 1 / 0.1."""
    X, r, o, _ = make_selection_mf(1000, 600, n_factors=4, rho=0.5, density=0.1,
                                   outcome="binary", random_state=0)
    for criterion in criteria:
        # reg_factors 1: the binary default when these rows were recorded (until 2026-12-06)
        row = fit(BivariateProbitMF(n_factors=8, reg_factors=1.0, rho_criterion=criterion,
                                random_state=0,
                                if_not_identified="estimate"),
                  X, r, o)
        emit({"design": "binary 1000x600 rank 4 (fitted at the default rank)",
              "true_rho": 0.5, "seed": 0, **row})


def coat(criteria):
    c = load_coat()
    X = c.X_train.to_numpy()
    ratings = c.ratings_train.ravel().astype(float)
    o = (ratings > 0).astype(int)
    Xt = c.X_test.to_numpy()
    yt = c.ratings_test[Xt[:, 0], Xt[:, 1]].astype(float)
    for criterion in criteria:
        est = BivariateProbitMF(n_factors=8, reg_factors=1.0, rho_criterion=criterion,
                                random_state=0,
                                if_not_identified="estimate")
        row = fit(est, X, np.where(o == 1, (ratings >= 3).astype(float), np.nan), o)
        p = est.predict_proba(Xt)[:, 1]
        emit({"design": "coat binary (>= 3)", **row, "mean_prediction": float(p.mean()),
              "mar_mean": float(np.mean(yt >= 3)), "auc": float(roc_auc_score(yt >= 3, p))})
        est = HeckmanMFRegressor(rho_criterion=criterion, random_state=0,
                                 if_not_identified="estimate")
        row = fit(est, X, np.where(o == 1, ratings, np.nan), o)
        p = est.predict(Xt)
        emit({"design": "coat 1-5", **row, "mean_prediction": float(p.mean()),
              "mar_mean": float(yt.mean()), "rmse": float(np.sqrt(np.mean((p - yt) ** 2)))})


if __name__ == "__main__":
    part = sys.argv[1]
    criteria = sys.argv[2:] or ["penalised", "laplace", "evidence"]
    {"sim": sim, "grid": grid, "coat": coat}[part](criteria)
