"""Choosing a debiasing estimator's settings on a MAR slice.

MNAR training data cannot tell which sensitivity bound or trade-off weight is right
(that is the problem being solved), so the field chooses them on a few randomly exposed
ratings. This is not cross-validation: the candidates are fitted on all of the biased
data and scored on the slice, which methods such as Res-IPS also train on.
"""

import inspect

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.model_selection import ParameterGrid
from sklearn.utils.validation import check_is_fitted

from ..metrics._scorers import _ranking_score


def _slice_auc(estimator, X, y):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, _ranking_score(estimator, X)))


def _slice_neg_mse(estimator, X, y):
    return -float(np.mean((np.asarray(y, dtype=float) - estimator.predict(X)) ** 2))


_SCORERS = {"auc": _slice_auc, "neg_mse": _slice_neg_mse}


def _fit_one(estimator, params, X, y, o, X_unbiased, y_unbiased, fit_params, scorer):
    est = clone(estimator).set_params(**params)
    accepted = inspect.signature(est.fit).parameters
    extra = {k: v for k, v in (("X_unbiased", X_unbiased), ("y_unbiased", y_unbiased))
             if k in accepted}
    est.fit(X, y, o, **extra, **fit_params)
    return est, scorer(est, X_unbiased, y_unbiased)


class SliceSearch(MetaEstimatorMixin, BaseEstimator):
    """Fit every setting in a grid on the biased data and keep the best on a MAR slice.

    Parameters
    ----------
    estimator : estimator
        Anything with ``fit(X, y, o, ...)``; it receives ``X_unbiased`` / ``y_unbiased``
        too when its ``fit`` takes them (Res-IPS, Res-DR, the MF selection models).
    param_grid : dict or list of dicts
        As :class:`sklearn.model_selection.ParameterGrid`.
    scoring : {"auc", "neg_mse"}, callable or None, default=None
        Score of a fitted candidate on the slice, higher is better; a callable is called
        as ``scoring(estimator, X_unbiased, y_unbiased)``. None: "auc" when the slice's
        outcome takes two values, else "neg_mse".
    n_jobs : int or None, default=None
        Candidates fitted in parallel (joblib).

    Attributes
    ----------
    best_estimator_ : estimator
        The best candidate, fitted (not refitted: every candidate saw all the data).
    best_params_ : dict
    best_score_ : float
    results_ : pandas.DataFrame
        One row per candidate: its parameters and its slice score.
    """

    def __init__(self, estimator, param_grid, *, scoring=None, n_jobs=None):
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.n_jobs = n_jobs

    def fit(self, X, y, o=None, *, X_unbiased, y_unbiased, **fit_params):
        """Fit each candidate on ``(X, y, o)`` and score it on the slice.

        Parameters
        ----------
        X, y, o
            The biased training data, as the estimator's ``fit`` takes them.
        X_unbiased, y_unbiased : array-like
            The MAR slice (required).
        **fit_params
            Passed to every candidate's ``fit`` (e.g. ``propensity``).

        Returns
        -------
        self
        """
        y_slice = np.asarray(y_unbiased)
        if len(y_slice) == 0:
            raise ValueError("y_unbiased is empty: the slice must hold some ratings")
        scoring = self.scoring
        if scoring is None:
            scoring = "auc" if len(np.unique(y_slice)) == 2 else "neg_mse"
        if isinstance(scoring, str):
            if scoring not in _SCORERS:
                raise ValueError(f"scoring must be one of {sorted(_SCORERS)} or a callable, "
                                 f"got {scoring!r}")
            scoring = _SCORERS[scoring]
        grid = list(ParameterGrid(self.param_grid))
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_one)(self.estimator, params, X, y, o, X_unbiased, y_unbiased,
                              fit_params, scoring) for params in grid)
        scores = [score for _, score in fitted]
        best = int(np.nanargmax(scores))
        self.best_estimator_, self.best_score_ = fitted[best][0], float(scores[best])
        self.best_params_ = grid[best]
        self.results_ = pd.DataFrame([{**params, "score": score}
                                      for params, score in zip(grid, scores)])
        return self

    def _best(self):
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_

    def predict(self, X):
        """The best candidate's prediction."""
        return self._best().predict(X)

    def score(self, X, y, *args, **kwargs):
        """The best candidate's ``score``."""
        return self._best().score(X, y, *args, **kwargs)
