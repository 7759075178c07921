"""Two-point bootstrap bias correction of rho (heckrec.inference.bias_corrected_rho)."""

import numpy as np
import pytest

from heckrec import BivariateProbitMF, DegenerateEstimateWarning, HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.inference import BiasCorrectedRho, bias_corrected_rho, bootstrap_rho
from heckrec.inference._bootstrap import MAX_BIAS_SLOPE, linear_bias_correction

#: Weak penalties: the incidental-parameter bias dominates the shrinkage (issue 14).
WEAK = dict(n_factors=1, reg_factors=1.0, reg_bias=0.1, random_state=0)


@pytest.fixture(scope="module")
def grid():
    X, r, o, _ = make_selection_mf(200, 150, n_factors=1, rho=0.8, density=0.3,
                                   random_state=7)
    return X, r, o, HeckmanMFRegressor(**WEAK).fit(X, r, o)


def test_linear_correction_solves_a_linear_bias_exactly():
    # b(a) = 0.1 + 0.3 a and a true 1.0: a_hat = 1.4, b(1.4) = 0.52, so the one-step
    # point is a_1 = 0.88 with b(0.88) = 0.364. Replications whose means carry exactly
    # those biases must give back 1.0, the slope 0.3 and the SE se * sqrt(1 + 1/2) (the
    # fit's SE is on the truth's scale: see linear_bias_correction).
    a_hat, se = 1.4, 0.05
    a, se_a, slope = linear_bias_correction(a_hat, [1.92 - 0.01, 1.92 + 0.01], 0.88,
                                            [1.244 + 0.02, 1.244 - 0.02], se)
    assert slope == pytest.approx(0.3, abs=1e-12)
    assert a == pytest.approx(1.0, abs=1e-12)
    assert se_a == pytest.approx(se * np.sqrt(1.5), abs=1e-15)


def test_linear_correction_without_slope_is_the_bias_at_the_second_point():
    # a constant bias 0.2: the slope is 0 and the answer is a_hat - b(a_1) = a_hat - 0.2
    a, se_a, slope = linear_bias_correction(0.7, [0.9, 0.9], 0.5, [0.7, 0.7, 0.7], 0.1)
    assert (a, slope) == (pytest.approx(0.5, abs=1e-12), pytest.approx(0.0, abs=1e-12))
    assert se_a == pytest.approx(0.1 * np.sqrt(4 / 3), abs=1e-15)
    # no bias at all: a_1 == a_hat, the slope is taken as 0, nothing moves
    a, _, slope = linear_bias_correction(0.3, [0.3], 0.3, [0.3], 0.1)
    assert (a, slope) == (0.3, 0.0)


def test_linear_correction_clips_a_steep_slope_and_drops_failed_replications():
    # b_0 = 0.5, b_1 = 1.5: a slope of -2 from two noisy points would divide by -1
    a, se_a, slope = linear_bias_correction(1.0, [1.5, np.nan], 0.5, [2.0, np.inf], 0.1)
    assert slope == -MAX_BIAS_SLOPE
    assert a == pytest.approx((1.0 - 1.5 - MAX_BIAS_SLOPE * 0.5) / (1 - MAX_BIAS_SLOPE))
    assert se_a == pytest.approx(0.1 * np.sqrt(2.0))  # B = 1 used
    with pytest.raises(ValueError, match="at least 1 successful replication"):
        linear_bias_correction(1.0, [np.nan], 0.5, [0.4], 0.1)


def test_simulate_at_another_rho_shares_the_random_numbers(grid):
    X, _, _, est = grid
    y_fit, o_fit = est.simulate(X, random_state=3)
    y_0, o_0 = est.simulate(X, random_state=3, rho=0.0)
    np.testing.assert_array_equal(o_0, o_fit)  # o depends on the selection draw only
    assert not np.allclose(y_0, y_fit)
    np.testing.assert_array_equal(est.simulate(X, random_state=3, rho=est.rho_)[0], y_fit)
    # at rho = 0 the outcome's errors are independent of the selection; at the fitted
    # rho (0.86) they are not (30,000 pairs: a correlation's SE is about 0.006)
    g_r = est.decision_scores(X)[1]
    assert abs(np.corrcoef(y_0 - g_r, o_0)[0, 1]) < 0.03
    assert np.corrcoef(y_fit - g_r, o_fit)[0, 1] > 0.2
    for bad in (1.0, -1.5, np.nan):
        with pytest.raises(ValueError, match="strictly inside"):
            est.simulate(X, random_state=3, rho=bad)


def test_bias_corrected_rho_is_reproducible_and_reported(grid):
    X, _, _, est = grid
    first = bias_corrected_rho(est, X, random_state=11)
    again = bias_corrected_rho(est, X, random_state=11, n_jobs=2)
    assert isinstance(first, BiasCorrectedRho) and first.method == "linear bootstrap"
    assert (first.estimate, first.se, first.bias_slope) == (again.estimate, again.se,
                                                            again.bias_slope)
    assert first.n_used == 2 and -MAX_BIAS_SLOPE <= first.bias_slope <= MAX_BIAS_SLOPE
    assert first.rho == est.rho_ and first.bias == pytest.approx(est.rho_ - first.estimate)
    assert first.se == pytest.approx(first.se_atanh * (1 - first.estimate**2), rel=1e-12)
    assert "bias_slope=" in repr(first) and "linear bootstrap" in repr(first)
    low, high = first.conf_int()
    assert low < first.estimate < high
    row = est.summary(corrected=first).tables[1].loc["rho (linear bootstrap bias-corrected)"]
    assert row.iloc[0] == f"{first.estimate:.5g}"


