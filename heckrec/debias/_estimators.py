"""The debiasing baselines the paper compares against, on one MF backbone.

Each estimator minimises a weighted sum of per-pair losses over the training grid
plus L2 penalties; they differ only in the weights and targets
(``_loss_terms``):

- ``NaiveMF``: the observed pairs, equally weighted.
- ``IPSMF``: observed pairs weighted by 1 / propensity, averaged over all pairs.
- ``SNIPSMF``: the same weights, self-normalised (divided by their sum).
- ``EIBMF``: observed pairs on their outcome, unobserved pairs on a constant imputed
  outcome, with a weight (error-imputation based, Steck 2010).
- ``DRJLMF``: doubly robust joint learning (Wang et al. 2019): every pair on an imputed
  outcome, corrected on observed pairs by ``(loss(r) - loss(imputed)) / propensity``;
  the imputation MF in turn matches the imputed loss to the observed one, weighted
  by 1 / propensity, and the two are alternated.

Propensities ``P(o = 1 | pair)`` are passed to ``fit`` (known, or from a few MAR
ratings by :func:`naive_bayes_propensity`) or estimated by a logistic MF of ``o`` on
all pairs, and clipped below.
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

from ..models._input import FeatureStandardiser, checked_weights, IdEncoder, validate_X, validate_y_o
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


def _all_terms(terms):
    """Every (weight, target) term of a term list or of a WorstCase's vertices."""
    return getattr(terms, "all_terms", terms)


#: The debiasing losses :func:`debias_terms` builds (the combined objective offers them all).
DEBIAS_LOSSES = ("naive", "ips", "dr")


def debias_terms(kind, loss, r, o, propensity=None, imputed=None):
    """``(weight, target)`` terms of ``L_debias`` (summed over pairs, so ``/ n`` a mean).

    ``naive``: observed pairs, weighted to average over them. ``ips``: ``o / p``.
    ``dr``: imputation everywhere, corrected by ``o (r - imputed) / p``; for the
    logistic and probit losses, which are linear in their label, as one pseudo-label
    clipped to [0, 1] (outside it the loss is unbounded below; see :class:`DRJLMF`).
    """
    if kind == "naive":
        return [(o * (len(o) / max(o.sum(), 1)), r)]
    weight = o / propensity
    if kind == "ips":
        return [(weight, r)]
    if loss in ("logistic", "probit"):
        return [(np.ones(len(o)), np.clip(imputed + weight * (r - imputed), 0.0, 1.0))]
    return [(1.0 - weight, imputed), (weight, r)]


