"""Parametric bootstrap: simulate from the fitted model, refit, collect the estimates."""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.utils import check_random_state

from ..exceptions import DegenerateEstimateWarning
from ._intervals import check_alpha

#: bias_corrected's default SE is the replications' spread from this many on, else the
#: fit's own SE.
MIN_REPLICATIONS_FOR_SE = 20


@dataclass
class BootstrapResult:
    """Estimates refitted on data simulated from a fitted model.

    Attributes
    ----------
    estimates : DataFrame of shape (n_boot, n_params)
        One row per replication; a row of NaN where the refit raised an error.
    estimate : Series
        The original fit's values of the same parameters.
    n_failed : int
        Replications whose refit raised an error (their rows are NaN).
    n_degenerate : int
        Replications whose refit ended at |rho| > 0.99 (kept: they are draws
        of the estimator too).
    estimate_se_atanh : float
        The original fit's standard error of atanh(rho) (NaN where unknown), which
        :meth:`bias_corrected` uses when there are too few replications for their
        spread to be a standard error.
    """

    estimates: pd.DataFrame
    estimate: pd.Series
    n_failed: int
    n_degenerate: int
    estimate_se_atanh: float = float("nan")

    @property
    def bse(self):
        """Bootstrap standard errors: the standard deviation of the replications."""
        return self.estimates.std(ddof=1)

    def conf_int(self, alpha=0.05, method="percentile"):
        """Bootstrap intervals for every parameter, as a DataFrame (columns lower, upper).

        ``"percentile"``: the alpha/2 and 1 - alpha/2 quantiles of the
        replications. ``"basic"``: those quantiles reflected about the
        estimate, ``2 estimate - q``, which corrects a bias of the estimator
        that the replications reproduce.
        """
        alpha = check_alpha(alpha)
        if method not in ("percentile", "basic"):
            raise ValueError(f"method must be 'percentile' or 'basic', got {method!r}")
        q = self.estimates.quantile([alpha / 2.0, 1.0 - alpha / 2.0]).T
        q.columns = ["lower", "upper"]
        if method == "basic":
            lower = 2 * self.estimate - q["upper"]
            upper = 2 * self.estimate - q["lower"]
            q = pd.DataFrame({"lower": lower, "upper": upper})
            if "rho" in q.index:  # keep the reflected rho interval inside [-1, 1]
                q.loc["rho"] = q.loc["rho"].clip(-1.0, 1.0)
        return q

    def bias_corrected(self, se=None):
        """Bias-corrected rho: a_bc = 2 atanh(rho_hat) - mean_b atanh(rho*_b).

        The replications are drawn from the fitted model, so their mean shift from the
        estimate is the estimator's bias at the fitted parameters; it is subtracted once,
        on the atanh scale (Efron and Tibshirani 1993, section 10.6). For the MF models it
        removes the incidental-parameter and shrinkage bias that the split-panel jackknife
        over-corrects on small grids (docs/inference.md, issue 14).

        The mean of B replications carries Monte Carlo noise of variance v / B, where v
        is the estimator's variance, so a_bc's variance is v (1 + 1/B): the SE below is
        inflated by sqrt(1 + 1/B). With that, a few replications suffice (B = 2 costs two
        warm-started refits; docs/inference.md measures the coverage).

        Parameters
        ----------
        se : {None, "replications", "fit"} or float, optional
            The SE of atanh(rho_hat) the interval is built from, before the inflation.
            ``"replications"``: their standard deviation of atanh(rho*);
            ``"fit"``: the fit's own (Hessian) SE, ``estimate_se_atanh``; a float: that
            value. Default: ``"fit"`` when fewer than ``MIN_REPLICATIONS_FOR_SE`` (20)
            were used and the fit's SE is known (the spread of two or three
            replications is not a standard error), else ``"replications"``.

        Returns
        -------
        BiasCorrectedRho
        """
        if "rho" not in self.estimates:
            raise ValueError("bias_corrected needs replications of rho")
        rho_star = self.estimates["rho"].to_numpy(float)
        rho_star = rho_star[np.isfinite(rho_star)]
        if rho_star.size < 1:
            raise ValueError("bias_corrected needs at least 1 successful replication")
        rho = float(self.estimate["rho"])
        at_boundary = int((np.abs(rho_star) > RHO_STOP).sum())
        if at_boundary:
            return not_corrected(at_boundary, rho_star.size, "at the fit's rho", rho,
                                 "bootstrap")
        a_star = atanh_clipped(rho_star)
        a_bc = 2.0 * np.arctanh(rho) - float(a_star.mean())
        se_a = self._se_atanh(se, a_star)
        inflated = se_a * np.sqrt(1.0 + 1.0 / a_star.size)
        estimate = float(np.tanh(a_bc))
        return BiasCorrectedRho(estimate=estimate, rho=rho, se=inflated * (1 - estimate**2),
                                se_atanh=inflated, method="bootstrap", n_used=int(a_star.size))

    def _se_atanh(self, se, a_star):
        """The SE of atanh(rho_hat) that ``bias_corrected``'s ``se`` names."""
        if se is None:
            few = a_star.size < MIN_REPLICATIONS_FOR_SE
            se = "fit" if few and np.isfinite(self.estimate_se_atanh) else "replications"
        if isinstance(se, str):
            if se == "replications":
                if a_star.size < 2:
                    raise ValueError("se='replications' needs at least 2 successful "
                                     "replications")
                return float(np.std(a_star, ddof=1))
            if se == "fit":
                if not np.isfinite(self.estimate_se_atanh):
                    raise ValueError(
                        f"se='fit' needs the fit's standard error of atanh(rho), which this "
                        f"result does not hold (estimate_se_atanh is NaN); with "
                        f"{a_star.size} replication(s) pass se= a number, or use at least "
                        f"{MIN_REPLICATIONS_FOR_SE} replications")
                return float(self.estimate_se_atanh)
            raise ValueError(f"se must be None, 'replications', 'fit' or a number, got {se!r}")
        se = float(se)
        if not (np.isfinite(se) and se > 0):
            raise ValueError(f"se must be a positive number, got {se!r}")
        return se

    def rho_interval(self, alpha=0.05, method="percentile"):
        """The bootstrap interval for rho as a tuple."""
        row = self.conf_int(alpha, method).loc["rho"]
        return float(row["lower"]), float(row["upper"])


