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
from joblib import Parallel, delayed
from sklearn.utils.validation import _num_samples, check_is_fitted

from ..exceptions import DegenerateEstimateWarning
from ._bootstrap import (
    RHO_STOP,
    BiasCorrectedRho,
    atanh_clipped,
    check_n_boot,
    linear_bias_correction,
    not_corrected,
    parametric_bootstrap,
    run_guarded,
    seeds_for,
)
from ._intervals import lr_statistic, profile_interval, wald_interval_rho


def _is_classic(fitted):
    return hasattr(fitted, "model") and hasattr(fitted, "profile_rho")


def _check_mf(fitted, X, y, what, slice_=None, simulates=False):
    check_is_fitted(fitted, "theta_")
    given = 0 if not slice_ or slice_.get("X_unbiased") is None else _num_samples(
        slice_["X_unbiased"])
    if given != getattr(fitted, "n_unbiased_", 0):
        # a refit without the MAR slice maximises another likelihood than the fit's
        raise ValueError(f"the {what} refits the estimator as it was fitted: the fit had a "
                         f"MAR slice of {fitted.n_unbiased_} pairs and {given} were passed; "
                         "pass the same X_unbiased=, y_unbiased=")
    # the simulation-based methods draw their own y; the others refit the fit's data
    if X is None or (y is None and not simulates):
        raise ValueError(f"the {what} of an MF estimator refits it: pass the data it was "
                         "fitted on (X, y, o)")
    if not fitted._selection_modelled or fitted.fixed_rho is not None:
        raise ValueError(f"the {what} needs a fit in which rho was estimated (this one has "
                         + ("every pair observed)" if not fitted._selection_modelled
                            else f"fixed_rho={fitted.fixed_rho})"))
    if fitted._rho_held_for_design():
        raise ValueError(f"the {what} needs a fit in which rho was estimated: this fit held "
                         "rho at 0 because the design does not identify it (rho_structural_se_ "
                         f"{fitted.rho_structural_se_:.3g}); refit with "
                         "if_not_identified='estimate' to study the free fit's rho")
    n_rows, fitted_rows = _num_samples(X), fitted_rows_of_X(fitted)
    if n_rows != fitted_rows:
        # F31: a bootstrap on 10 of 2400 pairs ran and returned an interval
        raise ValueError(f"the {what} refits the estimator on the pairs it was fitted on, but "
                         f"X has {n_rows} rows and the fit had {fitted_rows}: pass the "
                         "training data")
    if getattr(fitted, "likelihood", "exact") != "exact":
        raise ValueError(f"the {what} of BivariateProbitMF needs likelihood='exact': "
                         f"refits with the simulated likelihood {fitted.likelihood!r} maximise "
                         "a different function from the exact one reported in loglik_")


def fitted_rows_of_X(fitted):
    """Rows of the X ``fitted`` was fitted on (``n_pairs_`` also counts the unlisted pairs
    of an ``unobserved="complement"`` or ``"sampled"`` fit)."""
    return getattr(fitted, "_n_rows", fitted.n_pairs_)


def _slice(X_unbiased, y_unbiased):
    """The MAR slice as fit keyword arguments, or None."""
    if X_unbiased is None and y_unbiased is None:
        return None
    return {"X_unbiased": X_unbiased, "y_unbiased": y_unbiased}


def _refit(fitted, X, y, o, start, fixed_rho, slice_=None):
    """Copy of ``fitted`` refitted from ``start`` with rho held at ``fixed_rho`` (or free),
    with the fit's MAR slice (``slice_``: X_unbiased, y_unbiased) if it had one."""
    est = copy.deepcopy(fitted)
    est.theta_ = start
    # the refits are of the estimator whose rho the fit estimated: rho stays free even
    # where a replication's design would not identify it, under the criterion the fit
    # used ("auto" decides from the SEs, which the refits do not compute)
    est.set_params(fixed_rho=fixed_rho, warm_start=True, compute_se=False, verbose=0,
                   if_not_identified="estimate", rho_criterion=fitted.rho_criterion_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateEstimateWarning)
        return est.fit(X, y, o, **(slice_ or {}))


def _mf_profile(fitted, X, y, o, slice_=None):
    """(profile(a), a_hat, loglik_max): the penalised profile with warm starts."""
    if getattr(fitted, "rho_criterion_", "penalised") != "penalised":
        return _marginal_profile(fitted, X, y, o, slice_)
    best = _refit(fitted, X, y, o, fitted.theta_, None, slice_)  # polish the maximum first
    a_hat = float(best.theta_[fitted._layout.index("a")])
    profile = _warm_profile(fitted, X, y, o, a_hat, best.theta_, slice_,
                            lambda est: -est.objective_)
    return profile, a_hat, -best.objective_


