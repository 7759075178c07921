"""The debiasing baselines (Naive, IPS, SNIPS, EIB) on one MF backbone."""

from ._estimators import EIBMF, IPSMF, SNIPSMF, DebiasedMFBase, NaiveMF

__all__ = ["DebiasedMFBase", "EIBMF", "IPSMF", "NaiveMF", "SNIPSMF"]
