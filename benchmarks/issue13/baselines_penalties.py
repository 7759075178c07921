"""NaiveMF, IPSMF, DRJLMF on Coat's MAR ratings at four penalty settings (mean prediction, RMSE).

Usage: python benchmarks/issue13/baselines_penalties.py
"""
import numpy as np, warnings
warnings.simplefilter("ignore")
from heckrec.datasets import load_coat
from heckrec.debias import NaiveMF, IPSMF, DRJLMF
c = load_coat()
r = c.ratings_train.ravel().astype(float); o = (r > 0).astype(int); r[o == 0] = np.nan
X = c.X_train.to_numpy(); Xt = c.X_test.to_numpy(); yt = c.ratings_test[Xt[:,0], Xt[:,1]].astype(float)
for cls in (NaiveMF, IPSMF, DRJLMF):
  for kw in (dict(), dict(reg_factors=10, reg_bias=1), dict(reg_factors=30, reg_bias=3), dict(reg_factors=100, reg_bias=10)):
    e = cls(random_state=0, **kw).fit(X, r, o); p = e.predict(Xt)
    print(cls.__name__, kw, f"mean {p.mean():.3f} rmse {np.sqrt(np.mean((p-yt)**2)):.3f}", flush=True)
