"""Scorers that request ``o`` through scikit-learn metadata routing."""

import numpy as np
from sklearn.utils.metadata_routing import MetadataRequest

from ..models._input import validate_y_o


class ObservedScorer:
    """A scorer ``scorer(estimator, X, y, o=None)`` that requests ``o`` by default.

    With metadata routing enabled (``sklearn.set_config(enable_metadata_routing=True)``)
    GridSearchCV and cross_validate pass each fold's ``o`` to it; with
    routing off, or ``o=None``, the observed pairs are those where y is not NaN.

    Parameters
    ----------
    score_func : callable
        ``score_func(estimator, X, y, o) -> float``, higher is better.
    name : str
    """

    def __init__(self, score_func, name):
        self.score_func, self.name = score_func, name

    def __call__(self, estimator, X, y, o=None):
        # The estimators' own rule for y and o (o=None means ~isnan(y)).
        y, o = validate_y_o(y, o, len(y))
        return float(self.score_func(estimator, X, y, o))

    def get_metadata_routing(self):
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="o", alias=True)
        return request

    def __repr__(self):
        return f"ObservedScorer({self.name})"


def _loglik(estimator, X, y, o):
    return estimator.score(X, y, o)


def _neg_observed_mse(estimator, X, y, o):
    pred = estimator.predict(X)
    return -np.mean((y[o] - pred[o]) ** 2)


#: Mean log-likelihood of (o, y) per pair (the estimators' ``score``).
loglik_scorer = ObservedScorer(_loglik, "loglik")

#: Minus the mean squared error of ``predict`` on the observed pairs. On MNAR
#: training folds this rewards the selection bias; use it on MAR test data.
observed_mse_scorer = ObservedScorer(_neg_observed_mse, "neg_observed_mse")
