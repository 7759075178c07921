"""The penalty-sensitivity check behind NotIdentifiedWarning."""

import warnings

import numpy as np
import pytest

from heckrec import HeckmanMFRegressor, NotIdentifiedWarning
from heckrec.datasets import load_coat


def _coat():
    coat = load_coat()
    r = coat.ratings_train.ravel().astype(float)
    return coat, coat.X_train.to_numpy(), r, (r > 0).astype(int)


def test_penalty_sensitivity_matches_refits():
    # Independent truth: refit with every penalty scaled by c = 1.05^{+-1} and difference
    # atanh(rho_) in log c. The first-order shift the fit reports (ln 10 times that slope,
    # in SEs) must agree to 1e-3 (measured 8e-5: 4.8673 against 4.8669; the rest is the
    # path's curvature over +-5% of log c and CG's rtol 1e-4). Coat, biases only,
    # reg_bias 10: a case where the shift is large.
    _, X, r, o = _coat()
    kw = dict(n_factors=0, reg_bias=10.0, tol=1e-12, max_iter=5000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotIdentifiedWarning)
        est = HeckmanMFRegressor(**kw).fit(X, r, o)
    se_a = est.rho_se_ / (1 - est.rho_**2)
    a = {}
    for c in (1.05, 1 / 1.05):
        refit = HeckmanMFRegressor(**{**kw, "reg_bias": 10.0 * c, "compute_se": False})
        a[c] = np.arctanh(refit.fit(X, r, o).rho_)
    numeric = (a[1.05] - a[1 / 1.05]) / (2 * np.log(1.05))
    assert est.rho_penalty_shift_ == pytest.approx(abs(np.log(10) * numeric) / se_a, rel=1e-3)


def test_coat_without_anchors_warns_that_rho_is_not_identified():
    # docs/model.md: at reg_factors 100, reg_bias 10 Coat's rho_ (-0.369 +- 0.072) would
    # move by 4.9 SEs under a tenfold change of the penalties; with a 5% MAR slice 1.4-1.8.
    coat, X, r, o = _coat()
    with pytest.warns(NotIdentifiedWarning, match="tenfold change of the penalties"):
        est = HeckmanMFRegressor(n_factors=0, reg_bias=10.0, random_state=0).fit(X, r, o)
    assert est.rho_penalty_shift_ > 2.0
    Xt = coat.X_test.to_numpy()
    yt = coat.ratings_test[Xt[:, 0], Xt[:, 1]].astype(float)
    in_slice = np.random.default_rng(0).random(yt.size) < 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotIdentifiedWarning)
        anchored = HeckmanMFRegressor(n_factors=0, reg_bias=10.0, random_state=0).fit(
            X, r, o, X_unbiased=Xt[in_slice], y_unbiased=yt[in_slice])
    assert anchored.rho_penalty_shift_ < 2.0 and anchored.rho_ > 0