class DebiasedMFBase(RegressorMixin, BaseEstimator):
    """Shared fit / predict of the MF debiasing baselines.

    Parameters
    ----------
    n_factors : int, default=8
    reg_factors, reg_bias : float, default=100.0, 10.0
        L2 penalties of the embeddings and of the biases (the objective is a sum over
        pairs divided by their number, plus the penalties divided by it too), in the
        standardised outcome's units for the squared loss. At the old 1.0 / 0.1 every
        method overfitted Coat's 6,960 ratings (NaiveMF RMSE 2.38 on the MAR ratings,
        worse than the training mean's 1.30); at 100 / 10 Naive, IPS, SNIPS and DR-JL
        reach 1.12-1.13 (benchmarks/issue13/baselines_defaults.py).
    loss : {"squared", "logistic"}, default="squared"
        Squared error on a continuous outcome, or cross-entropy on a 0/1 outcome
        (``predict`` then returns the probability).
    max_iter : int, default=500
        L-BFGS iterations.
    tol : float, default=1e-6
    random_state : int, RandomState or None

    Attributes
    ----------
    outcome_loc_, outcome_scale_ : float
        Mean and standard deviation of the observed outcome (squared loss; 0 and 1
        for the logistic loss): the fit runs on ``(y - outcome_loc_) / outcome_scale_``
        and ``predict`` maps back.
    feature_mean_, feature_scale_ : ndarray
        Centre and scale of the side features, standardised likewise.
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

    def __init__(self, n_factors=8, *, reg_factors=100.0, reg_bias=10.0, loss="squared",
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
        self._check_fit_params()
        self.user_encoder_ = IdEncoder().fit(users_raw)
        self.item_encoder_ = IdEncoder().fit(items_raw)
        # Centred, unit-scale features: an uncentred feature and the mean are nearly
        # collinear, which stalls L-BFGS (the prediction is the same at the optimum).
        # The spread is taken without squaring 1e300 (../shared/reliability F15).
        features = FeatureStandardiser().fit(F)
        self.feature_mean_, self.feature_scale_ = features.loc_, features.scale_
        F = features.transform(F)
        # Squared loss: fitted on the standardised outcome (as HeckmanMFRegressor), so
        # the penalties mean the same in any units and y = 1e200 cannot overflow the
        # loss (F13); predictions are mapped back.
        self.outcome_loc_, self.outcome_scale_ = 0.0, 1.0
        if self.loss == "squared":
            units = FeatureStandardiser().fit(y[o][:, None])
            self.outcome_loc_, self.outcome_scale_ = float(units.loc_[0]), float(units.scale_[0])
        y = np.where(o, (y - self.outcome_loc_) / self.outcome_scale_, 0.0)
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
        """L-BFGS on :func:`weighted_objective` (``terms`` a list of (weight, target)) or
        on :func:`~heckrec.debias._robust.worst_case_objective` (``terms`` a
        :class:`~heckrec.debias._robust.WorstCase`), over the pairs some term weighs."""
        from ._robust import WorstCase, worst_case_objective

        penalty = model.penalty_weights(self.reg_factors, self.reg_bias)
        n_pairs = len(self._pairs[0])
        # Naive, IPS and SNIPS weigh only observed pairs (a few % of the grid): skip the rest.
        used = np.flatnonzero(np.any([weight != 0 for weight, _ in _all_terms(terms)], axis=0))
        pairs = tuple(a[used] for a in self._pairs)
        if isinstance(terms, WorstCase):
            terms = terms.subset(used)
            objective = lambda theta: worst_case_objective(  # noqa: E731
                model, theta, pairs, terms, kind, penalty, n_pairs)
        else:
            terms = [(weight[used], target[used]) for weight, target in terms]
            objective = lambda theta: weighted_objective(  # noqa: E731
                model, theta, pairs, terms, kind, penalty, n_pairs)
        result = lbfgs(objective, theta0, self.max_iter, self.tol)
        if not result.converged:
            warnings.warn(f"{type(self).__name__}: L-BFGS did not converge in {result.n_iter} "
                          f"iterations ({result.message}); raise max_iter",
                          ConvergenceWarning, stacklevel=4)
        self.n_iter_ = result.n_iter
        return result.theta

    # -- predict -----------------------------------------------------------------
    def _mf_score(self, X):
        """The MF score g of each pair (a regressor has no decision_function in sklearn;
        ``predict`` is monotone in g, so it ranks pairs alike)."""
        check_is_fitted(self, "theta_")
        users_raw, items_raw, F = validate_X(self, X, reset=False)
        F = (F - self.feature_mean_) / self.feature_scale_
        return self.model_.scores(self.theta_, self.user_encoder_.transform(users_raw, "user"),
                                  self.item_encoder_.transform(items_raw, "item"), F)

    def _check_fit_params(self):
        """Checks beyond _parameter_constraints (a subclass adds its own)."""

    def _in_fit_units(self, value):
        """An outcome value in the units the fit runs in (see ``outcome_scale_``)."""
        return (value - self.outcome_loc_) / self.outcome_scale_

    def _in_user_units(self, g):
        """The MF score as an outcome in the user's units."""
        return self.outcome_loc_ + self.outcome_scale_ * g

    def predict(self, X):
        """Predicted outcome: g (squared loss) or P(y = 1) = expit(g) (logistic loss)."""
        g = self._in_user_units(self._mf_score(X))
        return g if self.loss == "squared" else expit(g)

    def score(self, X, y, o=None, sample_weight=None):
        """Minus the (weighted) mean loss on the observed pairs (higher is better).

        Parameters
        ----------
        X : array-like or DataFrame, as in :meth:`fit`
        y : array-like, outcome (read only where ``o == 1``)
        o : array-like of 0/1, default=None
        sample_weight : array-like of shape (n_pairs,), default=None
            Weights of the pairs; only the observed pairs' weights are used.

        Returns
        -------
        float
        """
        g = self._in_user_units(self._mf_score(X))
        y, o = validate_y_o(y, o, g.shape[0])
        loss = pair_loss(self.loss, y[o], g[o])[0]
        weights = None if sample_weight is None else checked_weights(
            np.asarray(sample_weight)[o] if np.ndim(sample_weight) else sample_weight, loss)
        return -float(np.average(loss, weights=weights))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        # score() is minus a mean loss, not R^2: the check "score > 0.5" does not apply.
        tags.regressor_tags.poor_score = True
        return tags


