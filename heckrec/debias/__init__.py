"""The debiasing baselines (Naive, IPS, SNIPS, EIB, DR-JL) on one MF backbone."""

from ._estimators import (
    DRJLMF,
    EIBMF,
    IPSMF,
    SNIPSMF,
    DebiasedMFBase,
    NaiveMF,
    naive_bayes_propensity,
)

__all__ = ["DRJLMF", "DebiasedMFBase", "EIBMF", "IPSMF", "NaiveMF", "SNIPSMF",
           "naive_bayes_propensity"]