def _warm_profile(base, X, y, o, a_hat, theta, slice_, score):
    """a -> score(refit of ``base`` at rho = tanh(a)), each refit warm-started from the
    nearest a already fitted (``theta`` at ``a_hat`` to begin with)."""
    solutions = {a_hat: theta}

    def profile(a):
        nearest = min(solutions, key=lambda b: abs(b - a))
        est = _refit(base, X, y, o, solutions[nearest], float(np.tanh(a)), slice_)
        solutions[a] = est.theta_
        return score(est)

    return profile


def _marginal_profile(fitted, X, y, o, slice_=None):
    """The profile of the Laplace marginal likelihood that chose rho_ (``rho_criterion``
    "laplace" or "evidence"), at the fit's penalties: each point a penalised fit at fixed
    rho, warm-started from the nearest, as in the fit's own search and its rho_se_."""
    base = copy.deepcopy(fitted)
    base.set_params(rho_criterion="laplace")
    base._prior_precisions = dict(fitted.prior_precisions_)
    a_hat = float(np.arctanh(fitted.rho_))
    profile = _warm_profile(base, X, y, o, a_hat, fitted.theta_, slice_,
                            lambda est: est.log_marginal_)
    return profile, a_hat, profile(a_hat)


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
    return wald_interval_rho(np.arctanh(fitted.rho_), _se_atanh(fitted), alpha)


def profile_rho(fitted, X=None, y=None, o=None, alpha=0.05, grid=None, *, X_unbiased=None,
                y_unbiased=None):
    """Profile log-likelihood of rho and its interval of level 1 - alpha.

    For the MF estimators the "likelihood" is minus the penalised objective
    (the log posterior under the L2 priors, see docs/inference.md): each
    point refits every embedding, bias and scalar with rho held fixed,
    warm-started from the nearest point already fitted. A fit with
    ``rho_criterion="laplace"`` or ``"evidence"`` is profiled on the criterion
    that chose its rho_, the Laplace marginal likelihood (``log_marginal_``), at
    the fit's prior precisions (``prior_precisions_``).

    Parameters
    ----------
    fitted : HeckmanResults (ML) or fitted HeckmanMFRegressor / BivariateProbitMF
    X, y, o : the MF estimator's training data (None for HeckmanResults)
    alpha : float
    grid : array-like of rho, optional
        Further values at which to evaluate the profile (for a plot).
    X_unbiased, y_unbiased : the MAR slice the MF estimator was fitted with, if any
        (every refit must maximise the fit's likelihood, slice term included).

    Returns
    -------
    ProfileLikelihood
    """
    if _is_classic(fitted):
        return fitted.profile_rho(alpha=alpha, grid=grid)
    slice_ = _slice(X_unbiased, y_unbiased)
    _check_mf(fitted, X, y, "profile likelihood", slice_)
    profile, a_hat, top = _mf_profile(fitted, X, y, o, slice_)
    se = _se_atanh(fitted)
    return profile_interval(profile, a_hat, top, alpha, step=se if np.isfinite(se) else 0.1,
                            grid=grid)


def lr_test_rho(fitted, X=None, y=None, o=None, *, X_unbiased=None, y_unbiased=None):
    """Likelihood-ratio test of rho = 0: (statistic, p-value) against chi2(1).

    Classic models: the ML fit against the two equations fitted separately.
    MF estimators: twice the rise of the penalised objective when the model
    is refitted with ``fixed_rho=0`` (the same penalties on both sides; the MAR
    slice, if the fit had one, passed again); under ``rho_criterion="laplace"`` or
    ``"evidence"``, twice the fall of the Laplace marginal likelihood.
    """
    if _is_classic(fitted):
        return fitted.lr_test_rho
    slice_ = _slice(X_unbiased, y_unbiased)
    _check_mf(fitted, X, y, "likelihood-ratio test", slice_)
    profile, a_hat, top = _mf_profile(fitted, X, y, o, slice_)
    return lr_statistic(top, profile(0.0))


