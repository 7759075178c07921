"""How personal is the MF backbone on Coat? NaiveMF's pooled and per-user AUC by penalty.

Table 3 (docs/results.md) compares with published figures that the RD / BRD authors' code
computes per user (heckrec.metrics.user_auc). This fits NaiveMF (logistic loss, ratings
>= 4 positive, rank 8 and 10) at reg_factors 0.3 to 100 and prints the pooled AUC and
the per-user AUC on the MAR pairs outside seed 0's 5% slice (and the per-user AUC on the
slice itself, to show how noisy 232 ratings are for choosing by it).

Usage: python benchmarks/naive_user_auc.py [--seed 0]
"""

import argparse
import warnings

from _common import mar_slice


def main():
    from heckrec.datasets import load_coat
    from heckrec.debias import NaiveMF
    from heckrec.metrics import global_auc, user_auc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    seed = parser.parse_args().seed
    coat = load_coat(threshold=4)
    users, y = coat.X_test["user"].to_numpy(), coat.r_test
    valid = mar_slice(len(y), seed)
    print("| reg_factors | rank | AUC (95%) | per-user AUC (95%) | per-user AUC (slice) |\n"
          "|---|---|---|---|---|")
    for reg in (0.3, 1.0, 3.0, 10.0, 30.0, 100.0):
        for rank in (8, 10):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = NaiveMF(n_factors=rank, reg_factors=reg, loss="logistic",
                              random_state=seed).fit(coat.X_train, coat.r_train, coat.o_train)
            score = est.predict(coat.X_test)
            print(f"| {reg:g} | {rank} | {global_auc(y[~valid], score[~valid]):.3f} | "
                  f"{user_auc(users[~valid], y[~valid], score[~valid]):.3f} | "
                  f"{user_auc(users[valid], y[valid], score[valid]):.3f} |", flush=True)


if __name__ == "__main__":
    main()
