"""heckrec.debias with default arguments on Coat's MAR ratings, beside the training mean.

Issue 13 asks the baselines' defaults to beat predicting the training mean everywhere
(RMSE 1.30 on Coat's MAR ratings). Also the old defaults (1.0 / 0.1, EIB imputing 0)
for comparison. Usage: python benchmarks/issue13/baselines_defaults.py
"""
import warnings

import numpy as np

from heckrec.datasets import load_coat
from heckrec.debias import DRJLMF, EIBMF, IPSMF, NaiveMF, SNIPSMF

warnings.simplefilter("ignore")
coat = load_coat()
r = coat.ratings_train.ravel().astype(float)
o = (r > 0).astype(int)
r[o == 0] = np.nan
X, Xt = coat.X_train.to_numpy(), coat.X_test.to_numpy()
yt = coat.ratings_test[Xt[:, 0], Xt[:, 1]].astype(float)
print(f"training mean everywhere: RMSE {np.sqrt(np.mean((np.nanmean(r) - yt) ** 2)):.3f} "
      f"(MAR mean {yt.mean():.3f})")
for label, settings in (("defaults", {}), ("old 1.0/0.1", dict(reg_factors=1.0, reg_bias=0.1))):
    for cls in (NaiveMF, IPSMF, SNIPSMF, EIBMF, DRJLMF):
        extra = dict(imputation=0.0) if cls is EIBMF and settings else {}
        p = cls(random_state=0, **settings, **extra).fit(X, r, o).predict(Xt)
        print(f"{label:12s} {cls.__name__:8s} mean {p.mean():.3f} "
              f"RMSE {np.sqrt(np.mean((p - yt) ** 2)):.3f}", flush=True)
