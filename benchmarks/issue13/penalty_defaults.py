"""The penalty settings behind HeckmanMFRegressor's defaults: Coat (with and without a 5% MAR slice), a 1000 x 600 binary grid, the semi-synthetic design (docs/model.md).

Usage: python benchmarks/issue13/penalty_defaults.py {coat|sim|semi} "dict(reg_factors=100, reg_bias=1)" ...
(semi reads ../shared/data/ml-100k/u.data from the repository root). A setting without
n_factors / rho_criterion takes today's defaults: BivariateProbitMF's are rank 0 with
rho_criterion "auto" since the evidence default (rank 8, penalised, when this was run).
"""
import time, warnings, sys
import numpy as np
from heckrec import HeckmanMFRegressor, BivariateProbitMF
from heckrec.datasets import load_coat, make_selection_mf, make_semisynthetic
from sklearn.metrics import roc_auc_score
warnings.simplefilter("ignore")
which = sys.argv[1]
# settings as Python dict literals, e.g. "dict(reg_factors=100, reg_bias=1)"
configs = [eval(a) for a in sys.argv[2:]]
def out(*a):
    print(*a, flush=True)
if which == "coat":
    c = load_coat()
    r = c.ratings_train.ravel().astype(float); o = (r > 0).astype(int); r[o == 0] = np.nan
    Xt = c.X_test.to_numpy(); yt = c.ratings_test[Xt[:,0], Xt[:,1]].astype(float)
    sl = np.random.default_rng(0).random(len(yt)) < 0.05
    X = c.X_train.to_numpy()
    for kw in configs:
      for use in (False, True):
        t=time.time()
        e = HeckmanMFRegressor(random_state=0, **kw).fit(X, r, o, **(dict(X_unbiased=Xt[sl], y_unbiased=yt[sl]) if use else {}))
        p = e.predict(Xt[~sl])
        e2 = BivariateProbitMF(random_state=0, **kw).fit(X, np.where(o==1, r>=3, np.nan), o, **({} if not use else dict(X_unbiased=Xt[sl], y_unbiased=yt[sl]>=3)))
        pb = e2.predict_proba(Xt[~sl])[:,1]
        out(kw, use, f"rho {e.rho_:+.3f}±{e.rho_se_:.3f} mean {p.mean():.3f} rmse {np.sqrt(np.mean((p-yt[~sl])**2)):.3f} | bin rho {e2.rho_:+.3f}±{e2.rho_se_:.3f} P {pb.mean():.3f} auc {roc_auc_score(yt[~sl]>=3, pb):.3f} {time.time()-t:.1f}s")
elif which == "sim":
    X, r, o, t = make_selection_mf(1000, 600, n_factors=4, rho=0.5, density=0.1, outcome="binary", random_state=0)
    for kw in configs:
        t0=time.time(); e = BivariateProbitMF(random_state=0, **kw).fit(X, r, o)
        out("sim", kw, f"rho {e.rho_:+.3f}±{e.rho_se_:.3f} {time.time()-t0:.1f}s")
elif which == "semi":
    b = make_semisynthetic("../shared/data/ml-100k/u.data", 0.8, seed=0)
    for kw in configs:
        t0=time.time(); e = HeckmanMFRegressor(random_state=0, **kw).fit(b.X_train, b.r_train, b.o_train)
        p = e.predict(b.X_test); out("semi", kw, f"rho {e.rho_:+.3f}±{e.rho_se_:.3f} mse {np.mean((p-b.r_test)**2):.3f} {time.time()-t0:.1f}s")
