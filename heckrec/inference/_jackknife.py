"""Split-panel jackknife bias correction of rho for the MF selection models (issue 14).

Each user and item has its own biases and factors, so the MF estimate of rho carries an
incidental-parameter bias of order 1/n_items + 1/n_users (plus the penalties' shrinkage),
which the standard error does not cover. The split-panel jackknife for two-way panels
(Dhaene and Jochmans 2015, REStud 82; Fernandez-Val and Weidner 2016, J. Econometrics
192) removes the first-order term: refit on each half of the users (all items) and each
half of the items (all users), where the bias is twice as large in the halved dimension,
and combine on the atanh scale

    a_bc = 3 a_hat - (a_U1 + a_U2) / 2 - (a_I1 + a_I2) / 2,

averaged over ``n_partitions`` random partitions. ``estimate = tanh(a_bc)``.
"""

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from scipy import stats
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.validation import check_is_fitted

from ..exceptions import DegenerateEstimateWarning
from ._api import fitted_rows_of_X
from ._intervals import check_alpha

#: A subpanel fit with |rho| beyond this is degenerate: its atanh would dominate a_bc.
SUBPANEL_BOUNDARY = 0.99


def split_panel_correction(a_hat, a_users, a_items):
    """a_bc = 3 a_hat - mean(a_users) - mean(a_items) for one or more partitions.

    Parameters
    ----------
    a_hat : float
        atanh(rho) of the full fit.
    a_users, a_items : array-like of shape (n_partitions, 2)
        atanh(rho) of the two user halves and the two item halves of each partition.
    """
    a_users, a_items = np.asarray(a_users, float), np.asarray(a_items, float)
    return float(3.0 * a_hat - a_users.mean() - a_items.mean())


@dataclass
class JackknifeResult:
    """Bias-corrected rho from the split-panel jackknife.

    Attributes
    ----------
    estimate : float
        tanh(a_bc), the bias-corrected rho.
    rho : float
        The full fit's rho_.
    se : float
        Standard error of ``estimate``: the full fit's SE of atanh(rho) (which the
        first-order correction leaves unchanged), mapped by the delta method at
        ``estimate``.
    subpanels : dict
        ``"users"`` and ``"items"``: arrays (n_partitions, 2) of the halves' rho_;
        ``"user_halves"`` / ``"item_halves"``: for each partition, the fitted user / item
        labels in its first half.
    n_degenerate : int
        Subpanel fits at |rho| > 0.99 (then ``estimate`` is NaN).
    """

    estimate: float
    rho: float
    se: float
    se_atanh: float
    subpanels: dict = field(repr=False)
    n_degenerate: int = 0

    #: How the bias was estimated (what a summary row says).
    method = "jackknife"

    @property
    def bias(self):
        """rho_ - estimate: the bias the correction removed."""
        return self.rho - self.estimate

    def conf_int(self, alpha=0.05):
        """(low, high): tanh(a_bc -+ z se), inside (-1, 1) as Stata's athrho interval."""
        check_alpha(alpha)
        z = stats.norm.ppf(1.0 - alpha / 2.0)
        a = np.arctanh(self.estimate)
        return float(np.tanh(a - z * self.se_atanh)), float(np.tanh(a + z * self.se_atanh))

    def summary(self):
        """A few lines: the estimate, its bias and interval, and the subpanel estimates."""
        low, high = self.conf_int()
        users, items = self.subpanels["users"], self.subpanels["items"]
        lines = [
            "Split-panel jackknife of rho (Dhaene-Jochmans / Fernandez-Val-Weidner)",
            f"  rho_ (full fit)       {self.rho:+.4f}",
            f"  bias-corrected rho    {self.estimate:+.4f}  (bias {self.bias:+.4f})",
            f"  std err               {self.se:.4f}",
            f"  95% interval          [{low:+.4f}, {high:+.4f}]",
            f"  partitions            {users.shape[0]}",
            "  user halves' rho_     " + ", ".join(f"{v:+.4f}" for v in users.ravel()),
            "  item halves' rho_     " + ", ".join(f"{v:+.4f}" for v in items.ravel()),
        ]
        if self.n_degenerate:
            lines.append(f"  {self.n_degenerate} subpanel fit(s) degenerate: estimate is NaN")
        return "\n".join(lines)

    def __repr__(self):
        low, high = self.conf_int()
        return (f"JackknifeResult(estimate={self.estimate:+.4f}, rho={self.rho:+.4f}, "
                f"se={self.se:.4f}, conf_int=({low:+.4f}, {high:+.4f}))")


def _check_same_data(fitted, X, o):
    """Raise if (X, o) are visibly not the data ``fitted`` was fitted on."""
    n, fitted_rows = X.shape[0], fitted_rows_of_X(fitted)
    if n != fitted_rows:
        raise ValueError(f"X has {n} rows but the estimator was fitted on an X of "
                         f"{fitted_rows} rows: pass the data it was fitted on")
    if o is not None and int(np.sum(o)) != fitted.n_observed_:
        raise ValueError(f"o has {int(np.sum(o))} observed pairs but the estimator was fitted "
                         f"on {fitted.n_observed_}: pass the o it was fitted with")


def _ids(X):
    """User and item labels of each row (DataFrame or array)."""
    if hasattr(X, "iloc"):
        return X.iloc[:, 0].to_numpy(), X.iloc[:, 1].to_numpy()
    X = np.asarray(X)
    return X[:, 0], X[:, 1]


