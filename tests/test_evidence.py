"""The evidence's maximum over rho and the prior precisions (heckrec.models._evidence)."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone

from heckrec import BivariateProbitMF
from heckrec.datasets import make_selection_mf
from heckrec.models._base import SelectionMFBase
from heckrec.models._evidence import EVIDENCE_STEP, newton_maximum

CENTRE = np.array([0.3, -1.2, 2.0])
A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, -0.8], [0.5, -0.8, 2.0]])


def _concave(x):
    """-1/2 (x - c)' A (x - c) - 0.1 sum (x - c)^4: maximum c, Hessian -A there."""
    z = x - CENTRE
    return -0.5 * z @ A @ z - 0.1 * np.sum(z**4)


def test_newton_reaches_the_maximum_and_its_hessian():
    x, hessian, converged = newton_maximum(_concave, CENTRE + [0.4, -0.3, 0.2],
                                           gain_tol=1e-12)
    assert converged
    # a predicted gain below 1e-12 at curvatures above 1: within 1e-5 of the maximum
    assert x == pytest.approx(CENTRE, abs=1e-5)
    # the diagonal differenced there (error 0.1 * 24 * step^2 / 12 = 5e-4), the off-diagonal
    # terms at the start and then BFGS-updated along the steps (measured 2.5e-3 off)
    assert np.diag(hessian) == pytest.approx(-np.diag(A), abs=1e-3)
    assert hessian == pytest.approx(-A, abs=1e-2)


def test_newton_stops_within_its_gain_tolerance():
    x, _, converged = newton_maximum(_concave, CENTRE + [0.4, -0.3, 0.2], gain_tol=0.01)
    assert converged
    assert _concave(CENTRE) - _concave(x) < 0.01


def test_newton_climbs_out_of_a_convex_region():
    def bump(x):  # convex more than 1 / sqrt(2) from its peak: Newton alone would descend
        return float(np.exp(-np.sum((x - CENTRE) ** 2)))

    x, hessian, converged = newton_maximum(bump, CENTRE + [1.0, 0.5, 0.0], max_steps=30,
                                           gain_tol=1e-10)
    assert converged
    assert x == pytest.approx(CENTRE, abs=5e-3)
    assert np.linalg.eigvalsh(hessian).max() < 0


def test_newton_stops_where_the_evidence_is_not_finite():
    x0 = np.array([0.0, 1.0])
    x, hessian, converged = newton_maximum(lambda x: np.nan if x[0] > 0 else -x @ x, x0)
    assert hessian is None and not converged
    assert x == pytest.approx(x0)


def _log_m_at(est, X, r, o):
    """log m as a function of (atanh(rho), log of the four bias precisions), by refits of
    ``est``'s settings under ``rho_criterion="laplace"``."""
    inner = clone(est).set_params(warm_start=True, compute_se=False, rho_criterion="laplace")
    inner.classes_, inner._draws = est.classes_, None
    groups = ("bu_o", "bi_o", "bu_r", "bi_r")

    def log_m(x):
        inner._prior_precisions = {**est.prior_precisions_,
                                   **dict(zip(groups, np.exp(x[1:]).tolist()))}
        inner.set_params(fixed_rho=float(np.tanh(x[0])))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            SelectionMFBase.fit(inner, X, r, o)
        return inner.log_marginal_

    x = np.array([np.arctanh(est.rho_)] + [np.log(est.prior_precisions_[g]) for g in groups])
    return log_m, x


def test_evidence_is_stationary_in_rho_and_every_precision():
    # Biases only, true rho 0.8, 300 x 200, 30% observed: MacKay's fixed point alone left
    # log m rising in the outcome's bias precisions (on the 400 x 300 grid by 9 to 11 per
    # unit of log precision) and rho_ 0.03 short of the truth (docs/inference.md).
    X, r, o, _ = make_selection_mf(300, 200, n_factors=0, rho=0.8, density=0.3,
                                   outcome="binary", random_state=3)
    est = BivariateProbitMF(random_state=0, if_not_identified="estimate").fit(X, r, o)
    assert est.rho_criterion_ == "evidence"
    log_m, x = _log_m_at(est, X, r, o)
    h = EVIDENCE_STEP
    gradient = [(log_m(x + h * e) - log_m(x - h * e)) / (2 * h) for e in np.eye(x.size)]
    # the Newton steps stop within 5e-3 of the maximum, where the curvature is 100 to 400
    # per unit squared: a gradient of at most about 2
    assert np.abs(gradient).max() < 2.0
    assert abs(est.rho_ - 0.8) < 2 * est.rho_se_