def test_bias_corrected_rho_moves_a_biased_estimate_towards_the_truth():
    """On the weak-penalty 200 x 150 grid at rho 0.8 rho_ is biased outwards by 0.046
    with an SD of 0.013 over 100 datasets (docs/inference.md), so on each of three
    datasets the uncorrected estimate sits above the truth; the two-point correction,
    whose SD is about 0.02, must bring the mean of the three within 0.03 of it."""
    raw, fixed = [], []
    for seed in (7, 8, 9):
        X, r, o, _ = make_selection_mf(200, 150, n_factors=1, rho=0.8, density=0.3,
                                       random_state=seed)
        est = HeckmanMFRegressor(**WEAK).fit(X, r, o)
        res = bias_corrected_rho(est, X, random_state=0)
        raw.append(est.rho_ - 0.8)
        fixed.append(res.estimate - 0.8)
    assert min(raw) > 0.015
    assert abs(np.mean(fixed)) < 0.03
    assert abs(np.mean(fixed)) < np.mean(raw) - 0.015


def test_bias_corrected_rho_refuses_what_it_cannot_correct(grid):
    from heckrec.classic import HeckmanSelection
    from heckrec.datasets import make_tobit2

    X, r, o, est = grid
    with pytest.raises(ValueError, match="pairs it was fitted on"):
        bias_corrected_rho(est, X[:10])
    with pytest.raises(ValueError, match="pass the data"):
        bias_corrected_rho(est)
    no_se = HeckmanMFRegressor(**WEAK, compute_se=False).fit(X, r, o)
    with pytest.raises(ValueError, match="standard error of rho"):
        bias_corrected_rho(no_se, X)
    fixed = HeckmanMFRegressor(**WEAK, fixed_rho=0.5).fit(X, r, o)
    with pytest.raises(ValueError, match="rho was estimated"):
        bias_corrected_rho(fixed, X)
    with pytest.raises(ValueError, match="n_boot"):
        bias_corrected_rho(est, X, n_boot=1)
    y, Xc, s, Z = make_tobit2(300, rho=0.5, random_state=0)
    with pytest.raises(TypeError, match="MF estimators"):
        bias_corrected_rho(HeckmanSelection(y, Xc, s, Z).fit(), None)


def test_bias_corrected_rho_warns_on_a_marginal_likelihood_fit():
    """BivariateProbitMF's default chooses rho by the evidence; the two-point correction
    was measured to move such a rho further from the truth (docs/inference.md), so it
    says so rather than return the number as if it were validated."""
    X, r, o, _ = make_selection_mf(100, 80, n_factors=0, rho=0.6, density=0.3,
                                   outcome="binary", bias_scale=0.8, random_state=1)
    est = BivariateProbitMF(random_state=0).fit(X, r, o)
    assert est.rho_criterion_ == "evidence"
    with pytest.warns(UserWarning, match="measured for penalised fits"):
        bias_corrected_rho(est, X, random_state=0)


@pytest.mark.filterwarnings("ignore::heckrec.NotIdentifiedWarning")  # rho_structural_se_ 1.76
def test_replications_at_the_boundary_give_no_correction():
    # 60 x 40, biases only, true rho 0.9: the fit is interior (rho_ 0.954 +- 0.014), but
    # the data simulated from it fit at rho = +1 (4 of 4 replications, measured). Their
    # atanh is infinite, so the bias is not finite: before this was caught, the clipped
    # atanh (about 17) made a bias of that size and a number came back as if fine.
    X, r, o, _ = make_selection_mf(60, 40, n_factors=0, rho=0.9, density=0.3, random_state=0)
    # its design leaves rho to the normal shape (structural SE 1.76): keep the free fit
    est = HeckmanMFRegressor(**{**WEAK, "n_factors": 0}, if_not_identified="estimate")
    est.fit(X, r, o)
    assert est.degenerate_ is None and est.rho_ == pytest.approx(0.954, abs=0.005)
    with pytest.warns(DegenerateEstimateWarning, match="ran to the boundary") as caught:
        res = bias_corrected_rho(est, X, random_state=0)
    assert caught[0].filename == __file__  # the user's line
    assert np.isnan(res.estimate) and np.isnan(res.se) and np.isnan(res.conf_int()).all()
    assert res.n_used == 0 and res.rho == est.rho_
    boot = bootstrap_rho(est, X, n_boot=2, random_state=0)
    assert boot.n_degenerate == 2
    with pytest.warns(DegenerateEstimateWarning, match="ran to the boundary") as caught:
        one_point = boot.bias_corrected()
    assert caught[0].filename == __file__
    assert np.isnan(one_point.estimate)