class NaiveMF(DebiasedMFBase):
    """MF on the observed pairs only: what every debiasing method is compared with."""

    def _loss_terms(self, r, o):
        return debias_terms("naive", self.loss, r, o)


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

    def __init__(self, n_factors=8, *, reg_factors=100.0, reg_bias=10.0, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None, clip=0.05):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, loss=loss,
                         max_iter=max_iter, tol=tol, random_state=random_state)
        self.clip = clip

    def _loss_terms(self, r, o):
        return debias_terms("ips", self.loss, r, o, self.propensity_)


class SNIPSMF(IPSMF):
    """Self-normalised IPS: the IPS weights divided by their mean over all pairs."""

    def _loss_terms(self, r, o):
        weight = o / self.propensity_
        return [(weight / weight.mean(), r)]


class EIBMF(DebiasedMFBase):
    """Error-imputation based MF: unobserved pairs count with an imputed outcome.

    Parameters
    ----------
    imputation : float or None, default=None
        The outcome assumed for unobserved pairs. None: the smallest observed outcome
        ("not liked": 0 for 0/1 labels, 1 for 1-5 ratings; a fixed 0 pulled Coat's
        1-5 predictions to a mean of 0.7-1.1, RMSE 1.58-2.00 on its MAR ratings,
        against 1.24 with 1; benchmarks/issue13/baselines_defaults.py).
    imputation_weight : float, default=0.1
        Weight of an unobserved pair relative to an observed one.
    **kwargs
        As :class:`DebiasedMFBase`.
    """

    _parameter_constraints = {**DebiasedMFBase._parameter_constraints,
                              "imputation": [None, Real],
                              "imputation_weight": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, n_factors=8, *, reg_factors=100.0, reg_bias=10.0, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None, imputation=None,
                 imputation_weight=0.1):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, loss=loss,
                         max_iter=max_iter, tol=tol, random_state=random_state)
        self.imputation = imputation
        self.imputation_weight = imputation_weight

    def _check_fit_params(self):
        if self.imputation is not None and not np.isfinite(self.imputation):
            raise ValueError(f"imputation must be a finite outcome value, got {self.imputation!r}")

    def _loss_terms(self, r, o):
        # r is in the fit's units already, so its smallest observed value is too
        imputed = (float(r[o].min()) if self.imputation is None
                   else float(self._in_fit_units(self.imputation)))
        return [(o.astype(float), r),
                (self.imputation_weight * (~o), np.full(len(o), imputed))]


class DRJLMF(IPSMF):
    """Doubly robust joint learning: a prediction MF and an imputation MF.

    The prediction minimises ``sum_all loss(imputed, g) + sum_obs (loss(r, g) -
    loss(imputed, g)) / p``: the imputation everywhere, corrected on observed pairs.

    - ``loss="logistic"``: the imputation model matches the imputed loss to the observed
      one, ``sum_obs (loss(imputed, g) - loss(r, g))^2 / p`` (Wang et al. 2019), monotone
      in the imputed label, alternated with the prediction for ``n_rounds``. Per pair the
      DR loss is the cross-entropy against the pseudo-label ``t = imputed + o (r -
      imputed) / p``; beyond [0, 1] it is unbounded below (measured: the parameters ran
      to 1e152), so ``t`` is clipped to [0, 1].
    - ``loss="squared"``: matching the squared error has two solutions ``g -+ |r - g|``
      per pair (measured on simulated MNAR data: alternating it drifted to the wrong
      side on half the pairs, the MSE grew from 0.16 to 2.9 in six rounds), and
      matching the signed error is IPS regression, which makes DR equal IPS exactly.
      The imputation is the direct method instead: an MF fitted to the observed
      outcomes unweighted, which the DR term then corrects.

    Parameters
    ----------
    n_rounds : int, default=3
        Alternations of (imputation model, prediction model) for the logistic loss.
    clip, **kwargs
        As :class:`IPSMF`.

    Attributes
    ----------
    imputation_ : ndarray
        The imputed outcome of every training pair after the last round.
    """

    _parameter_constraints = {**IPSMF._parameter_constraints,
                              "n_rounds": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, n_factors=8, *, reg_factors=100.0, reg_bias=10.0, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None, clip=0.05, n_rounds=3):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, loss=loss,
                         max_iter=max_iter, tol=tol, random_state=random_state, clip=clip)
        self.n_rounds = n_rounds

    def _fit_prediction(self, r, o):
        imputer = MFScore(*self.model_.shape)
        weight = o / self.propensity_
        if self.loss == "squared":  # the direct method: observed outcomes, unweighted
            theta_h = self._minimise(imputer, [(o.astype(float), r)], self.loss,
                                     imputer.init(self._rng))
            imputed = imputer.scores(theta_h, *self._pairs)
            self.imputation_ = self._in_user_units(imputed)
            return self._minimise(self.model_, self._dr_terms(r, o, imputed), self.loss,
                                  theta_h.copy())
        # Logistic: start the imputation at the IPS fit, then alternate.
        theta_h = self._minimise(imputer, [(weight, r)], self.loss, imputer.init(self._rng))
        theta = theta_h.copy()
        penalty = imputer.penalty_weights(self.reg_factors, self.reg_bias)
        for _ in range(self.n_rounds):
            g = self.model_.scores(theta, *self._pairs)
            error = pair_loss(self.loss, r, g)[0]
            theta_h = lbfgs(lambda t: imputation_objective(imputer, t, self._pairs, weight,
                                                           error, g, penalty),
                            theta_h, self.max_iter, self.tol).theta
            self.imputation_ = expit(imputer.scores(theta_h, *self._pairs))
            theta = self._minimise(self.model_, self._dr_terms(r, o, self.imputation_),
                                   self.loss, theta)
        return theta

    def _dr_terms(self, r, o, imputed):
        """The prediction model's objective given the imputed outcomes (a robust
        subclass puts its worst case here)."""
        return debias_terms("dr", self.loss, r, o, self.propensity_, imputed)