def bootstrap_rho(fitted, X=None, n_boot=199, n_jobs=None, random_state=None, *,
                  X_unbiased=None):
    """Parametric bootstrap of rho (and sigma): simulate from the fit, refit, n_boot times.

    MF estimators: ``(y, o)`` are drawn by :meth:`simulate` at the pairs of
    ``X`` (a fit from the log, ``unobserved="complement"`` or ``"sampled"``: a new log is
    drawn over its users x items by :meth:`simulate_log`) and each refit starts from the
    original estimate (``warm_start``). A fit
    with a MAR slice needs its ``X_unbiased``: the slice's outcomes are drawn too,
    from the outcome's marginal (a randomly exposed pair has no selection).

    For a bias-corrected rho, a few replications are enough:
    ``bootstrap_rho(est, X, n_boot=2).bias_corrected()`` costs two warm-started refits
    and builds its interval from the fit's SE inflated by sqrt(1 + 1/n_boot)
    (:meth:`BootstrapResult.bias_corrected`; coverage in docs/inference.md).

    Returns
    -------
    BootstrapResult
    """
    if _is_classic(fitted):
        return fitted.bootstrap(n_boot=n_boot, n_jobs=n_jobs, random_state=random_state)
    given = None if X_unbiased is None else {"X_unbiased": X_unbiased, "y_unbiased": None}
    _check_mf(fitted, X, None, "bootstrap", given, simulates=True)

    def replicate(seed):
        return _estimates(_refit_simulated(fitted, X, X_unbiased, seed, None, fitted.theta_))

    return parametric_bootstrap(replicate, _estimates(fitted), n_boot, n_jobs, random_state,
                                estimate_se_atanh=_se_atanh(fitted))


def bias_corrected_rho(fitted, X=None, n_boot=2, n_jobs=None, random_state=None, *,
                       X_unbiased=None):
    """rho corrected for the MF fit's bias by the parametric bootstrap at two points.

    The one-step correction ``bootstrap_rho(...).bias_corrected()`` subtracts the bias
    measured at the estimate. The MF fits' bias grows towards rho = +-1, so at an
    estimate already pushed outwards it is larger than at the truth, and the one-step
    correction overshoots (measured in docs/inference.md). This function measures the
    bias a second time, at the one-step corrected value, and solves for the rho whose
    bias, linear between the two points, leads to the estimate (MacKinnon and Smith
    1998; :func:`heckrec.inference._bootstrap.linear_bias_correction`). Replication j
    at the second point reuses the random numbers of replication j at the first
    (:meth:`simulate`'s ``rho=``: the same ``o``, ``y`` moved by rho alone) and starts
    from its solution, so the difference of the two biases carries little simulation
    noise and the second refits are short. Cost: ``2 n_boot`` warm-started refits. A fit
    from the log is corrected on logs drawn by :meth:`simulate_log`.

    Parameters
    ----------
    fitted : fitted HeckmanMFRegressor or BivariateProbitMF
        Fitted with rho free (and ``likelihood="exact"`` for BivariateProbitMF).
    X : the pairs it was fitted on
    n_boot : int, default=2
        Replications at each of the two points (>= 2).
    n_jobs : int or None
        joblib processes; the result does not depend on it.
    random_state : int, RandomState or None
    X_unbiased : the fit's MAR slice pairs, if it had one (their outcomes are drawn too).

    Returns
    -------
    BiasCorrectedRho
        ``method="linear bootstrap"``, with ``bias_slope`` and ``one_step_estimate``;
        ``conf_int(alpha)`` gives the interval, and ``est.summary(corrected=...)``
        shows it beside rho_. Where a replication's refit runs to rho = +-1 the bias of
        atanh(rho) is not finite: a ``DegenerateEstimateWarning`` says so and the
        estimate, SE and interval are NaN (the second point is not run if the first
        already met the boundary).
    """
    if _is_classic(fitted):
        raise TypeError("bias_corrected_rho is for the MF estimators, whose per-user and "
                        "per-item parameters bias rho; a classic result's ML rho has no "
                        "such bias (use its bootstrap() for a bootstrap interval)")
    given = None if X_unbiased is None else {"X_unbiased": X_unbiased, "y_unbiased": None}
    _check_mf(fitted, X, None, "bias correction", given, simulates=True)
    check_n_boot(n_boot)
    if getattr(fitted, "rho_criterion_", "penalised") != "penalised":
        # Measured (docs/inference.md): the evidence pulls a binary rho towards 0, while
        # data simulated from its shrunk biases show a bias the other way.
        warnings.warn(f"bias_corrected_rho is measured for penalised fits; this fit chose "
                      f"rho by the marginal likelihood (rho_criterion_="
                      f"{fitted.rho_criterion_!r}), whose bias the replications misjudge: on "
                      f"a simulated binary grid at rho 0.8 the correction moved rho further "
                      f"from the truth and its interval covered 2 of 10 datasets "
                      f"(docs/inference.md). Correct a rho_criterion='penalised' fit instead.",
                      UserWarning, stacklevel=2)
    se_atanh = _se_atanh(fitted)
    if not np.isfinite(se_atanh):
        raise ValueError("bias_corrected_rho needs the fit's standard error of rho (fit with "
                         "compute_se=True, and not degenerate: rho_se_ is NaN here)")
    seeds = seeds_for(random_state, int(n_boot))

    def replicate(job):
        seed, rho, base, start = job
        est = _refit_simulated(fitted, X, X_unbiased, seed, rho, start, base)
        return float(atanh_clipped(est.rho_)), est, abs(est.rho_) > RHO_STOP

    def run(jobs):
        rows = Parallel(n_jobs=n_jobs)(delayed(run_guarded)(replicate, job) for job in jobs)
        a_star = np.array([np.nan if row is None else row[0] for row in rows])
        return a_star, rows, sum(row is not None and row[2] for row in rows)

    a_hat = float(np.arctanh(fitted.rho_))
    a_star_hat, first, n_boundary = run([(seed, None, fitted, fitted.theta_)
                                         for seed in seeds])
    if not np.isfinite(a_star_hat).any():
        raise ValueError("every bootstrap refit failed; no bias correction is possible")
    if n_boundary:  # a replication stopped at rho = +-1: its atanh, the bias, is infinite
        return not_corrected(n_boundary, len(seeds), "at the fit's rho", fitted.rho_,
                             "linear bootstrap")
    # the one-step corrected value, kept where data can still be drawn (|rho| <= 0.999)
    a_1 = float(np.clip(2.0 * a_hat - np.nanmean(a_star_hat), -SECOND_POINT_LIMIT,
                        SECOND_POINT_LIMIT))

    def start_at(row):
        # replication j's own solution, its rho moved by as much as the truth moved (its
        # own estimator: a simulated log may lack a user, and so change the layout)
        usable = row is not None and abs(row[0]) < SECOND_POINT_LIMIT
        base = row[1] if usable else fitted
        start = base.theta_.copy()
        start[base._layout.index("a")] = row[0] - (a_hat - a_1) if usable else a_1
        return base, start

    a_star_1, _, n_boundary = run([(seed, float(np.tanh(a_1)), *start_at(row))
                                   for seed, row in zip(seeds, first)])
    if n_boundary:
        return not_corrected(n_boundary, len(seeds),
                             f"at the second point (rho {np.tanh(a_1):+.3f})", fitted.rho_,
                             "linear bootstrap")
    a, se_a, slope = linear_bias_correction(a_hat, a_star_hat, a_1, a_star_1, se_atanh)
    rho_bc = float(np.tanh(a))
    n_used = min(np.isfinite(a_star_hat).sum(), np.isfinite(a_star_1).sum())
    return BiasCorrectedRho(estimate=rho_bc, rho=float(fitted.rho_), se=se_a * (1 - rho_bc**2),
                            se_atanh=se_a, method="linear bootstrap", n_used=int(n_used),
                            bias_slope=slope, one_step_estimate=float(np.tanh(a_1)))


