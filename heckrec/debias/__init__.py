"""The debiasing estimators on one MF backbone: the baselines (Naive, IPS, SNIPS, EIB,
DR-JL) and the field's answers to hidden confounding (RD / BRD, Res-IPS / Res-DR, PUID /
BPUID), with a search of their settings on a MAR slice."""

from ._estimators import (
    DRJLMF,
    EIBMF,
    IPSMF,
    SNIPSMF,
    DebiasedMFBase,
    NaiveMF,
    naive_bayes_propensity,
)
from ._personalised import BPUIDMF, PUIDMF, implied_log_gamma
from ._residual import ResDRMF, ResIPSMF
from ._robust import BRDDRMF, BRDIPSMF, RDDRMF, RDIPSMF, inverse_propensity_box
from ._search import SliceSearch

__all__ = ["BPUIDMF", "BRDDRMF", "BRDIPSMF", "DRJLMF", "DebiasedMFBase", "EIBMF", "IPSMF",
           "NaiveMF", "PUIDMF", "RDDRMF", "RDIPSMF", "ResDRMF", "ResIPSMF", "SNIPSMF",
           "SliceSearch", "implied_log_gamma",
           "inverse_propensity_box", "naive_bayes_propensity"]
