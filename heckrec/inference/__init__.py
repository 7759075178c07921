"""Inference for rho: standard errors, Wald and profile-likelihood intervals, the LR test of
rho = 0, and the parametric bootstrap, for the classic and the MF models (docs/inference.md)."""

from ._api import bias_corrected_rho, bootstrap_rho, lr_test_rho, profile_rho, wald_interval
from ._bootstrap import BiasCorrectedRho, BootstrapResult
from ._jackknife import JackknifeResult, jackknife_rho, split_panel_correction
from ._intervals import ProfileLikelihood, lr_statistic, profile_interval, wald_interval_rho
from ._profiled import profiled_covariance, sandwich_block

__all__ = ["BiasCorrectedRho", "BootstrapResult", "JackknifeResult", "ProfileLikelihood",
           "bias_corrected_rho", "bootstrap_rho", "jackknife_rho", "lr_statistic",
           "split_panel_correction", "lr_test_rho", "profile_interval", "profile_rho",
           "profiled_covariance", "sandwich_block", "wald_interval", "wald_interval_rho"]