def imputation_objective(imputer, theta, pairs, weight, error, g, penalty):
    """DR-JL's imputation objective (logistic loss) and its gradient.

    ``(sum_j weight_j (loss(expit(h_j), g_j) - error_j)^2 + penalty/2 |theta|^2) / n``
    for the imputation MF's score h, and ``error`` the prediction's loss on the
    observed outcome.
    """
    h = imputer.scores(theta, *pairs)
    label = expit(h)
    # loss(label, g) = softplus(g) - label g, so d/dh = -g label (1 - label).
    e_hat, de_dh = pair_loss("logistic", label, g)[0], -g * label * (1.0 - label)
    resid = e_hat - error
    used = weight != 0  # only observed pairs carry weight: skip the rest in the backward pass
    coef = 2.0 * weight[used] * resid[used] * de_dh[used]
    grad = imputer.backward(theta, *(a[used] for a in pairs), coef)
    n = len(h)
    return (weight @ resid**2 + 0.5 * penalty @ theta**2) / n, (grad + penalty * theta) / n


def naive_bayes_propensity(y, o, y_mar):
    """Propensities of observed pairs from a few missing-at-random ratings (naive Bayes).

    ``P(o = 1 | r = v) = P(r = v | o = 1) P(o = 1) / P(r = v)``, with ``P(r = v)`` the
    share of value v among the MAR ratings (Schnabel et al. 2016). Only observed pairs
    are weighted by IPS and DR, so only theirs matter; unobserved pairs get ``P(o = 1)``.

    Parameters
    ----------
    y : array-like (n_pairs,)
        Outcome of the training pairs (read where ``o == 1``), discrete values.
    o : array-like of 0/1 (n_pairs,)
    y_mar : array-like
        Outcomes of pairs drawn at random (e.g. a small slice of an unbiased test set).

    Returns
    -------
    ndarray (n_pairs,)
        Pass as ``propensity`` to ``fit``.
    """
    y, o = validate_y_o(y, o, len(np.asarray(y)))
    y_mar = np.asarray(y_mar, dtype=float).ravel()
    if not np.all(np.isfinite(y_mar)):
        # a NaN would count in P(r = v)'s denominator (F16: 0.417 -> 0.833)
        raise ValueError("y_mar contains NaN or infinity: pass only the MAR outcomes observed")
    if y_mar.size == 0:
        raise ValueError("y_mar is empty: naive Bayes propensities need some MAR outcomes")
    values, counts = np.unique(y[o], return_counts=True)
    mar_share = np.array([np.mean(y_mar == v) for v in values])
    if np.any(mar_share == 0):
        missing = values[mar_share == 0].tolist()
        raise ValueError(f"the MAR outcomes never take the observed value(s) {missing[:5]}; "
                         "naive Bayes needs each observed value among them (is y discrete?)")
    p_obs = o.mean()
    by_value = np.minimum(counts / o.sum() * p_obs / mar_share, 1.0)
    propensity = np.full(len(o), p_obs)
    propensity[o] = by_value[np.searchsorted(values, y[o])]
    return propensity
