"""HeckmanMFRegressorCV and BivariateProbitMFCV on Coat with their default grids (issue 13).

Without a MAR slice the settings are chosen by held-out log-likelihood of the MNAR log;
with a 5% slice (one per seed; the metrics on the other 95%) by the held-out slice pairs'
outcome log-density. Usage:
    python benchmarks/issue13/cv_coat.py               # seed 0, both models (2-3 min)
    python benchmarks/issue13/cv_coat.py --continuous-seeds 0 1 2 3 4   # 5 slices
"""
import argparse
import time
import warnings

import numpy as np

from heckrec import BivariateProbitMFCV, HeckmanMFRegressorCV
from heckrec.datasets import load_coat
from heckrec.metrics import global_auc

parser = argparse.ArgumentParser()
parser.add_argument("--continuous-seeds", type=int, nargs="+", default=None)
args = parser.parse_args()
warnings.simplefilter("ignore")
coat = load_coat()
r = coat.ratings_train.ravel().astype(float)
o = (r > 0).astype(int)
r[o == 0] = np.nan
X, Xt = coat.X_train.to_numpy(), coat.X_test.to_numpy()
yt = coat.ratings_test[Xt[:, 0], Xt[:, 1]].astype(float)


def continuous(seed, with_slice):
    sl = np.random.default_rng(seed).random(len(Xt)) < 0.05
    kw = dict(X_unbiased=Xt[sl], y_unbiased=yt[sl]) if with_slice else {}
    ev = ~sl if with_slice else np.ones(len(Xt), bool)
    start = time.time()
    cv = HeckmanMFRegressorCV(random_state=0).fit(X, r, o, **kw)
    p = cv.predict(Xt[ev])
    out = dict(rho=cv.rho_, rmse=np.sqrt(np.mean((p - yt[ev]) ** 2)), mean=p.mean(),
               mar=yt[ev].mean())
    print(f"continuous seed {seed} slice {with_slice} {cv.best_params_} rho {cv.rho_:+.3f} "
          f"+- {cv.rho_se_:.3f} mean {p.mean():.3f} (MAR {yt[ev].mean():.3f}) RMSE "
          f"{out['rmse']:.3f} AUC {global_auc(yt[ev] >= 3, p):.3f} shift "
          f"{cv.rho_penalty_shift_:.2f} deg {cv.degenerate_} {time.time() - start:.0f}s",
          flush=True)
    return out


if args.continuous_seeds:
    runs = [continuous(seed, True) for seed in args.continuous_seeds]
    print("mean over slices:", {k: round(float(np.mean([run[k] for run in runs])), 3)
                                for k in runs[0]})
else:
    for with_slice in (False, True):
        continuous(0, with_slice)
    for with_slice in (False, True):
        sl = np.random.default_rng(0).random(len(Xt)) < 0.05
        kw = dict(X_unbiased=coat.X_test[sl], y_unbiased=coat.r_test[sl]) if with_slice else {}
        ev = ~sl if with_slice else np.ones(len(Xt), bool)
        start = time.time()
        cv = BivariateProbitMFCV(random_state=0).fit(coat.X_train, coat.r_train, coat.o_train,
                                                     **kw)
        p = cv.predict_proba(coat.X_test[ev])[:, 1]
        print(f"binary slice {with_slice} {cv.best_params_} rho {cv.rho_:+.3f} +- "
              f"{cv.rho_se_:.3f} P(like) {p.mean():.3f} (MAR {coat.r_test[ev].mean():.3f}) "
              f"AUC {global_auc(coat.r_test[ev], p):.3f} deg {cv.degenerate_} "
              f"{time.time() - start:.0f}s", flush=True)
