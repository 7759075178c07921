"""One entry point per kind of inference for rho, for every heckrec model.

Each function takes either a classic :class:`heckrec.classic.HeckmanResults`
(which holds its data) or a fitted MF estimator together with the data it
was fitted on. For the MF estimators every restricted fit is the estimator's
own fit with ``fixed_rho`` set, warm-started from the nearest solution, so
the profile is of the same penalised objective the estimator minimises.
"""

import copy
import warnings

import numpy as np
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..exceptions import DegenerateEstimateWarning
from ._bootstrap import parametric_bootstrap
from ._intervals import lr_statistic, profile_interval, wald_interval_rho


def _is_classic(fitted):
    return hasattr(fitted, "model") and hasattr(fitted, "profile_rho")


def _check_mf(fitted, X, y, what):
    check_is_fitted(fitted, "theta_")
    if X is None or (y is None and what != "bootstrap"):
        raise ValueError(f"the {what} of an MF estimator refits it: pass the data it was "
                         "fitted on (X, y, o)")
    if not fitted._selection_modelled or fitted.fixed_rho is not None:
        raise ValueError(f"the {what} needs a fit in which rho was estimated (this one has "
                         + ("every pair observed)" if not fitted._selection_modelled
                            else f"fixed_rho={fitted.fixed_rho})"))
    n_rows = _num_samples(X)
    if n_rows != fitted.n_pairs_:
        # F31: a bootstrap on 10 of 2400 pairs ran and returned an interval
        raise ValueError(f"the {what} refits the estimator on the pairs it was fitted on, but "
                         f"X has {n_rows} rows and the fit had {fitted.n_pairs_}: pass the "
                         "training data")
    if getattr(fitted, "likelihood", "exact") != "exact":
        raise ValueError(f"the {what} of BivariateProbitMF needs likelihood='exact': "
                         f"refits with the simulated likelihood {fitted.likelihood!r} maximise "
                         "a different function from the exact one reported in loglik_")


def _refit(fitted, X, y, o, start, fixed_rho):
    """Copy of ``fitted`` refitted from ``start`` with rho held at ``fixed_rho`` (or free)."""
    est = copy.deepcopy(fitted)
    est.theta_ = start
    est.set_params(fixed_rho=fixed_rho, warm_start=True, compute_se=False, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateEstimateWarning)
        return est.fit(X, y, o)


def _mf_profile(fitted, X, y, o):
    """(profile(a), a_hat, loglik_max): the penalised profile with warm starts."""
    index = fitted._layout.index("a")
    best = _refit(fitted, X, y, o, fitted.theta_, None)  # polish the maximum first
    solutions = {float(best.theta_[index]): best.theta_}

    def profile(a):
        nearest = min(solutions, key=lambda b: abs(b - a))
        est = _refit(fitted, X, y, o, solutions[nearest], float(np.tanh(a)))
        solutions[a] = est.theta_
        return -est.objective_

    a_hat = float(best.theta_[index])
    return profile, a_hat, -best.objective_


def wald_interval(fitted, alpha=0.05):
    """Wald interval for rho: tanh of atanh(rho) -+ z se on the atanh scale.

    Parameters
    ----------
    fitted : HeckmanResults (ML) or fitted HeckmanMFRegressor / BivariateProbitMF
    alpha : float

    Returns
    -------
    (lower, upper)
    """
    if _is_classic(fitted):
        return fitted.conf_int_rho(alpha, method="wald")
    check_is_fitted(fitted, "theta_")
    rho = fitted.rho_
    return wald_interval_rho(np.arctanh(rho), fitted.rho_se_ / (1.0 - rho**2), alpha)


def profile_rho(fitted, X=None, y=None, o=None, alpha=0.05, grid=None):
    """Profile log-likelihood of rho and its interval of level 1 - alpha.

    For the MF estimators the "likelihood" is minus the penalised objective
    (the log posterior under the L2 priors, see docs/inference.md): each
    point refits every embedding, bias and scalar with rho held fixed,
    warm-started from the nearest point already fitted.

    Parameters
    ----------
    fitted : HeckmanResults (ML) or fitted HeckmanMFRegressor / BivariateProbitMF
    X, y, o : the MF estimator's training data (None for HeckmanResults)
    alpha : float
    grid : array-like of rho, optional
        Further values at which to evaluate the profile (for a plot).

    Returns
    -------
    ProfileLikelihood
    """
    if _is_classic(fitted):
        return fitted.profile_rho(alpha=alpha, grid=grid)
    _check_mf(fitted, X, y, "profile likelihood")
    profile, a_hat, top = _mf_profile(fitted, X, y, o)
    se = fitted.rho_se_ / (1.0 - fitted.rho_**2)
    return profile_interval(profile, a_hat, top, alpha, step=se if np.isfinite(se) else 0.1,
                            grid=grid)


def lr_test_rho(fitted, X=None, y=None, o=None):
    """Likelihood-ratio test of rho = 0: (statistic, p-value) against chi2(1).

    Classic models: the ML fit against the two equations fitted separately.
    MF estimators: twice the rise of the penalised objective when the model
    is refitted with ``fixed_rho=0`` (the same penalties on both sides).
    """
    if _is_classic(fitted):
        return fitted.lr_test_rho
    _check_mf(fitted, X, y, "likelihood-ratio test")
    profile, a_hat, top = _mf_profile(fitted, X, y, o)
    return lr_statistic(top, profile(0.0))


def bootstrap_rho(fitted, X=None, n_boot=199, n_jobs=None, random_state=None):
    """Parametric bootstrap of rho (and sigma): simulate from the fit, refit, n_boot times.

    MF estimators: ``(y, o)`` are drawn by :meth:`simulate` at the pairs of
    ``X`` and each refit starts from the original estimate (``warm_start``).

    Returns
    -------
    BootstrapResult
    """
    if _is_classic(fitted):
        return fitted.bootstrap(n_boot=n_boot, n_jobs=n_jobs, random_state=random_state)
    _check_mf(fitted, X, None, "bootstrap")

    def replicate(seed):
        y_b, o_b = fitted.simulate(X, random_state=seed)
        est = _refit(fitted, X, y_b, o_b, fitted.theta_, None)
        return {name: value for name, value, _ in est._scalar_estimates()}

    estimate = {name: value for name, value, _ in fitted._scalar_estimates()}
    return parametric_bootstrap(replicate, estimate, n_boot, n_jobs, random_state)
