"""Results of a HeckmanSelection fit."""

from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.iolib import summary2


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

    def _table(self, params, bse, names):
        params, bse = np.asarray(params), np.asarray(bse)
        z = params / bse
        crit = stats.norm.ppf(0.975)
        return pd.DataFrame({"coef": params, "std err": bse, "z": z,
                             "P>|z|": 2 * stats.norm.sf(np.abs(z)),
                             "[0.025": params - crit * bse, "0.975]": params + crit * bse},
                            index=names)

    def summary(self):
        """statsmodels Summary: header, selection and outcome tables, rho and sigma."""
        smry = summary2.Summary()
        title = f"{self.model.title} (" + ("ML" if self.method == "ml" else "two-step") + ")"
        smry.add_title(title)
        info = {"Observations:": str(self.nobs), "Selected:": str(self.nobs_selected),
                "Censored:": str(self.nobs - self.nobs_selected),
                "Method:": self.method, "Covariance:": str(self.cov_type or "two-step corrected")}
        if self.method == "ml":
            info["Log-likelihood:"] = f"{self.llf:.4f}"
            lr, p = self.lr_test_rho
            info["LR test rho=0 chi2(1):"] = f"{lr:.4f} (p = {p:.4g})"
        wald, p = self.wald_test_rho
        info["Wald test rho=0 chi2(1):"] = f"{wald:.4f} (p = {p:.4g})"
        smry.add_dict(info, ncols=2)
        # Rows prefixed S: (selection) and O: (outcome), as R sampleSelection prints them.
        smry.add_df(self._table(self.params_select, self.bse_select,
                                ["S: " + n for n in self.model.exog_select_names]),
                    float_format="%.6g")
        smry.add_df(self._table(self.params_outcome, self.bse_outcome,
                                ["O: " + n for n in self.model.exog_names]),
                    float_format="%.6g")
        if hasattr(self, "sigma"):
            rows = ([self.rho, self.sigma, self.params_lambda],
                    [self.rho_se, self.sigma_se, self.bse_lambda],
                    ["rho", "sigma", "lambda (rho*sigma)"])
        else:
            rows = ([self.rho], [self.rho_se], ["rho"])
        smry.add_df(self._table(*rows), float_format="%.6g")
        return smry

    def _repr_html_(self):
        return self.summary().as_html()
