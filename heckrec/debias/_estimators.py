"""The debiasing baselines the paper compares against, on one MF backbone.

Each estimator minimises a weighted sum of per-pair losses over the training grid
plus L2 penalties; they differ only in the weights and targets
(``_loss_terms``):

- ``NaiveMF``: the observed pairs, equally weighted.
- ``IPSMF``: observed pairs weighted by 1 / propensity, averaged over all pairs.
- ``SNIPSMF``: the same weights, self-normalised (divided by their sum).
- ``EIBMF``: observed pairs on their outcome, unobserved pairs on a constant imputed
  outcome, with a weight (error-imputation based, Steck 2010).

Propensities ``P(o = 1 | pair)`` are passed to ``fit`` (known, or from a few MAR
ratings) or estimated by a logistic MF of ``o`` on all pairs, and clipped below.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..models._input import IdEncoder, validate_X, validate_y_o
from ..models._solvers import lbfgs
from ._backbone import MFScore, pair_loss


def weighted_objective(model, theta, pairs, terms, kind, penalty, n=None):
    """``(sum over (weight, target) in terms of sum_j weight_j loss(target_j, g_j)
    + penalty/2 |theta|^2) / n`` and its gradient, for the MF score g of ``model``.

    ``n`` defaults to the number of pairs given; pass the full grid's size when only
    the pairs with a non-zero weight are given.
    """
    users, items, F = pairs
    n = len(users) if n is None else n
    g = model.scores(theta, users, items, F)
    value, coef = 0.5 * penalty @ theta**2, np.zeros(len(users))
    for weight, target in terms:
        loss, dloss = pair_loss(kind, target, g)
        value += weight @ loss
        coef += weight * dloss
    grad = model.backward(theta, users, items, F, coef) + penalty * theta
    return value / n, grad / n


class DebiasedMFBase(RegressorMixin, BaseEstimator):
    """Shared fit / predict of the MF debiasing baselines.

    Parameters
    ----------
    n_factors : int, default=8
    reg_factors, reg_bias : float, default=1.0, 0.1
        L2 penalties of the embeddings and of the biases (the objective is a sum over
        pairs divided by their number, plus the penalties divided by it too).
    loss : {"squared", "logistic"}, default="squared"
        Squared error on a continuous outcome, or cross-entropy on a 0/1 outcome
        (``predict`` then returns the probability).
    max_iter : int, default=500
        L-BFGS iterations.
    tol : float, default=1e-6
    random_state : int, RandomState or None
    """

    __metadata_request__fit = {"o": True, "propensity": True}
    __metadata_request__score = {"o": True}
    #: Whether the method needs propensities.
    _uses_propensity = False

    _parameter_constraints = {
        "n_factors": [Interval(Integral, 0, None, closed="left")],
        "reg_factors": [Interval(Real, 0, None, closed="left")],
        "reg_bias": [Interval(Real, 0, None, closed="left")],
        "loss": [StrOptions({"squared", "logistic"})],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_factors=8, *, reg_factors=1.0, reg_bias=0.1, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None):
        self.n_factors = n_factors
        self.reg_factors = reg_factors
        self.reg_bias = reg_bias
        self.loss = loss
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    # -- fit ---------------------------------------------------------------------
    def fit(self, X, y, o=None, propensity=None):
        """Fit on the training grid.

        Parameters
        ----------
        X : array-like or DataFrame, (n_pairs, 2 + n_features)
            User id, item id, side features.
        y : array-like (n_pairs,)
            Outcome, read only where ``o == 1``.
        o : array-like of 0/1, default=None
            Observation indicator; ``None`` means ``~isnan(y)``.
        propensity : array-like (n_pairs,), default=None
            ``P(o = 1)`` of each pair, for the methods that weight by it. ``None``:
            estimated by a logistic MF of ``o`` (``propensity_`` after fit).

        Returns
        -------
        self
        """
        self._validate_params()  # sklearn: every hyper-parameter against _parameter_constraints
        for name in ("n_factors", "max_iter"):
            # sklearn counts bool as Integral, as SelectionMFBase notes too.
            if isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be an integer, got {getattr(self, name)!r}")
        users_raw, items_raw, F = validate_X(self, X, reset=True)
        y, o = validate_y_o(y, o, F.shape[0])
        if self.loss == "logistic" and not np.all((y[o] >= 0) & (y[o] <= 1)):
            raise ValueError("loss='logistic' needs y in [0, 1] (0/1 labels) where o == 1")
        self.user_encoder_ = IdEncoder().fit(users_raw)
        self.item_encoder_ = IdEncoder().fit(items_raw)
        # Centred, unit-scale features: an uncentred feature and the mean are nearly
        # collinear, which stalls L-BFGS (the prediction is the same at the optimum).
        self.feature_mean_ = F.mean(axis=0)
        self.feature_scale_ = np.where(F.std(axis=0) > 0, F.std(axis=0), 1.0)
        F = (F - self.feature_mean_) / self.feature_scale_
        self._pairs = (self.user_encoder_.codes_, self.item_encoder_.codes_, F)
        self.model_ = MFScore(self.user_encoder_.n, self.item_encoder_.n, self.n_factors,
                              F.shape[1])
        self._rng = check_random_state(self.random_state)
        if self._uses_propensity:
            self.propensity_ = self._propensities(o, propensity)
        r = np.where(o, y, 0.0)
        self.theta_ = self._fit_prediction(r, o)
        del self._pairs, self._rng
        return self

    def _propensities(self, o, propensity):
        if propensity is None:
            # A logistic MF of o on all pairs: no MAR data needed.
            theta = self._minimise(self.model_, [(np.ones(len(o)), o.astype(float))],
                                   "logistic", self.model_.init(self._rng))
            propensity = expit(self.model_.scores(theta, *self._pairs))
        else:
            propensity = np.asarray(propensity, dtype=float)
            if propensity.shape != o.shape:
                raise ValueError(f"propensity must have one entry per pair ({len(o)}), got "
                                 f"shape {propensity.shape}")
            if not np.all((propensity > 0) & (propensity <= 1)):
                raise ValueError("propensity must lie in (0, 1] for every pair")
        return np.maximum(propensity, self.clip)

    def _fit_prediction(self, r, o):
        return self._minimise(self.model_, self._loss_terms(r, o), self.loss,
                              self.model_.init(self._rng))

    def _minimise(self, model, terms, kind, theta0):
        """L-BFGS on :func:`weighted_objective`, over the pairs some term weighs."""
        penalty = model.penalty_weights(self.reg_factors, self.reg_bias)
        n_pairs = len(self._pairs[0])
        # Naive, IPS and SNIPS weigh only observed pairs (a few % of the grid): skip the rest.
        used = np.flatnonzero(np.any([weight != 0 for weight, _ in terms], axis=0))
        pairs = tuple(a[used] for a in self._pairs)
        terms = [(weight[used], target[used]) for weight, target in terms]
        result = lbfgs(lambda theta: weighted_objective(model, theta, pairs, terms, kind,
                                                        penalty, n_pairs),
                       theta0, self.max_iter, self.tol)
        if not result.converged:
            warnings.warn(f"{type(self).__name__}: L-BFGS did not converge in {result.n_iter} "
                          f"iterations ({result.message}); raise max_iter",
                          ConvergenceWarning, stacklevel=4)
        self.n_iter_ = result.n_iter
        return result.theta

    # -- predict -----------------------------------------------------------------
    def decision_function(self, X):
        """The MF score g of each pair (ranks pairs for NDCG / Recall / AUC)."""
        check_is_fitted(self, "theta_")
        users_raw, items_raw, F = validate_X(self, X, reset=False)
        F = (F - self.feature_mean_) / self.feature_scale_
        return self.model_.scores(self.theta_, self.user_encoder_.transform(users_raw),
                                  self.item_encoder_.transform(items_raw), F)

    def predict(self, X):
        """Predicted outcome: g (squared loss) or P(y = 1) = expit(g) (logistic loss)."""
        g = self.decision_function(X)
        return g if self.loss == "squared" else expit(g)

    def score(self, X, y, o=None):
        """Minus the mean loss on the observed pairs (higher is better)."""
        g = self.decision_function(X)
        y, o = validate_y_o(y, o, g.shape[0])
        return -float(np.mean(pair_loss(self.loss, y[o], g[o])[0]))


class NaiveMF(DebiasedMFBase):
    """MF on the observed pairs only: what every debiasing method is compared with."""

    def _loss_terms(self, r, o):
        return [(o / o.sum() * len(o), r)]


class IPSMF(DebiasedMFBase):
    """Inverse propensity scoring: observed pairs weighted by 1 / propensity.

    Parameters
    ----------
    clip : float, default=0.05
        Propensities are raised to at least ``clip`` (bounds the weights at 1 / clip).
    **kwargs
        As :class:`DebiasedMFBase`.
    """

    _uses_propensity = True
    _parameter_constraints = {**DebiasedMFBase._parameter_constraints,
                              "clip": [Interval(Real, 0, 1, closed="right")]}

    def __init__(self, n_factors=8, *, reg_factors=1.0, reg_bias=0.1, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None, clip=0.05):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, loss=loss,
                         max_iter=max_iter, tol=tol, random_state=random_state)
        self.clip = clip

    def _loss_terms(self, r, o):
        return [(o / self.propensity_, r)]


class SNIPSMF(IPSMF):
    """Self-normalised IPS: the IPS weights divided by their mean over all pairs."""

    def _loss_terms(self, r, o):
        weight = o / self.propensity_
        return [(weight / weight.mean(), r)]


class EIBMF(DebiasedMFBase):
    """Error-imputation based MF: unobserved pairs count with an imputed outcome.

    Parameters
    ----------
    imputation : float, default=0.0
        The outcome assumed for unobserved pairs (0: "not liked").
    imputation_weight : float, default=0.1
        Weight of an unobserved pair relative to an observed one.
    **kwargs
        As :class:`DebiasedMFBase`.
    """

    _parameter_constraints = {**DebiasedMFBase._parameter_constraints,
                              "imputation": [Real],
                              "imputation_weight": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, n_factors=8, *, reg_factors=1.0, reg_bias=0.1, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None, imputation=0.0,
                 imputation_weight=0.1):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, loss=loss,
                         max_iter=max_iter, tol=tol, random_state=random_state)
        self.imputation = imputation
        self.imputation_weight = imputation_weight

    def _loss_terms(self, r, o):
        return [(o.astype(float), r),
                (self.imputation_weight * (~o), np.full(len(o), float(self.imputation)))]
