"""Rank and penalties chosen by K-fold held-out log-likelihood (issue 13).

As RidgeCV and LogisticRegressionCV do for their penalty, ``HeckmanMFRegressorCV`` and
``BivariateProbitMFCV`` fit every (rank, reg_factors, reg_bias) of a small grid on K-1
folds of the pairs and score the held-out fold by the model's mean log-likelihood of
(o, y) per pair, then refit the best setting on all the pairs. The held-out pairs are
left out of the training likelihood entirely (neither observed nor unobserved), so the
score is of the joint model of selection and outcome, which the MNAR selection does not
bias the way an observed-pairs MSE is biased. Within a fold, rank and reg_factors the bias
penalties run from the strongest to the weakest, each fit warm-started from the last.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy.stats import norm
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import KFold
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, check_is_fitted

from .bivariate_probit_mf import BivariateProbitMF
from .heckman_mf import HeckmanMFRegressor


def _grid(name, values, kind):
    """A non-empty tuple of numbers >= 0 (ints for ``n_factors``)."""
    values = tuple(np.atleast_1d(np.asarray(values, dtype=object)).tolist())
    if not values:
        raise ValueError(f"{name} must hold at least one value")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, kind) or not v >= 0 or not np.isfinite(v):
            raise ValueError(f"{name} must hold numbers >= 0{' (ints)' if kind is Integral else ''}, "
                             f"got {v!r}")
    return values


def _candidates(ranks, reg_factors, reg_bias):
    """(rank, reg_factors, reg_bias) settings; a rank-0 model has no factors to penalise."""
    out = []
    for k in ranks:
        for rf in (reg_factors if k > 0 else reg_factors[:1]):
            for rb in reg_bias:
                out.append({"n_factors": int(k), "reg_factors": float(rf), "reg_bias": float(rb)})
    return out


def _mar_score(est, X, y):
    """Mean log-density of randomly exposed pairs' outcomes: their marginal, no selection."""
    if isinstance(est, HeckmanMFRegressor):
        return float(np.mean(norm.logpdf(np.asarray(y, dtype=float), est.predict(X),
                                         est.sigma_)))
    proba = est.predict_proba(X)
    labels = np.asarray(y) == est.classes_[1]
    return float(np.mean(np.log(np.clip(np.where(labels, proba[:, 1], proba[:, 0]),
                                        1e-300, None))))


def _fold_scores(base, candidates, X, y, o, train, test, fit_params, mar_folds=None):
    """Held-out score of every candidate on one fold.

    Without a MAR slice: the mean log-likelihood of (o, y) per held-out pair. With one
    (``mar_folds`` = (train, test) positions in the slice): the slice's training part
    enters the fit and the score is the held-out slice pairs' mean log-density, the
    field's "choose on a few random-exposure ratings".
    """
    pick = (lambda A, rows: None if A is None else _safe_indexing(A, rows))
    X_tr, y_tr, o_tr = pick(X, train), pick(y, train), pick(o, train)
    X_te, y_te, o_te = pick(X, test), pick(y, test), pick(o, test)
    if mar_folds is not None:
        Xu, yu = fit_params["X_unbiased"], fit_params["y_unbiased"]
        fit_params = {"X_unbiased": pick(Xu, mar_folds[0]), "y_unbiased": pick(yu, mar_folds[0])}
        X_te, y_te = pick(Xu, mar_folds[1]), pick(yu, mar_folds[1])
    scores = np.full(len(candidates), -np.inf)
    paths = {}
    for j, c in enumerate(candidates):
        paths.setdefault((c["n_factors"], c["reg_factors"]), []).append(j)
    for (rank, reg_factors), members in paths.items():
        # Warm starts only along reg_bias: from factors that a strong reg_factors shrank to
        # ~0 a weaker fit stays at that saddle (measured: held-out -1.038 against -0.990
        # from the spectral start), so each reg_factors starts afresh.
        est = clone(base).set_params(n_factors=rank, reg_factors=reg_factors,
                                     warm_start=True, compute_se=False)
        for j in sorted(members, key=lambda j: -candidates[j]["reg_bias"]):
            est.set_params(reg_bias=candidates[j]["reg_bias"])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # degenerate / unconverged: the score says
                est.fit(X_tr, y_tr, o_tr, **fit_params)
                scores[j] = (est.score(X_te, y_te, o_te) if mar_folds is None
                             else _mar_score(est, X_te, y_te))
    return scores


