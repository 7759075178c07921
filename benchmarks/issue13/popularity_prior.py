"""Coat: does the penalty's prior mean drive rho_ negative? Each coat's log times chosen
(standardised) as an unpenalised side feature of both scores, so the item biases shrink
towards a popularity trend instead of the global mean (docs/model.md).

Usage: python benchmarks/issue13/popularity_prior.py
"""
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from real_data import _coat, _metrics  # noqa: E402

from heckrec import BivariateProbitMF, HeckmanMFRegressor  # noqa: E402

warnings.simplefilter("ignore")
data = _coat()
X, o = data["X"], data["o"]
chosen = np.bincount(X[o == 1, 1], minlength=X[:, 1].max() + 1)
popularity = np.log1p(chosen)
popularity = (popularity - popularity.mean()) / popularity.std()
every_mar_pair = np.ones(len(data["y_mar"]), dtype=bool)
for binary in (False, True):
    r = np.where(o == 1, (data["r"] >= 3).astype(float), np.nan) if binary else data["r"]
    cls = BivariateProbitMF if binary else HeckmanMFRegressor
    for name, settings in (("defaults", {}), ("biases only", {"n_factors": 0})):
        for with_popularity in (False, True):
            Xf, Xm = X, data["X_mar"]
            if with_popularity:
                Xf = np.column_stack([X, popularity[X[:, 1]]])
                Xm = np.column_stack([Xm, popularity[Xm[:, 1]]])
            start = time.perf_counter()
            est = cls(random_state=0, **settings).fit(Xf, r, o)
            prediction = est.predict_proba(Xm)[:, 1] if binary else est.predict(Xm)
            m = _metrics(data, every_mar_pair, prediction, binary)
            print(f"{cls.__name__:20s} {name:12s} popularity={with_popularity!s:5s} "
                  f"rho_ {est.rho_:+.3f} +- {est.rho_se_:.3f}, mean prediction "
                  f"{m['mean_prediction']:.3f} (MAR {m['mar_mean']:.3f}), AUC {m['auc']:.3f}"
                  + (f", RMSE {m['rmse']:.3f}" if not binary else "")
                  + f", {time.perf_counter() - start:.1f} s", flush=True)