@dataclass
class BiasCorrectedRho:
    """A bias-corrected rho with its SE and interval (the parametric bootstrap's).

    Attributes
    ----------
    estimate : float
        The corrected rho.
    rho : float
        The fit's rho_.
    se, se_atanh : float
        SE of ``estimate`` (delta method) and of atanh(estimate).
    method : str
        How the bias was estimated: ``"bootstrap"`` (one point, the fit's rho) or
        ``"linear bootstrap"`` (two points, :func:`heckrec.inference.bias_corrected_rho`).
    n_used : int
        Replications that entered the correction (at each point).
    bias_slope : float
        ``"linear bootstrap"`` only: the slope of the bias of atanh(rho) in atanh(rho)
        between the two points, as used (clipped to ``[-MAX_BIAS_SLOPE, MAX_BIAS_SLOPE]``);
        NaN for ``"bootstrap"``.
    one_step_estimate : float
        ``"linear bootstrap"`` only: the one-step corrected rho (the bias measured at
        the fit's rho alone), the second point; NaN for ``"bootstrap"``.
    """

    estimate: float
    rho: float
    se: float
    se_atanh: float
    method: str
    n_used: int
    bias_slope: float = float("nan")
    one_step_estimate: float = float("nan")

    @property
    def bias(self):
        """rho_ - estimate: the bias the correction removed."""
        return self.rho - self.estimate

    def conf_int(self, alpha=0.05):
        """(low, high): tanh(a_bc -+ z se_atanh), inside (-1, 1)."""
        from ._intervals import wald_interval_rho

        return wald_interval_rho(np.arctanh(self.estimate), self.se_atanh, check_alpha(alpha))

    def __repr__(self):
        low, high = self.conf_int()
        slope = "" if np.isnan(self.bias_slope) else f", bias_slope={self.bias_slope:+.3f}"
        return (f"BiasCorrectedRho(method={self.method!r}, estimate={self.estimate:+.4f}, "
                f"rho={self.rho:+.4f}, se={self.se:.4f}, conf_int=({low:+.4f}, {high:+.4f})"
                f"{slope})")


#: |rho| beyond this is a fit stopped while running to the boundary (the MF models'
#: L-BFGS stops there): its rho is +-1, not a value of a finite estimator.
RHO_STOP = 0.9999


def not_corrected(n_boundary, n_total, where, rho, method):
    """No correction: ``n_boundary`` of ``n_total`` replications ``where`` ran to rho = +-1,
    so the bias of atanh(rho) is not finite. Warns (at the caller's caller: the user's
    line) and returns a BiasCorrectedRho whose estimate, SE and interval are NaN."""
    warnings.warn(f"{n_boundary} of {n_total} bootstrap refits {where} ran to the boundary "
                  f"rho = +-1: under the fitted model the estimator reaches the boundary, so "
                  f"its bias on the atanh scale is not finite and no bias-corrected rho is "
                  f"returned (estimate NaN). The fit's own rho_ is not to be trusted either: "
                  f"see the degenerate-fit advice in docs/model.md.",
                  DegenerateEstimateWarning, stacklevel=3)
    return BiasCorrectedRho(estimate=float("nan"), rho=float(rho), se=float("nan"),
                            se_atanh=float("nan"), method=method,
                            n_used=int(n_total - n_boundary))


def atanh_clipped(rho):
    """atanh(rho) with rho kept inside (-1, 1): a replication at the boundary stays finite."""
    return np.arctanh(np.clip(rho, -1 + 1e-15, 1 - 1e-15))


#: The linear correction's bias slope is clipped to this: a steeper slope from two
#: noisy points would divide the estimate by a number near 0 (or flip its sign).
MAX_BIAS_SLOPE = 0.5


