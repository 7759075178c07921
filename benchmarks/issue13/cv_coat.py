"""HeckmanMFRegressorCV and BivariateProbitMFCV on Coat with their default grids (issue 13).

Without a MAR slice the settings are chosen by held-out log-likelihood of the MNAR log;
with a 5% slice (seed 0; the metrics on the other 95%) by the held-out slice pairs'
outcome log-density. Usage: python benchmarks/issue13/cv_coat.py (about 2-3 min)
"""
import time, warnings
import numpy as np
from heckrec import HeckmanMFRegressorCV, BivariateProbitMFCV
from heckrec.datasets import load_coat
from heckrec.metrics import global_auc
warnings.simplefilter("ignore")
coat = load_coat()
r = coat.ratings_train.ravel().astype(float); o = (r > 0).astype(int); r[o == 0] = np.nan
X = coat.X_train.to_numpy(); Xt = coat.X_test.to_numpy(); yt = coat.ratings_test[Xt[:, 0], Xt[:, 1]].astype(float)
rng = np.random.default_rng(0); sl = rng.random(len(Xt)) < 0.05
for slice_ in (False, True):
    kw = dict(X_unbiased=Xt[sl], y_unbiased=yt[sl]) if slice_ else {}
    ev = ~sl if slice_ else np.ones(len(Xt), bool)
    t = time.time(); cv = HeckmanMFRegressorCV(random_state=0).fit(X, r, o, **kw); t = time.time() - t
    p = cv.predict(Xt[ev])
    print("continuous slice", slice_, cv.best_params_, f"rho {cv.rho_:+.3f} +- {cv.rho_se_:.3f} mean {p.mean():.3f} (MAR {yt[ev].mean():.3f}) RMSE {np.sqrt(np.mean((p-yt[ev])**2)):.3f} AUC {global_auc(yt[ev] >= 3, p):.3f} shift {cv.rho_penalty_shift_:.2f} deg {cv.degenerate_} {t:.0f}s", flush=True)
yb = coat.r_train; ob = coat.o_train
for slice_ in (False, True):
    kw = dict(X_unbiased=coat.X_test[sl], y_unbiased=coat.r_test[sl]) if slice_ else {}
    ev = ~sl if slice_ else np.ones(len(Xt), bool)
    t = time.time(); cv = BivariateProbitMFCV(random_state=0).fit(coat.X_train, yb, ob, **kw); t = time.time() - t
    p = cv.predict_proba(coat.X_test[ev])[:, 1]
    print("binary slice", slice_, cv.best_params_, f"rho {cv.rho_:+.3f} +- {cv.rho_se_:.3f} P(like) {p.mean():.3f} (MAR {coat.r_test[ev].mean():.3f}) AUC {global_auc(coat.r_test[ev], p):.3f} deg {cv.degenerate_} {t:.0f}s", flush=True)
