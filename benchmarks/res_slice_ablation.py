"""What the MAR slice's own loss term does to IPS on Coat (ratings >= 4): the L_U ablation.

Res-IPS / Res-DR add beta L_U, the mean loss on the 5% MAR slice, to the biased-data loss
(../shared/specs/hidden_confounding.md). This script fits IPS alone and IPS + w L_U for a
few w, with everything else fixed, and reports AUC on the other 95% of the MAR pairs,
per seed: whether training on 232 MAR ratings helps here or over-fits them.

IPS + w L_U is IPSMF on the training pairs with the slice's pairs appended as observed
pairs of inverse propensity w |D| / n_slice: IPSMF's loss (1/|D|) sum o e / p then gains
w (1 / n_slice) sum_slice e = w L_U. The training pairs keep IPS's own nominal propensity
(its default logistic MF of o, as IPSMF clipped it at 0.05), and the clip is lowered
so that the slice's weight is not capped.

Usage: python benchmarks/res_slice_ablation.py [--seeds 0 1 2 3 4] [--weights 0 0.1 0.3 1]
Rows: benchmarks/results/res_slice_ablation.jsonl.
"""

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _common import mar_slice

OUT = Path(__file__).resolve().parent / "results" / "res_slice_ablation.jsonl"


def fit_with_slice_loss(coat, valid, weight, seed, nominal):
    """IPSMF + weight * L_U (weight 0: IPSMF itself); the test AUC on the pairs outside
    the slice."""
    from heckrec.debias import IPSMF
    from heckrec.metrics import global_auc

    X, y, o = coat.X_train, coat.r_train, coat.o_train
    propensity = nominal  # IPSMF's propensity_, already clipped at its clip (0.05)
    if weight > 0:
        n_slice, n_all = int(valid.sum()), len(o) + int(valid.sum())
        X = pd.concat([X, coat.X_test[valid]], ignore_index=True)
        y = np.concatenate([y, coat.r_test[valid]])
        o = np.concatenate([o, np.ones(n_slice, dtype=o.dtype)])
        propensity = np.concatenate([propensity, np.full(n_slice, n_slice / (weight * n_all))])
    est = IPSMF(loss="logistic", random_state=seed, clip=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y, o, propensity=propensity)
    score = est.predict(coat.X_test)
    return float(global_auc(coat.r_test[~valid], score[~valid]))


def main():
    from heckrec.datasets import load_coat
    from heckrec.debias import IPSMF

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.1, 0.3, 1.0])
    args = parser.parse_args()
    coat = load_coat(threshold=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nominal = IPSMF(loss="logistic", random_state=0).fit(
            coat.X_train, coat.r_train, coat.o_train).propensity_
    rows = []
    for seed in args.seeds:
        valid = mar_slice(len(coat.r_test), seed)
        for weight in args.weights:
            rows.append({"seed": seed, "weight": weight,
                         "auc": fit_with_slice_loss(coat, valid, weight, seed, nominal)})
            print(json.dumps(rows[-1]), flush=True)
    with OUT.open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    print("\n| w (weight of L_U) | test AUC, mean +- sd over seeds | seeds |\n|---|---|---|")
    for weight in args.weights:
        auc = [r["auc"] for r in rows if r["weight"] == weight]
        print(f"| {weight:g} | {np.mean(auc):.3f} +- {np.std(auc, ddof=1):.3f} | {len(auc)} |")


if __name__ == "__main__":
    main()
