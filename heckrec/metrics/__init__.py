"""Metrics and scikit-learn scorers that use the observation indicator o."""

from ._scorers import ObservedScorer, loglik_scorer, observed_mse_scorer

__all__ = ["ObservedScorer", "loglik_scorer", "observed_mse_scorer"]
