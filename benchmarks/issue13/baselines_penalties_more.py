"""SNIPSMF, EIBMF, DRJLMF on Coat's MAR ratings at the given settings, beside the training mean's RMSE.

Usage: python benchmarks/issue13/baselines_penalties_more.py "dict(reg_factors=300, reg_bias=30)" ...
"""
import numpy as np, warnings, sys
warnings.simplefilter("ignore")
from heckrec.datasets import load_coat
from heckrec.debias import DRJLMF, SNIPSMF, EIBMF
c = load_coat()
r = c.ratings_train.ravel().astype(float); o = (r > 0).astype(int); r[o == 0] = np.nan
X = c.X_train.to_numpy(); Xt = c.X_test.to_numpy(); yt = c.ratings_test[Xt[:,0], Xt[:,1]].astype(float)
print("const", np.sqrt(np.mean((yt - np.nanmean(r))**2)))
for cls in (SNIPSMF, EIBMF, DRJLMF):
  # settings as Python dict literals, e.g. "dict(reg_factors=100, reg_bias=1)"
  for kw in [eval(a) for a in sys.argv[1:]]:
    e = cls(random_state=0, **kw).fit(X, r, o); p = e.predict(Xt)
    print(cls.__name__, kw, f"mean {p.mean():.3f} rmse {np.sqrt(np.mean((p-yt)**2)):.3f}", flush=True)
