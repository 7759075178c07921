"""Scorers that request ``o`` through scikit-learn metadata routing."""

import numpy as np
import pandas as pd
from sklearn.utils.metadata_routing import MetadataRequest
from sklearn.utils.validation import _num_samples

from ..models._input import validate_y_o
from ._ranking import check_convention, check_k, global_auc, ndcg_at_k, recall_at_k


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
        n_rows = _num_samples(X)
        if len(y) != n_rows:
            raise ValueError(f"{self.name} scorer: X has {n_rows} rows but y has {len(y)}")
        y, o = validate_y_o(y, o, n_rows)
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


def _ranking_score(estimator, X):
    # Both MF estimators rank by g_r: decision_function (binary) or predict (continuous).
    if hasattr(estimator, "decision_function"):
        return estimator.decision_function(X)
    return estimator.predict(X)


def make_ranking_scorer(metric="ndcg", k=5, convention="paper", threshold=None):
    """A scorer for AUC, NDCG@K or Recall@K on the observed pairs of (X, y, o).

    Meant for MAR test data (every pair observed) or a MAR validation slice; on MNAR
    folds it measures ranking among the items users chose, which is biased.

    Parameters
    ----------
    metric : {"ndcg", "recall", "auc"}, default="ndcg"
    k : int, default=5
        Cut-off for NDCG and Recall.
    convention : {"paper", "corrected"}, default="paper"
        How users without a positive test item count (see :func:`ndcg_at_k`).
    threshold : float, optional
        Relevance is ``y >= threshold`` (e.g. 3 for ratings 1-5, as in the paper);
        ``None`` uses ``y`` itself (already 0/1).

    Returns
    -------
    ObservedScorer
        ``scorer(estimator, X, y, o=None)``; the user id is X's first column.
    """
    functions = {"ndcg": ndcg_at_k, "recall": recall_at_k, "auc": global_auc}
    if metric not in functions:
        raise ValueError(f"metric must be one of {sorted(functions)}, got {metric!r}")
    check_convention(convention)
    if metric != "auc":
        check_k(k)

    def score(estimator, X, y, o):
        relevance = y[o] if threshold is None else (y[o] >= threshold).astype(np.float64)
        scores = np.asarray(_ranking_score(estimator, X))[o]
        if metric == "auc":
            return global_auc(relevance, scores)
        users = (X.iloc[:, 0] if isinstance(X, pd.DataFrame) else np.asarray(X)[:, 0])
        return functions[metric](np.asarray(users)[o], relevance, scores, k, convention)

    name = "auc" if metric == "auc" else f"{metric}@{k} ({convention})"
    return ObservedScorer(score, name)