class _SelectionMFCV(BaseEstimator):
    """Shared fit of the ``*CV`` estimators; see :class:`HeckmanMFRegressorCV`."""

    _estimator = None  # the class the CV chooses settings for

    def __init__(self, n_factors=(0, 2, 8), reg_factors=(1.0, 10.0, 100.0),
                 reg_bias=(0.1, 1.0, 10.0), *, cv=3, n_jobs=None, random_state=None,
                 estimator_params=None):
        self.n_factors = n_factors
        self.reg_factors = reg_factors
        self.reg_bias = reg_bias
        self.cv = cv
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.estimator_params = estimator_params

    def fit(self, X, y, o=None, X_unbiased=None, y_unbiased=None):
        """Choose rank and penalties by K-fold held-out scores, then refit.

        Parameters
        ----------
        X, y, o, X_unbiased, y_unbiased
            As the estimator's ``fit``. Without a MAR slice each fold is scored by the
            held-out pairs' log-likelihood of (o, y). With one the slice is split into
            the same number of folds too: its training part enters the fold's fit, and
            the fold's score is the held-out slice pairs' mean log-density of the
            outcome (``scoring_ = "mar_slice"``): the settings are chosen on randomly
            exposed ratings, as the field's estimators choose theirs. The refit uses
            the whole slice.

        Returns
        -------
        self
        """
        ranks = _grid("n_factors", self.n_factors, Integral)
        reg_factors = _grid("reg_factors", self.reg_factors, Real)
        reg_bias = _grid("reg_bias", self.reg_bias, Real)
        if isinstance(self.cv, bool) or not isinstance(self.cv, Integral) or self.cv < 2:
            raise ValueError(f"cv must be an int >= 2 (the number of folds), got {self.cv!r}")
        params = dict(self.estimator_params or {})
        for name in ("n_factors", "reg_factors", "reg_bias"):
            if name in params:
                raise ValueError(f"estimator_params must not set {name!r}: it is chosen by "
                                 f"the cross-validation (pass its grid as {name}=)")
        if params.get("unobserved") in ("complement", "sampled"):
            # a fold would hold out logged pairs, which the complement then counts as
            # unobserved: the held-out score would be of another model
            raise ValueError(f"estimator_params unobserved={params['unobserved']!r} is not "
                             "supported: the "
                             "folds hold out listed pairs, and a log lists only the observed "
                             "ones; cross-validate on the listed grid")
        # The search is over fixed penalties: the penalised fit, unless the user asks for
        # another criterion (BivariateProbitMF's default "auto" would let the evidence
        # re-choose the precisions of a biases-only candidate and so undo the grid).
        params.setdefault("rho_criterion", "penalised")
        base = self._estimator(random_state=self.random_state, **params)
        candidates = _candidates(ranks, reg_factors, reg_bias)
        n = _num_samples(X)
        folds = list(KFold(self.cv, shuffle=True, random_state=self.random_state)
                     .split(np.arange(n)))
        fit_params, mar_folds = {}, [None] * len(folds)
        if X_unbiased is not None or y_unbiased is not None:
            y_u = y_unbiased if hasattr(y_unbiased, "iloc") else np.asarray(y_unbiased)
            fit_params = {"X_unbiased": X_unbiased, "y_unbiased": y_u}
            n_u = _num_samples(X_unbiased)
            if n_u < self.cv:
                raise ValueError(f"the MAR slice has {n_u} pairs: choosing on it needs at "
                                 f"least cv={self.cv}")
            mar_folds = list(KFold(self.cv, shuffle=True, random_state=self.random_state)
                             .split(np.arange(n_u)))
        self.scoring_ = "loglik" if mar_folds[0] is None else "mar_slice"
        y_rows = y if hasattr(y, "iloc") else np.asarray(y)
        o_rows = None if o is None else (o if hasattr(o, "iloc") else np.asarray(o))
        per_fold = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_scores)(base, candidates, X, y_rows, o_rows, train, test, fit_params,
                                  mar)
            for (train, test), mar in zip(folds, mar_folds))
        scores = np.array(per_fold)  # (n_folds, n_candidates)
        mean = scores.mean(axis=0)
        results = {"params": candidates, "mean_test_score": mean,
                   "std_test_score": scores.std(axis=0)}
        for i, row in enumerate(scores):
            results[f"split{i}_test_score"] = row
        order = np.argsort(-mean, kind="stable")
        rank = np.empty(len(candidates), dtype=int)
        rank[order] = np.arange(1, len(candidates) + 1)
        results["rank_test_score"] = rank
        self.cv_results_ = results
        self.best_index_ = int(order[0])
        self.best_params_ = dict(candidates[self.best_index_])
        self.best_score_ = float(mean[self.best_index_])
        self.best_estimator_ = clone(base).set_params(**self.best_params_).fit(
            X, y, o, **fit_params)
        return self

    # The chosen model's results and methods ---------------------------------
    def __getattr__(self, name):
        # Fitted attributes (rho_, rho_se_, params_, ...) are the refit's.
        if name.endswith("_") and not name.startswith("__") and "best_estimator_" in self.__dict__:
            return getattr(self.__dict__["best_estimator_"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _best(self):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_

    def predict(self, X):
        """The chosen model's ``predict``."""
        return self._best().predict(X)

    def score(self, X, y, o=None, sample_weight=None):
        """The chosen model's mean log-likelihood of (o, y) per pair."""
        return self._best().score(X, y, o, sample_weight=sample_weight)

    def decision_scores(self, X):
        """The chosen model's MF scores (g_o, g_r)."""
        return self._best().decision_scores(X)

    def predict_selection_proba(self, X):
        """The chosen model's P(o = 1 | x)."""
        return self._best().predict_selection_proba(X)

    def summary(self, alpha=0.05, corrected=None):
        """The chosen model's summary, with the settings the cross-validation chose."""
        smry = self._best().summary(alpha=alpha, corrected=corrected)
        what = ("held-out log-likelihood per pair" if self.scoring_ == "loglik"
                else "held-out MAR-slice log-density per pair")
        smry.add_text(f"Chosen by {self.cv}-fold {what} "
                      f"({self.best_score_:.6g}) among {len(self.cv_results_['params'])} "
                      f"settings: {self.best_params_}.")
        return smry


class HeckmanMFRegressorCV(_SelectionMFCV):
    """HeckmanMFRegressor with rank and penalties chosen by K-fold cross-validation.

    Every (n_factors, reg_factors, reg_bias) of the grid is fitted on K - 1 folds of the
    pairs and scored on the held-out fold by the mean log-likelihood of (o, y) per pair
    (the estimator's ``score``); the best is refitted on all pairs. Rank 0 ignores
    ``reg_factors``. Within a fold the bias penalties run strongest first, warm-started.

    Parameters
    ----------
    n_factors : sequence of int, default=(0, 2, 8)
    reg_factors, reg_bias : sequence of float, default=(1, 10, 100), (0.1, 1, 10)
        The grids (standardised outcome units, as HeckmanMFRegressor's penalties).
    cv : int, default=3
        Folds of the pairs (shuffled KFold).
    n_jobs : int, default=None
        Folds fitted in parallel (joblib).
    random_state : int, RandomState or None
        The folds and every fit's start.
    estimator_params : dict, default=None
        Further HeckmanMFRegressor parameters (not the three chosen here). The
        candidates are penalised fits (``rho_criterion="penalised"``) unless it sets
        ``rho_criterion``.

    Attributes
    ----------
    best_params_, best_score_, best_index_, cv_results_
        As GridSearchCV's.
    best_estimator_ : HeckmanMFRegressor
        The refit; its fitted attributes (``rho_``, ``rho_se_``, ``sigma_``, ...) are
        also read through this estimator.
    """

    _estimator = HeckmanMFRegressor

    def predict_observed(self, X):
        """The chosen model's E[y | x, o = 1]."""
        return self._best().predict_observed(X)


class BivariateProbitMFCV(_SelectionMFCV):
    """BivariateProbitMF with rank and penalties chosen by K-fold cross-validation.

    As :class:`HeckmanMFRegressorCV` (same parameters), for a binary outcome; the
    estimator_params go to BivariateProbitMF (e.g. ``likelihood``).
    """

    _estimator = BivariateProbitMF

    def predict_proba(self, X):
        """The chosen model's P(r = classes_[0]), P(r = classes_[1])."""
        return self._best().predict_proba(X)

    def decision_function(self, X):
        """The chosen model's g_r."""
        return self._best().decision_function(X)


__all__ = ["BivariateProbitMFCV", "HeckmanMFRegressorCV"]
