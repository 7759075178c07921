"""Exclusion restrictions: side features declared selection-only or outcome-only."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from heckrec import BivariateProbitMF, HeckmanMFRegressor


def _exposure_data(n_users=150, n_items=100, rho=0.6, seed=0):
    """Biases-only selection data with a feature that moves exposure only (w_r = 0)."""
    rng = np.random.default_rng(seed)
    u, i = np.meshgrid(np.arange(n_users), np.arange(n_items), indexing="ij")
    u, i = u.ravel(), i.ravel()
    z = rng.standard_normal(u.size)          # e.g. a display position: exposure only
    x = rng.standard_normal(u.size)          # a feature of both
    g_o = -1.0 + 0.3 * rng.standard_normal(n_users)[u] + 0.3 * rng.standard_normal(n_items)[i] \
        + 1.0 * z + 0.3 * x
    g_r = 1.0 + 0.5 * rng.standard_normal(n_users)[u] + 0.5 * rng.standard_normal(n_items)[i] \
        + 0.5 * x
    v = rng.standard_normal(u.size)
    e = rho * v + np.sqrt(1 - rho**2) * rng.standard_normal(u.size)
    o = (g_o + v > 0).astype(int)
    r = np.where(o == 1, g_r + e, np.nan)
    return np.column_stack([u, i, z, x]).astype(float), r, o


def test_selection_only_weight_is_zero_and_rho_is_recovered():
    # With the exposure-only feature excluded from g_r, rho is identified by it (as in a
    # classic Heckman model), not only by the normal shape: the SE is smaller than the
    # unrestricted fit's, and the estimate is within 3 SE of the truth 0.6.
    X, r, o = _exposure_data()
    kw = dict(n_factors=0, reg_bias=1.0, random_state=0)
    free = HeckmanMFRegressor(**kw).fit(X, r, o)
    est = HeckmanMFRegressor(selection_only=[2], **kw).fit(X, r, o)
    assert est.params_.w_r[0] == 0.0 and est.params_.w_o[0] > 0.8
    assert free.params_.w_r[0] != 0.0
    assert abs(est.rho_ - 0.6) < 3 * est.rho_se_
    assert est.rho_se_ < free.rho_se_


def test_outcome_only_and_names_for_a_dataframe():
    X, r, o = _exposure_data(60, 40)
    df = pd.DataFrame(X, columns=["user", "item", "position", "x"])
    kw = dict(n_factors=0, random_state=0, compute_se=False)
    by_name = HeckmanMFRegressor(selection_only=["position"], outcome_only=("x",), **kw)
    by_name.fit(df, r, o)
    by_position = clone(by_name).set_params(selection_only=[2], outcome_only=[3]).fit(X, r, o)
    assert by_name.params_.w_r[0] == 0.0 and by_name.params_.w_o[1] == 0.0
    np.testing.assert_allclose(by_name.predict(df), by_position.predict(X), rtol=1e-10)
    clf = BivariateProbitMF(selection_only=[2], **kw).fit(X, (r > 1).astype(float), o)
    assert clf.params_.w_r[0] == 0.0


@pytest.mark.parametrize("kw, error, match", [
    (dict(selection_only=[0]), ValueError, "only X's columns 2 to 3 are side features"),
    (dict(selection_only=[4]), ValueError, "only X's columns 2 to 3"),
    (dict(selection_only=["position"]), ValueError, "names column 'position', which X"),
    (dict(selection_only=[2.0]), TypeError, "column positions in X"),
    (dict(selection_only=[2], outcome_only=[2]), ValueError, "in both selection_only"),
])
def test_exclusion_errors_name_the_problem(kw, error, match):
    X, r, o = _exposure_data(20, 15)
    with pytest.raises(error, match=match):
        HeckmanMFRegressor(n_factors=0, max_iter=5, **kw).fit(X, r, o)
