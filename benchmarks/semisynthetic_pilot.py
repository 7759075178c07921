"""Pilot of the paper's Table 1 design: one rho, one seed, NaiveMF against HeckmanMFRegressor.

Not Table 1 itself (that needs every rho in -0.8..0.8, five seeds and every baseline):
this run shows where the estimators stand on the 943 x 1682 semi-synthetic grid before
the full study. x is centred for HeckmanMFRegressor (NaiveMF centres it itself).

Usage: python benchmarks/semisynthetic_pilot.py PATH/TO/u.data [--rho 0.8] [--seed 0]
       [--n-factors 4] [--reg-factors 1] [--max-iter 1000] [--tag _reg10]
Prints a table and writes benchmarks/results/semisynthetic_pilot.json.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_semisynthetic
from heckrec.debias import NaiveMF


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ratings_path")
    parser.add_argument("--rho", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-factors", type=int, default=4)
    parser.add_argument("--reg-factors", type=float, default=1.0)
    parser.add_argument("--max-iter", type=int, default=1000,
                        help="L-BFGS iterations for HeckmanMFRegressor")
    parser.add_argument("--tag", default="", help="suffix of the results file")
    args = parser.parse_args()
    data = make_semisynthetic(args.ratings_path, args.rho, args.seed)
    centre = data.X_train["x"].mean()
    X_train, X_test = data.X_train.copy(), data.X_test.copy()
    X_train["x"] -= centre
    X_test["x"] -= centre
    rows = []
    for name, est in [("NaiveMF", NaiveMF(n_factors=args.n_factors,
                                          reg_factors=args.reg_factors, random_state=0)),
                      ("HeckmanMFRegressor", HeckmanMFRegressor(
                          n_factors=args.n_factors, reg_factors=args.reg_factors,
                          max_iter=args.max_iter, random_state=0))]:
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(X_train, data.r_train, data.o_train)
        rows.append({"estimator": name, "rho": args.rho, "seed": args.seed,
                     "reg_factors": args.reg_factors,
                     "observed": float(data.o_train.mean()),
                     "test_mse": float(np.mean((est.predict(X_test) - data.r_test) ** 2)),
                     "rho_hat": float(getattr(est, "rho_", np.nan)),
                     "iterations": int(est.n_iter_),
                     "seconds": time.perf_counter() - start,
                     "warnings": sorted({type(w.message).__name__ for w in caught})})
        print(rows[-1], flush=True)
    print("\n| estimator | true rho | test MSE | rho_hat | iterations | seconds | warnings |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['estimator']} | {r['rho']} | {r['test_mse']:.3f} | {r['rho_hat']:.3f} | "
              f"{r['iterations']} | {r['seconds']:.0f} | {', '.join(r['warnings'])} |")
    out = Path(__file__).parent / "results" / f"semisynthetic_pilot{args.tag}.json"
    out.write_text(json.dumps(rows, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