def _fit_half(fitted, X, y, o, rows, fit_kwargs):
    """rho_ of a copy refitted on ``rows`` (no standard errors), warm-started from the full
    fit's parameters of the half's users and items."""
    # (under the criterion the fit used: "auto" decides from the SEs, not computed here)
    est = copy.deepcopy(fitted).set_params(compute_se=False, warm_start=True, verbose=0,
                                           if_not_identified="estimate",
                                           rho_criterion=fitted.rho_criterion_)
    extra = dict(fit_kwargs)
    if "X_unbiased" in extra and extra["X_unbiased"] is not None:
        # Keep the slice pairs whose user and item are in the half.
        users, items = _ids(_safe_indexing(X, rows))
        su, si = _ids(extra["X_unbiased"])
        keep = np.isin(su, users) & np.isin(si, items)
        extra["X_unbiased"] = _safe_indexing(extra["X_unbiased"], np.flatnonzero(keep))
        extra["y_unbiased"] = np.asarray(extra["y_unbiased"])[keep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateEstimateWarning)
        est.fit(_safe_indexing(X, rows), np.asarray(y)[rows],
                None if o is None else np.asarray(o)[rows], **extra)
    return est.rho_


def jackknife_rho(est, X, r, o=None, *, n_partitions=2, random_state=None, n_jobs=None,
                  **fit_kwargs):
    """Bias-corrected rho of a fitted MF selection model by the split-panel jackknife.

    Parameters
    ----------
    est : fitted HeckmanMFRegressor or BivariateProbitMF
        Refitted as clones (its hyper-parameters) on halves of the users and of the
        items; the fitted estimator itself is not changed.
    X, r, o : the data ``est`` was fitted on (``o=None`` as in ``fit``).
    n_partitions : int, default=2
        Random partitions of the users and of the items to average over
        (4 half-size fits each).
    random_state : int, RandomState or None
        Draws the partitions.
    n_jobs : int or None
        Subpanel fits run in parallel with joblib (each fit is itself parallel in numba).
    **fit_kwargs
        Passed to each refit's ``fit`` (e.g. ``X_unbiased``, ``y_unbiased``: the slice
        pairs of each half's users and items are kept).

    Returns
    -------
    JackknifeResult
    """
    check_is_fitted(est, "theta_")
    if (not getattr(est, "_selection_modelled", True) or est.fixed_rho is not None
            or np.isnan(est.rho_)):
        raise ValueError("the jackknife needs a fit in which rho was estimated (this one "
                         "has fixed_rho, every pair observed, or rho held at 0 because the "
                         "design does not identify it: see rho_structural_se_)")
    if isinstance(n_partitions, bool) or not isinstance(n_partitions, (int, np.integer)) \
            or n_partitions < 1:
        raise ValueError(f"n_partitions must be a positive integer, got {n_partitions!r}")
    if X is None or r is None:
        raise ValueError("the jackknife refits the estimator: pass the data it was fitted on "
                         "(X, r, o)")
    _check_same_data(est, X, o)
    if not np.isfinite(est.rho_) or abs(est.rho_) > SUBPANEL_BOUNDARY:
        raise ValueError(f"the full fit is degenerate (rho_ = {est.rho_:+.4f}): there is no "
                         "estimate to correct")
    rng = check_random_state(random_state)
    users, items = _ids(X)
    user_labels, item_labels = np.unique(users), np.unique(items)
    halves, tasks = {"user_halves": [], "item_halves": []}, []
    for _ in range(n_partitions):
        for name, column, labels in (("user_halves", users, user_labels),
                                     ("item_halves", items, item_labels)):
            first = rng.permutation(labels)[: labels.size // 2]
            halves[name].append(first)
            in_first = np.isin(column, first)
            tasks.extend([np.flatnonzero(in_first), np.flatnonzero(~in_first)])
    rhos = Parallel(n_jobs=n_jobs)(
        delayed(_fit_half)(est, X, r, o, rows, fit_kwargs) for rows in tasks)
    rhos = np.asarray(rhos, dtype=float).reshape(n_partitions, 2, 2)  # partition, dim, half
    user_rho, item_rho = rhos[:, 0, :], rhos[:, 1, :]
    n_degenerate = int(np.sum(~np.isfinite(rhos) | (np.abs(rhos) > SUBPANEL_BOUNDARY)))
    a_hat = float(np.arctanh(est.rho_))
    se_atanh = est.rho_se_ / (1.0 - est.rho_**2)
    if n_degenerate:
        warnings.warn(f"{n_degenerate} of {rhos.size} subpanel fits ended at |rho| > "
                      f"{SUBPANEL_BOUNDARY}: the halves are too small for this model, so the "
                      "corrected estimate is NaN", DegenerateEstimateWarning, stacklevel=2)
        estimate = float("nan")
    else:
        estimate = float(np.tanh(split_panel_correction(a_hat, np.arctanh(user_rho),
                                                        np.arctanh(item_rho))))
    se = float((1.0 - estimate**2) * se_atanh)
    subpanels = {"users": user_rho, "items": item_rho, **halves}
    return JackknifeResult(estimate=estimate, rho=float(est.rho_), se=se,
                           se_atanh=float(se_atanh), subpanels=subpanels,
                           n_degenerate=n_degenerate)
