"""BivariateProbitMF with near-zero bias penalties: a well-specified biases-only grid, a rank-4 grid and Coat (docs/model.md).

Usage: python benchmarks/issue13/binary_bias_penalty.py
(every fit penalised, as measured: the default "auto" would let the evidence choose the bias
precisions on the biases-only fits)
"""
import numpy as np, warnings, time; warnings.simplefilter("ignore")
from heckrec import BivariateProbitMF
from heckrec.datasets import make_selection_mf, load_coat
from sklearn.metrics import roc_auc_score
X, r, o, t = make_selection_mf(1000, 600, n_factors=0, rho=0.4, density=0.3, outcome="binary", random_state=0)
for rb in (0.01, 0.001):
    e = BivariateProbitMF(n_factors=0, reg_bias=rb, random_state=0,
                          rho_criterion="penalised").fit(X, r, o); print("b-only 1000x600", rb, round(e.rho_,3), round(e.rho_se_,3), flush=True)
X, r, o, t = make_selection_mf(1000, 600, n_factors=4, rho=0.5, density=0.1, outcome="binary", random_state=0)
c = load_coat()
rc = c.ratings_train.ravel().astype(float); oc = (rc > 0).astype(int); yc = np.where(oc==1, rc>=3, np.nan)
Xc = c.X_train.to_numpy(); Xt = c.X_test.to_numpy(); yt = c.ratings_test[Xt[:,0], Xt[:,1]] >= 3
for kw in (dict(n_factors=4, reg_factors=1, reg_bias=0.001), dict(n_factors=4, reg_factors=10, reg_bias=0.001), dict(n_factors=8, reg_factors=10, reg_bias=0.001), dict(n_factors=0, reg_bias=0.001)):
    t0 = time.time()
    e = BivariateProbitMF(random_state=0, rho_criterion="penalised", **kw).fit(X, r, o)
    rm = np.sqrt(np.mean((e.decision_function(X) - t["g_r"])**2))
    ec = BivariateProbitMF(random_state=0, rho_criterion="penalised", **kw).fit(Xc, yc, oc)
    p = ec.predict_proba(Xt)[:, 1]
    print(kw, f"sim rho {e.rho_:+.3f}±{e.rho_se_:.3f} rmse {rm:.3f} | coat rho {ec.rho_:+.3f}±{ec.rho_se_:.3f} P {p.mean():.3f} auc {roc_auc_score(yt, p):.3f} {time.time()-t0:.1f}s", flush=True)
