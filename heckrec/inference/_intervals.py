"""Intervals and tests for rho: Wald (atanh scale), profile likelihood, likelihood ratio.

Every model parametrises rho as a = atanh(rho), so the functions here work
on that scale and map the ends back with tanh: the interval then always
lies inside (-1, 1), as Stata's and R sampleSelection's do.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats
from sklearn.exceptions import ConvergenceWarning

from ..exceptions import DegenerateEstimateWarning

#: The profile search does not go beyond |rho| = tanh(A_LIMIT) = 0.99990920;
#: an end that would lie further out is reported as the boundary +-1.
A_LIMIT = 5.0


def check_alpha(alpha):
    """``alpha`` as a float in (0, 1): TypeError if not a real number, ValueError if outside."""
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.number)):
        raise TypeError(f"alpha must be a number in (0, 1), got {alpha!r}")
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    return alpha


def wald_interval_rho(athrho, athrho_se, alpha=0.05):
    """Wald interval for rho: ``tanh(atanh(rho) -+ z_{1-alpha/2} se(atanh rho))``.

    This is the interval Stata's ``heckman`` prints for rho. It is NaN where
    the standard error is (a degenerate fit).
    """
    z = stats.norm.ppf(1.0 - check_alpha(alpha) / 2.0)
    return float(np.tanh(athrho - z * athrho_se)), float(np.tanh(athrho + z * athrho_se))


def lr_statistic(loglik_full, loglik_restricted, df=1):
    """Likelihood-ratio statistic ``2 (l_full - l_restricted)`` (floored at 0) and its chi2 p-value."""
    stat = max(2.0 * (float(loglik_full) - float(loglik_restricted)), 0.0)
    return stat, float(stats.chi2.sf(stat, df))


@dataclass
class ProfileLikelihood:
    """The profile log-likelihood of rho and the interval it gives.

    The profile at rho is the log-likelihood maximised over every other
    parameter with rho held fixed. The interval holds the rho whose
    likelihood-ratio statistic ``2 (loglik_max - profile(rho))`` stays below
    the chi2(1) quantile ``crit``; unlike the Wald interval it does not
    assume the log-likelihood is quadratic, which matters near rho = +-1.

    Attributes
    ----------
    rho : ndarray
        The values of rho at which the profile was evaluated, sorted.
    loglik : ndarray
        The profile log-likelihood at those values (for the MF models, minus
        the penalised objective: see :func:`heckrec.inference.profile_rho`).
    rho_hat, loglik_max : float
        The estimate and the maximised log-likelihood.
    interval : tuple of float
        The ends; an end reported as -1 or +1 means the statistic never
        reached ``crit`` before ``|rho| = tanh(A_LIMIT)``: the interval is open
        to the boundary.
    alpha, crit : float
        1 - confidence level, and the chi2(1) quantile ``1 - alpha``.
    n_fits : int
        Restricted fits the search needed.
    """

    rho: np.ndarray
    loglik: np.ndarray
    rho_hat: float
    loglik_max: float
    interval: tuple
    alpha: float
    crit: float
    n_fits: int
    extra: dict = field(default_factory=dict)

    @property
    def lr_statistic(self):
        """``2 (loglik_max - loglik)`` at each evaluated rho."""
        return 2.0 * (self.loglik_max - self.loglik)

    def plot(self, ax=None, **kwargs):
        """Plot the profile with the interval marked (needs matplotlib: ``pip install heckrec[plot]``)."""
        from ..plotting import plot_profile

        return plot_profile(self, ax=ax, **kwargs)


def profile_interval(profile, a_hat, loglik_max, alpha=0.05, step=0.1, grid=None, xtol=1e-5):
    """Profile-likelihood interval for rho = tanh(a).

    Parameters
    ----------
    profile : callable
        ``profile(a) -> loglik``: the log-likelihood maximised with atanh(rho)
        held at ``a``.
    a_hat, loglik_max : float
        The unrestricted estimate of a and the maximised log-likelihood.
    alpha : float
        The interval has level 1 - alpha.
    step : float
        First step away from ``a_hat`` (on the atanh scale) when bracketing each
        end; the steps then double. A standard error of atanh(rho) is a good value.
    grid : array-like of rho, optional
        Values of rho at which to evaluate the profile first: for a plot, and
        to catch a higher maximum away from ``a_hat``. (The search for the
        ends alone explores only as far as the ends.)
    xtol : float
        Tolerance on a of the root search.

    Returns
    -------
    ProfileLikelihood
    """
    alpha = check_alpha(alpha)
    crit = float(stats.chi2.ppf(1.0 - alpha, 1))
    seen = {}

    def value(a):
        a = float(a)
        if a not in seen:
            seen[a] = float(profile(a))
        return seen[a]

    step = float(step) if np.isfinite(step) and step > 0 else 0.1
    if grid is not None:  # first, so that a higher maximum on the grid is seen
        for r in np.asarray(grid, dtype=float).ravel():
            if not -1.0 < r < 1.0:
                raise ValueError(f"grid values of rho must lie in (-1, 1), got {r}")
            value(np.arctanh(r))
    fitted = (float(a_hat), float(loglik_max))
    for _ in range(3):
        ends = _ends(value, a_hat, loglik_max, crit, step, xtol)
        a_best = max(seen, key=seen.get)
        if seen[a_best] <= loglik_max + 1e-6 * max(1.0, abs(loglik_max)):
            break
        # The profile rose above the fitted maximum: the fit is a local maximum.
        # Find the higher one along rho and measure the interval from there.
        below = [a for a in seen if a < a_best]
        above = [a for a in seen if a > a_best]
        a_hat, loglik_max = _maximise(value, a_best, max(below, default=-A_LIMIT),
                                      min(above, default=A_LIMIT))
    extra = {}
    if a_hat != fitted[0]:
        extra["fitted"] = {"rho": float(np.tanh(fitted[0])), "loglik": fitted[1]}
    if a_hat != fitted[0] and abs(a_hat) > A_LIMIT - 1e-3:
        extra["boundary"] = True
        warnings.warn(
            f"the profile likelihood keeps rising towards rho = {np.sign(a_hat):+.0f} "
            f"(highest at rho = {np.tanh(a_hat):+.5f}): the maximum is at the boundary, "
            "where the likelihood is not regular; the interval is open there and is "
            "measured from the highest value found", DegenerateEstimateWarning, stacklevel=3)
    elif a_hat != fitted[0]:
        warnings.warn(
            f"the fit is a local maximum: the profile likelihood reaches {loglik_max:.4f} at "
            f"rho = {np.tanh(a_hat):+.5f}, above the fitted {fitted[1]:.4f} at rho = "
            f"{np.tanh(fitted[0]):+.5f}; the interval is measured from the higher maximum. "
            "Refit from there (classic models: fit(start_params=...); MF estimators: "
            "warm_start=True) or check the outcome equation's specification.",
            ConvergenceWarning, stacklevel=3)
    a = np.array(sorted(seen))
    return ProfileLikelihood(rho=np.tanh(a), loglik=np.array([seen[v] for v in a]),
                             rho_hat=float(np.tanh(a_hat)), loglik_max=float(loglik_max),
                             interval=tuple(ends), alpha=alpha, crit=crit, n_fits=len(seen),
                             extra=extra)


def _ends(value, a_hat, loglik_max, crit, step, xtol):
    """The two ends of {a : 2 (loglik_max - value(a)) <= crit} around a_hat, as rho."""

    def excess(a):  # > 0 outside the interval
        return 2.0 * (loglik_max - value(a)) - crit

    ends = []
    for sign in (-1.0, 1.0):
        inner, width = float(a_hat), step
        while True:
            outer = float(np.clip(a_hat + sign * width, -A_LIMIT, A_LIMIT))
            if excess(outer) > 0:
                lo, hi = sorted((inner, outer))
                ends.append(float(np.tanh(optimize.brentq(excess, lo, hi, xtol=xtol))))
                break
            if abs(outer) >= A_LIMIT:
                ends.append(sign)  # never left the interval: open to the boundary
                break
            inner, width = outer, 2.0 * width
    return ends


def _maximise(value, a_start, lo, hi):
    """(a, value) at the maximum of the profile in (lo, hi), which holds ``a_start``."""
    res = optimize.minimize_scalar(lambda a: -value(a), bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-6})
    a = float(res.x) if -res.fun >= value(a_start) else float(a_start)
    return a, value(a)
