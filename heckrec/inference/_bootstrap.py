"""Parametric bootstrap: simulate from the fitted model, refit, collect the estimates."""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.utils import check_random_state

from ._intervals import check_alpha


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
    """

    estimates: pd.DataFrame
    estimate: pd.Series
    n_failed: int
    n_degenerate: int

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

        Parameters
        ----------
        se : float, optional
            The SE of atanh(rho) to build the interval with. Default: the replications'
            standard deviation of atanh(rho*).

        Returns
        -------
        BiasCorrectedRho
        """
        if "rho" not in self.estimates:
            raise ValueError("bias_corrected needs replications of rho")
        a_star = np.arctanh(np.clip(self.estimates["rho"].to_numpy(float), -1 + 1e-15,
                                    1 - 1e-15))
        a_star = a_star[np.isfinite(a_star)]
        if a_star.size < 2:
            raise ValueError("bias_corrected needs at least 2 successful replications")
        rho = float(self.estimate["rho"])
        a_bc = 2.0 * np.arctanh(rho) - float(a_star.mean())
        se_a = float(np.std(a_star, ddof=1)) if se is None else float(se)
        estimate = float(np.tanh(a_bc))
        return BiasCorrectedRho(estimate=estimate, rho=rho, se=se_a * (1 - estimate**2),
                                se_atanh=se_a, method="bootstrap", n_used=int(a_star.size))

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
        How the bias was estimated ("bootstrap").
    n_used : int
        Replications that entered the correction.
    """

    estimate: float
    rho: float
    se: float
    se_atanh: float
    method: str
    n_used: int

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
        return (f"BiasCorrectedRho(method={self.method!r}, estimate={self.estimate:+.4f}, "
                f"rho={self.rho:+.4f}, se={self.se:.4f}, conf_int=({low:+.4f}, {high:+.4f}))")


def seeds_for(random_state, n):
    """``n`` independent integer seeds from ``random_state``, the same for any ``n_jobs``."""
    entropy = int(check_random_state(random_state).randint(0, 2**31 - 1))
    return [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(entropy).spawn(n)]


def _guarded(replicate, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence / degeneracy: counted, not printed
        try:
            return replicate(seed)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            return None


def parametric_bootstrap(replicate, estimate, n_boot, n_jobs=None, random_state=None):
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

    Returns
    -------
    BootstrapResult
    """
    if isinstance(n_boot, (bool, np.bool_)) or not isinstance(n_boot, (int, np.integer)) \
            or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}")
    seeds = seeds_for(random_state, int(n_boot))
    rows = Parallel(n_jobs=n_jobs)(delayed(_guarded)(replicate, s) for s in seeds)
    names = list(estimate)
    table = pd.DataFrame([r if r is not None else {k: np.nan for k in names} for r in rows],
                         columns=names)
    failed = sum(r is None for r in rows)
    degenerate = int((table["rho"].abs() > 0.99).sum())
    return BootstrapResult(table, pd.Series(estimate, dtype=float), failed, degenerate)
