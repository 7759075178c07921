"""Results of a HeckmanSelection fit."""

from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from .._summary import Summary
from ..inference._bootstrap import parametric_bootstrap
from ..inference._intervals import check_alpha, profile_interval, wald_interval_rho

#: Values of rho at which profile_rho always evaluates the profile.
PROFILE_SCAN = np.linspace(-0.95, 0.95, 11)


class HeckmanResults:
    """Estimates, standard errors and tests of a :class:`HeckmanSelection` or
    :class:`HeckmanProbit` fit.

    Attributes
    ----------
    params_select, bse_select : ndarray or Series
        Selection coefficients (column order of Z) and standard errors.
    params_outcome, bse_outcome : ndarray or Series
        Outcome coefficients (column order of X) and standard errors.
    rho, rho_se : float
        Error correlation.
    sigma, sigma_se : float
        Outcome error scale (HeckmanSelection only; a binary outcome fixes it at 1). ML: delta-method standard
        errors from the (log sigma, atanh rho) covariance, as Stata does. Two-step:
        no standard errors (NaN); the selection term is ``params_lambda``.
    params_lambda, bse_lambda : float
        Coefficient of the inverse Mills ratio (rho * sigma) and its SE
        (HeckmanSelection only).
    llf : float
        Log-likelihood (ML); NaN for two-step, which maximises none.
    cov_params : ndarray
        ML: covariance of (gamma, beta, log sigma, atanh rho).
    """

    def __init__(self, model, method, theta=None, cov=None, cov_type=None, llf=np.nan,
                 n_iter=None, converged=True, **two):
        self.model, self.method, self.cov_type = model, method, cov_type
        self.n_iter, self.converged = n_iter, converged
        m, k = model.Z.shape[1], model.X.shape[1]
        self.nobs, self.nobs_selected = model.s.size, int(model.s.sum())
        if method == "ml":
            var = np.diag(cov)
            se = np.sqrt(np.where(var > 0, var, np.nan))  # NaN where not a regular maximum
            self.cov_params, self.llf, self.theta = cov, float(llf), theta
            select, outcome = theta[:m], theta[m:m + k]
            bse_s, bse_o = se[:m], se[m:m + k]
            at = {name: m + k + j for j, name in enumerate(model.scalar_names)}
            self.athrho, self.athrho_se = float(theta[at["athrho"]]), float(se[at["athrho"]])
            self.rho = float(np.tanh(self.athrho))
            self.rho_se = (1.0 - self.rho**2) * self.athrho_se
            if "lnsigma" in at:
                self.lnsigma, self.lnsigma_se = float(theta[at["lnsigma"]]), float(se[at["lnsigma"]])
                self.sigma = float(np.exp(self.lnsigma))
                self.sigma_se = self.sigma * self.lnsigma_se
                # lambda = rho sigma; its SE by the delta method.
                J = np.array([self.rho * self.sigma, (1.0 - self.rho**2) * self.sigma])
                self.params_lambda = self.rho * self.sigma
                self.bse_lambda = float(np.sqrt(J @ cov[m + k:, m + k:] @ J))
        else:
            select, outcome = two["params_select"], two["params_outcome"]
            bse_s = np.sqrt(np.diag(two["cov_select"]))
            bse_o = np.sqrt(np.diag(two["cov_outcome"]))
            self.sigma, self.rho = two["sigma"], two["rho"]
            self.sigma_se = self.rho_se = np.nan
            self.params_lambda, self.bse_lambda = two["params_lambda"], two["bse_lambda"]
            self.llf = np.nan
            self.llf_select = two["llf_select"]
        wrap = self._wrap
        self.params_select = wrap(select, model.exog_select_names)
        self.bse_select = wrap(bse_s, model.exog_select_names)
        self.params_outcome = wrap(outcome, model.exog_names)
        self.bse_outcome = wrap(bse_o, model.exog_names)

    def _wrap(self, values, names):
        values = np.asarray(values, dtype=float)
        return pd.Series(values, index=names) if self.model._pandas else values

    @cached_property
    def lr_test_rho(self):
        """Likelihood-ratio test of rho = 0 against the ML fit: (chi2(1) statistic, p-value)."""
        if self.method != "ml":
            raise ValueError("the likelihood-ratio test needs the ML fit (method='ml')")
        from .heckman import lr_test_rho

        return lr_test_rho(self)

    @property
    def cov_params_natural(self):
        """ML covariance with (sigma, rho) in place of (log sigma, atanh rho), delta method.

        The scale on which R sampleSelection prints ``vcov()``.
        """
        if self.method != "ml":
            raise ValueError("cov_params_natural needs the ML fit (method='ml')")
        m, k = self.model.Z.shape[1], self.model.X.shape[1]
        jac = np.ones(self.theta.size)
        for j, name in enumerate(self.model.scalar_names):
            jac[m + k + j] = self.sigma if name == "lnsigma" else 1.0 - self.rho**2
        return jac[:, None] * self.cov_params * jac[None, :]

    @property
    def wald_test_rho(self):
        """Wald test of rho = 0 on the atanh scale, as Stata: (chi2(1) statistic, p-value).

        Two-step: the t-test of the inverse Mills ratio coefficient.
        """
        if self.method == "ml":
            stat = (self.athrho / self.athrho_se) ** 2
        else:
            stat = (self.params_lambda / self.bse_lambda) ** 2
        return float(stat), float(stats.chi2.sf(stat, 1))

    # ------------------------------------------------------------ intervals
    def _require_ml(self, what):
        if self.method != "ml":
            raise ValueError(f"{what} needs the ML fit (method='ml'); the two-step estimator "
                             "has no likelihood and no standard error of rho (use bootstrap())")

    def conf_int(self, alpha=0.05):
        """Wald intervals of level 1 - alpha for every parameter, from ``cov_type``'s covariance.

        Coefficients: estimate -+ z se. rho and sigma: the interval of
        atanh(rho) and log(sigma) mapped back (tanh, exp), as Stata prints
        them, so they stay inside (-1, 1) and (0, inf). Two-step: the
        coefficients and lambda only.

        Returns
        -------
        DataFrame with columns ``lower``, ``upper``, rows ``S: name`` (selection),
        ``O: name`` (outcome), then rho, sigma.
        """
        z = stats.norm.ppf(1.0 - check_alpha(alpha) / 2.0)
        names, est, se = self._coefficient_rows()
        rows = {n: (e - z * b, e + z * b) for n, e, b in zip(names, est, se)}
        if self.method == "ml":
            rows["rho"] = wald_interval_rho(self.athrho, self.athrho_se, alpha)
            if hasattr(self, "lnsigma"):
                rows["sigma"] = (float(np.exp(self.lnsigma - z * self.lnsigma_se)),
                                 float(np.exp(self.lnsigma + z * self.lnsigma_se)))
        elif hasattr(self, "params_lambda"):
            rows["lambda"] = (self.params_lambda - z * self.bse_lambda,
                              self.params_lambda + z * self.bse_lambda)
        return pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "upper"])

    def _coefficient_rows(self):
        names = (["S: " + n for n in self.model.exog_select_names]
                 + ["O: " + n for n in self.model.exog_names])
        est = np.concatenate([np.asarray(self.params_select), np.asarray(self.params_outcome)])
        se = np.concatenate([np.asarray(self.bse_select), np.asarray(self.bse_outcome)])
        return names, est, se

    def conf_int_rho(self, alpha=0.05, method="wald", **kwargs):
        """Interval of level 1 - alpha for rho.

        Parameters
        ----------
        alpha : float
        method : {"wald", "profile", "bootstrap"}
            ``"wald"``: tanh of the atanh(rho) interval from the fit's
            covariance (:meth:`conf_int`). ``"profile"``: the profile-likelihood
            interval (:meth:`profile_rho`), better near rho = +-1.
            ``"bootstrap"``: the percentile interval of a parametric bootstrap
            (:meth:`bootstrap`; ``kwargs`` go there: n_boot, n_jobs,
            random_state).

        Returns
        -------
        (lower, upper)
        """
        if method == "wald":
            self._require_ml("the Wald interval of rho")
            return wald_interval_rho(self.athrho, self.athrho_se, alpha)
        if method == "profile":
            return self.profile_rho(alpha=alpha).interval
        if method == "bootstrap":
            return self.bootstrap(**kwargs).rho_interval(alpha)
        raise ValueError(f"method must be 'wald', 'profile' or 'bootstrap', got {method!r}")

    def profile_rho(self, alpha=0.05, grid=None):
        """Profile log-likelihood of rho and the interval where its LR statistic stays below
        the chi2(1) quantile 1 - alpha.

        Each evaluation refits every other parameter by Newton's method with
        atanh(rho) held fixed, starting from the nearest solution found so far.
        Besides the search for the ends, the profile is evaluated on a coarse
        grid (rho = -0.95, -0.75, ..., 0.95); where it rises above the fitted
        maximum, the fit was a local maximum: a ``ConvergenceWarning`` says so
        and the interval is measured from the higher maximum.

        Parameters
        ----------
        alpha : float
        grid : array-like of rho, optional
            Further values of rho at which to evaluate the profile (for plots).

        Returns
        -------
        heckrec.inference.ProfileLikelihood
        """
        self._require_ml("the profile likelihood")
        solutions = {self.athrho: self.theta}

        def profile(a):
            nearest = min(solutions, key=lambda b: abs(b - a))
            llf, theta = self.model.profile_loglike(a, solutions[nearest])
            solutions[a] = theta
            return llf

        step = self.athrho_se if np.isfinite(self.athrho_se) else 0.1
        # A coarse scan too: restricted fits are cheap here, and a second, higher
        # maximum (measured on Mroz87) is only seen where the profile is evaluated.
        scan = np.concatenate([PROFILE_SCAN, [] if grid is None else np.ravel(grid)])
        return profile_interval(profile, self.athrho, self.llf, alpha, step=step, grid=scan)

    def bootstrap(self, n_boot=199, n_jobs=None, random_state=None):
        """Parametric bootstrap: draw (y, s) from the fitted model at the observed regressors,
        refit by the same method, n_boot times.

        The refits ignore warnings (a replication that ends at |rho| > 0.99
        is kept and counted in ``n_degenerate``; one whose refit raises is a
        NaN row counted in ``n_failed``). X must be finite at every row,
        since an unselected row may be selected in a replication.

        Parameters
        ----------
        n_boot : int
        n_jobs : int or None
            joblib processes; the result does not depend on it.
        random_state : int, RandomState or None

        Returns
        -------
        heckrec.inference.BootstrapResult
        """
        model, method = self.model, self.method
        theta = self.theta if method == "ml" else self._twostep_theta()
        names = self._coefficient_rows()[0]
        model._simulate(theta, np.random.default_rng(0))  # fails early without X everywhere

        def replicate(seed):
            y, s = model._simulate(theta, np.random.default_rng(seed))
            refit = type(model)(y, model._X_given, s, model.Z).fit(method=method)
            return refit._estimate_dict(names)

        return parametric_bootstrap(replicate, self._estimate_dict(names), n_boot, n_jobs,
                                    random_state,
                                    estimate_se_atanh=getattr(self, "athrho_se", np.nan))

    def _twostep_theta(self):
        return np.concatenate([np.asarray(self.params_select), np.asarray(self.params_outcome),
                               [np.log(self.sigma), np.arctanh(np.clip(self.rho, -0.999999,
                                                                       0.999999))]])

    def _estimate_dict(self, names):
        values = np.concatenate([np.asarray(self.params_select),
                                 np.asarray(self.params_outcome)])
        out = dict(zip(names, values))
        out["rho"] = self.rho
        if hasattr(self, "sigma"):
            out["sigma"] = self.sigma
        return out

    def _coefficient_table(self, alpha=0.05):
        """Every printed row as strings: estimate, SE, z, p and the interval.

        As Stata prints them: the coefficients and the transformed ancillary
        parameters (athrho, lnsigma) with z-tests; rho, sigma and lambda with their
        estimate, SE and interval only (rho's and sigma's interval is athrho's and
        lnsigma's mapped back, so it stays in (-1, 1) and (0, inf), as conf_int);
        no test of sigma = 0. Four significant digits; a cell with nothing to show
        is blank, never "nan".
        """
        crit = stats.norm.ppf(1.0 - check_alpha(alpha) / 2.0)
        rows = {}

        def tested(name, est, se):
            z = est / se if se > 0 else np.nan
            rows[name] = (est, se, z, 2 * stats.norm.sf(abs(z)), est - crit * se, est + crit * se)

        names, est, se = self._coefficient_rows()
        for name, e, b in zip(names, est, se):
            tested(name, e, b)
        interval = self.conf_int(alpha)
        if self.method == "ml":
            tested("athrho", self.athrho, self.athrho_se)
            if hasattr(self, "lnsigma"):
                tested("lnsigma", self.lnsigma, self.lnsigma_se)
            rows["rho"] = (self.rho, self.rho_se, np.nan, np.nan, *interval.loc["rho"])
            if hasattr(self, "lnsigma"):
                rows["sigma"] = (self.sigma, self.sigma_se, np.nan, np.nan,
                                 *interval.loc["sigma"])
                rows["lambda (rho*sigma)"] = (self.params_lambda, self.bse_lambda, np.nan,
                                              np.nan, self.params_lambda - crit * self.bse_lambda,
                                              self.params_lambda + crit * self.bse_lambda)
        else:
            # two-step: lambda is a regression coefficient (tested); rho and sigma are
            # functions of it with no standard error
            tested("lambda (rho*sigma)", self.params_lambda, self.bse_lambda)
            rows["rho"] = (self.rho,) + (np.nan,) * 5
            rows["sigma"] = (self.sigma,) + (np.nan,) * 5
        low, high = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        columns = ["coef", "std err", "z", "P>|z|", low, high]
        return pd.DataFrame([[_four_digits(v) for v in row] for row in rows.values()],
                            index=list(rows), columns=columns)

    def summary(self, alpha=0.05):
        """statsmodels Summary: header, then one table of the selection (S:) and outcome
        (O:) coefficients and the ancillary parameters, as Stata and R print them."""
        smry = Summary()
        title = f"{self.model.title} (" + ("ML" if self.method == "ml" else "two-step") + ")"
        smry.add_title(title)
        info = {"Observations:": str(self.nobs), "Selected:": str(self.nobs_selected),
                "Censored:": str(self.nobs - self.nobs_selected),
                "Method:": self.method, "Covariance:": str(self.cov_type or "two-step corrected")}
        if self.method == "ml":
            info["Log-likelihood:"] = _four_digits(self.llf, digits=10)
            info["Converged:"] = f"{self.converged} ({self.n_iter} Newton iterations)"
            lr, p = self.lr_test_rho
            info["LR test rho=0 chi2(1):"] = f"{_four_digits(lr)} (p = {_four_digits(p)})"
        wald, p = self.wald_test_rho
        info["Wald test rho=0 chi2(1):"] = f"{_four_digits(wald)} (p = {_four_digits(p)})"
        smry.add_dict(info, ncols=2)
        # Rows prefixed S: (selection) and O: (outcome), as R sampleSelection prints them.
        smry.add_df(self._coefficient_table(alpha))
        return smry

    def _repr_html_(self):
        return self.summary().as_html()


def _four_digits(value, digits=4):
    """``value`` to ``digits`` significant digits; blank for NaN."""
    if value is None or not np.isfinite(value):
        return ""
    return f"{value:.{digits}g}"
