"""The interval machinery on profiles whose answer is known in closed form."""

import numpy as np
import pytest
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from heckrec.exceptions import DegenerateEstimateWarning
from heckrec.inference import lr_statistic, profile_interval, wald_interval_rho


def test_quadratic_profile_gives_the_wald_interval_on_the_atanh_scale():
    a_hat, se = 0.4, 0.15
    prof = profile_interval(lambda a: -0.5 * ((a - a_hat) / se) ** 2, a_hat, 0.0, alpha=0.1,
                            step=se)
    # For an exactly quadratic log-likelihood the two intervals coincide (brentq xtol
    # 1e-5 in a, times d tanh/da <= 1).
    np.testing.assert_allclose(prof.interval, wald_interval_rho(a_hat, se, alpha=0.1),
                               atol=2e-5)
    assert prof.crit == pytest.approx(stats.chi2.ppf(0.9, 1))
    assert not prof.extra


def test_profile_open_to_the_boundary():
    # Flat beyond a = 1: the statistic never reaches the quantile on that side.
    prof = profile_interval(lambda a: -2.0 * min(a - 1.0, 0.0) ** 2, 1.0, 0.0, step=0.1)
    assert prof.interval[1] == 1.0
    assert prof.interval[0] == pytest.approx(np.tanh(1.0 - np.sqrt(stats.chi2.ppf(0.95, 1) / 4)),
                                             abs=1e-5)


def test_a_higher_maximum_elsewhere_is_found_and_reported():
    # Two bumps: the fit sits on the lower one at a = -0.5; the higher is at a = 1.
    def profile(a):
        return max(-8 * (a + 0.5) ** 2, 3.0 - 8 * (a - 1.0) ** 2)

    with pytest.warns(ConvergenceWarning, match="local maximum"):
        prof = profile_interval(profile, -0.5, 0.0, step=0.3, grid=np.tanh([0.0, 0.8]))
    assert prof.rho_hat == pytest.approx(np.tanh(1.0), abs=1e-5)
    assert prof.loglik_max == pytest.approx(3.0, abs=1e-9)
    half = np.sqrt(stats.chi2.ppf(0.95, 1) / 16)
    np.testing.assert_allclose(prof.interval, np.tanh([1 - half, 1 + half]), atol=1e-5)
    assert prof.extra["fitted"]["rho"] == pytest.approx(np.tanh(-0.5))
    # Without the grid the search stops at the first bump's ends and cannot see it.
    alone = profile_interval(profile, -0.5, 0.0, step=0.3)
    assert alone.rho_hat == np.tanh(-0.5) and alone.interval[1] < 0


def test_a_profile_rising_to_the_boundary_is_degenerate():
    with pytest.warns(DegenerateEstimateWarning, match="boundary"):
        prof = profile_interval(lambda a: a, 3.0, 3.0, step=0.5)
    assert prof.interval[1] == 1.0 and prof.extra["boundary"]


def test_lr_statistic():
    stat, p = lr_statistic(-10.0, -12.5)
    assert stat == 5.0 and p == pytest.approx(stats.chi2.sf(5.0, 1))
    assert lr_statistic(-10.0, -9.9999)[0] == 0.0  # restricted above full: rounding, floor 0
