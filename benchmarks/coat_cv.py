"""Choose BivariateProbitMF's penalties on Coat by held-out log-likelihood (a diagnostic).

3-fold GridSearchCV over the MNAR training pairs, scored by the estimator's
``score`` (mean exact log-likelihood per pair, o routed by metadata routing);
then the test AUC of the refitted best model on the MAR ratings.

Run: python benchmarks/coat_cv.py   (about 2 minutes on 2 cores)
"""

import time
import warnings

import sklearn
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold

from heckrec import BivariateProbitMF
from heckrec.datasets import load_coat

GRID = {"n_factors": [2, 8], "reg_bias": [10.0, 30.0], "reg_rho": [0.0, 30.0, 300.0, 3000.0]}


def main():
    sklearn.set_config(enable_metadata_routing=True)
    coat = load_coat()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate fits are part of what is compared
        search = GridSearchCV(BivariateProbitMF(reg_factors=30.0, compute_se=False,
                                                random_state=0),
                              GRID, cv=KFold(3, shuffle=True, random_state=0))
        search.fit(coat.X_train, coat.r_train, o=coat.o_train)
    print(f"{time.perf_counter() - start:.0f} s; held-out mean log-likelihood per pair:")
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        print(f"  {params}  {score:.5f}")
    best = search.best_estimator_
    auc = roc_auc_score(coat.r_test, best.predict_proba(coat.X_test)[:, 1])
    print(f"best {search.best_params_}: rho_ = {best.rho_:+.4f}, test AUC = {auc:.4f}")


if __name__ == "__main__":
    main()