#: bias_corrected_rho's second point stays within |atanh(rho)| <= this (|rho| <= 0.999).
SECOND_POINT_LIMIT = float(np.arctanh(0.999))


def _estimates(fitted):
    return {name: value for name, value, _ in fitted._scalar_estimates()}


def _se_atanh(fitted):
    return fitted.rho_se_ / (1.0 - fitted.rho_**2)


def _refit_simulated(fitted, X, X_unbiased, seed, rho, start, base=None):
    """An estimator refitted from ``start`` on data simulated from ``fitted`` with ``seed``
    (with rho replaced by ``rho`` unless None), the MAR slice's outcomes drawn too.

    A listed fit is simulated at the pairs of X; a fit from the log by a new log over its
    users x items (:meth:`simulate_log`). The refit is a copy of ``base`` (default
    ``fitted``), whose theta_ ``start`` belongs to its layout."""
    if fitted.unobserved == "listed":
        y_b, o_b = fitted.simulate(X, random_state=seed, rho=rho)
    else:
        X, y_b = fitted.simulate_log(random_state=seed, rho=rho)
        o_b = None
    slice_ = None
    if X_unbiased is not None:
        # simulate draws y at every pair, o aside: at the slice that is the marginal
        y_slice = fitted.simulate(X_unbiased, np.random.RandomState([int(seed), 1]), rho=rho)[0]
        slice_ = {"X_unbiased": X_unbiased, "y_unbiased": y_slice}
    return _refit(fitted if base is None else base, X, y_b, o_b, start, None, slice_)
