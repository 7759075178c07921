"""Ranking metrics, and scikit-learn scorers that use the observation indicator o."""

from ._ranking import global_auc, ndcg_at_k, per_user_ranking, recall_at_k, user_auc
from ._scorers import ObservedScorer, loglik_scorer, make_ranking_scorer, observed_mse_scorer

__all__ = ["ObservedScorer", "global_auc", "loglik_scorer", "make_ranking_scorer",
           "ndcg_at_k", "observed_mse_scorer", "per_user_ranking", "recall_at_k",
           "user_auc"]
