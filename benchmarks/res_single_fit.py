"""Res-IPS / Res-DR beside IPS on Coat (ratings >= 4), one seed, defaults, 5% MAR slice.

A quick check until benchmarks/table3.py has run all its seeds: test AUC on the other 95%
of the MAR pairs, seconds per fit, warnings raised.

Usage: python benchmarks/res_single_fit.py [--seed 0]
"""

import argparse
import time
import warnings

from _common import mar_slice


def main():
    from heckrec.datasets import load_coat
    from heckrec.debias import IPSMF, ResDRMF, ResIPSMF
    from heckrec.metrics import global_auc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    seed = parser.parse_args().seed
    coat = load_coat(threshold=4)
    valid = mar_slice(len(coat.r_test), seed)
    X_slice, y_slice = coat.X_test[valid], coat.r_test[valid]
    for cls in (IPSMF, ResIPSMF, ResDRMF):
        est = cls(loss="logistic", random_state=seed)
        kwargs = {} if cls is IPSMF else {"X_unbiased": X_slice, "y_unbiased": y_slice}
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(coat.X_train, coat.r_train, coat.o_train, **kwargs)
        seconds = time.perf_counter() - start
        score = est.predict(coat.X_test)
        auc = global_auc(coat.r_test[~valid], score[~valid])
        print(f"{cls.__name__:9s} AUC {auc:.3f}  {seconds:5.1f} s  "
              f"{[str(w.message)[:90] for w in caught]}", flush=True)


if __name__ == "__main__":
    main()