def linear_bias_correction(a_hat, a_star_hat, a_1, a_star_1, se_atanh):
    """Solve ``a + b(a) = a_hat`` for a bias ``b`` linear in ``a``, from two points.

    MacKinnon and Smith (1998, J. Econometrics 85, "Approximate bias correction in
    econometrics"), on the atanh scale: the bias measured at the estimate ``a_hat``
    (``b_0 = mean(a_star_hat) - a_hat``) and at the one-step corrected
    ``a_1 = a_hat - b_0`` (``b_1 = mean(a_star_1) - a_1``) give the slope
    ``s = (b_0 - b_1) / (a_hat - a_1)``, clipped to ``[-MAX_BIAS_SLOPE, MAX_BIAS_SLOPE]``,
    and the corrected value ``a = (a_hat - b_1 + s a_1) / (1 + s)``. With ``s = 0`` this
    is ``a_hat - b_1``, the one-step correction with the bias taken at ``a_1``
    instead of at ``a_hat``: where the bias grows towards the boundary, the bias at
    the estimate over-corrects (docs/inference.md). Where ``a_1 == a_hat`` the slope
    is taken as 0.

    Its SE is ``se_atanh`` inflated by ``sqrt(1 + 1/B)`` for the noise of the mean of the
    B replications at ``a_1``, not divided by ``1 + s`` as the delta method through
    ``a_hat`` would have it. Where the fit's SE understates the estimate's spread, it
    does so by about the factor the correction removes (BivariateProbitMF, rank 1, rho
    -0.8: an SD of rho_hat 1.49 times its mean SE at a slope of 0.43), and the divided
    SE under-covered (0.83); undivided it covers, conservatively where the fit's SE
    was right (docs/inference.md, "Two points").

    Parameters
    ----------
    a_hat : float
    a_star_hat, a_star_1 : array-like
        atanh(rho*) of the replications simulated at ``a_hat`` and at ``a_1``
        (non-finite values are dropped).
    a_1 : float
    se_atanh : float
        The SE of ``a_hat``.

    Returns
    -------
    a, se_a, slope : float
    """
    a_star_hat = np.asarray(a_star_hat, dtype=float)
    a_star_1 = np.asarray(a_star_1, dtype=float)
    a_star_hat, a_star_1 = a_star_hat[np.isfinite(a_star_hat)], a_star_1[np.isfinite(a_star_1)]
    if a_star_hat.size < 1 or a_star_1.size < 1:
        raise ValueError("the linear bias correction needs at least 1 successful "
                         "replication at each point")
    b_0 = float(a_star_hat.mean()) - a_hat
    b_1 = float(a_star_1.mean()) - a_1
    step = a_hat - a_1
    slope = 0.0 if step == 0.0 else (b_0 - b_1) / step
    slope = float(np.clip(slope, -MAX_BIAS_SLOPE, MAX_BIAS_SLOPE))
    a = (a_hat - b_1 + slope * a_1) / (1.0 + slope)
    se_a = se_atanh * np.sqrt(1.0 + 1.0 / a_star_1.size)
    return float(a), float(se_a), slope


def seeds_for(random_state, n):
    """``n`` independent integer seeds from ``random_state``, the same for any ``n_jobs``."""
    entropy = int(check_random_state(random_state).randint(0, 2**31 - 1))
    return [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(entropy).spawn(n)]


def check_n_boot(n_boot):
    """Raise ValueError unless ``n_boot`` is an integer >= 2."""
    if isinstance(n_boot, (bool, np.bool_)) or not isinstance(n_boot, (int, np.integer)) \
            or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}")


def run_guarded(replicate, seed):
    """``replicate(seed)``, or None where the refit raised a numerical error (counted as
    failed by the caller); its warnings are silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence / degeneracy: counted, not printed
        try:
            return replicate(seed)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            return None


def parametric_bootstrap(replicate, estimate, n_boot, n_jobs=None, random_state=None,
                         estimate_se_atanh=float("nan")):
    """Run ``replicate(seed) -> dict of estimates`` ``n_boot`` times, in parallel.

    Parameters
    ----------
    replicate : callable
        Simulates one data set from the fitted model with ``seed`` and refits it.
    estimate : dict
        The original fit's estimates, same keys (must contain ``"rho"``).
    n_boot : int
        Replications.
    n_jobs : int or None
        joblib processes (``None``: 1, ``-1``: all cores). The result does not
        depend on it: each replication has its own seed.
    random_state : int, RandomState or None
    estimate_se_atanh : float, default=NaN
        The original fit's standard error of atanh(rho), kept on the result.

    Returns
    -------
    BootstrapResult
    """
    check_n_boot(n_boot)
    seeds = seeds_for(random_state, int(n_boot))
    rows = Parallel(n_jobs=n_jobs)(delayed(run_guarded)(replicate, s) for s in seeds)
    names = list(estimate)
    table = pd.DataFrame([r if r is not None else {k: np.nan for k in names} for r in rows],
                         columns=names)
    failed = sum(r is None for r in rows)
    degenerate = int((table["rho"].abs() > 0.99).sum())
    return BootstrapResult(table, pd.Series(estimate, dtype=float), failed, degenerate,
                           float(estimate_se_atanh))
