"""The penalty-sensitivity check behind NotIdentifiedWarning."""

import warnings

import numpy as np
import pytest

from heckrec import BivariateProbitMF, HeckmanMFRegressor, NotIdentifiedWarning
from heckrec.datasets import load_coat, make_selection_mf
from heckrec.inference import bias_corrected_rho, profile_rho
from heckrec.metrics import global_auc


def _coat():
    coat = load_coat()
    r = coat.ratings_train.ravel().astype(float)
    return coat, coat.X_train.to_numpy(), r, (r > 0).astype(int)


def test_penalty_sensitivity_matches_refits():
    # Independent truth: refit with every penalty scaled by c = 1.05^{+-1} and difference
    # atanh(rho_) in log c. The first-order shift the fit reports (ln 10 times that slope,
    # in SEs) must agree to 1e-3 (measured 8e-5: 4.8673 against 4.8669; the rest is the
    # path's curvature over +-5% of log c and CG's rtol 1e-4). Coat, biases only,
    # reg_bias 10: a case where the shift is large.
    _, X, r, o = _coat()
    kw = dict(n_factors=0, reg_bias=10.0, tol=1e-12, max_iter=5000, random_state=0,
              if_not_identified="estimate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotIdentifiedWarning)
        est = HeckmanMFRegressor(**kw).fit(X, r, o)
    se_a = est.rho_se_ / (1 - est.rho_**2)
    a = {}
    for c in (1.05, 1 / 1.05):
        refit = HeckmanMFRegressor(**{**kw, "reg_bias": 10.0 * c, "compute_se": False})
        a[c] = np.arctanh(refit.fit(X, r, o).rho_)
    numeric = (a[1.05] - a[1 / 1.05]) / (2 * np.log(1.05))
    assert est.rho_penalty_shift_ == pytest.approx(abs(np.log(10) * numeric) / se_a, rel=1e-3)


def test_coat_without_anchors_warns_that_rho_is_not_identified():
    # docs/model.md: at reg_factors 100, reg_bias 10 Coat's rho_ (-0.369 +- 0.072) would
    # move by 4.9 SEs under a tenfold change of the penalties; with a 5% MAR slice 1.4-1.8.
    coat, X, r, o = _coat()
    with pytest.warns(NotIdentifiedWarning, match="tenfold change of the penalties"):
        est = HeckmanMFRegressor(n_factors=0, reg_bias=10.0, random_state=0,
                                 if_not_identified="estimate").fit(X, r, o)
    assert est.rho_penalty_shift_ > 2.0
    Xt = coat.X_test.to_numpy()
    yt = coat.ratings_test[Xt[:, 0], Xt[:, 1]].astype(float)
    in_slice = np.random.default_rng(0).random(yt.size) < 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotIdentifiedWarning)
        anchored = HeckmanMFRegressor(n_factors=0, reg_bias=10.0, random_state=0).fit(
            X, r, o, X_unbiased=Xt[in_slice], y_unbiased=yt[in_slice])
    assert anchored.rho_penalty_shift_ < 2.0 and anchored.rho_ > 0


def test_penalty_shift_on_an_identified_design_points_to_the_evidence():
    """Biases-only data with large biases (SD 1) under reg_bias 100: the penalty shrinks
    them and the penalised rho_ runs to 0.86 for a true 0.5 (a shift of 35 SEs), though
    the design identifies rho (structural SE 0.51). The warning says so and names the
    evidence, which from the same starting penalty gives 0.528 +- 0.030 (measured). The
    default "auto" makes that move itself: the same fit, with no warning."""
    X, r, o, _ = make_selection_mf(300, 200, n_factors=0, rho=0.5, density=0.2,
                                   bias_scale=1.0, random_state=0)
    with pytest.warns(NotIdentifiedWarning,
                      match="biased by the penalties.*rho_criterion='evidence'"):
        est = HeckmanMFRegressor(0, reg_bias=100.0, rho_criterion="penalised",
                                 random_state=0).fit(X, r, o)
    assert est.rho_structural_se_ < 1.0 and est.rho_penalty_shift_ > 2.0
    assert est.rho_ - 0.5 > 5 * est.rho_se_
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotIdentifiedWarning)
        evidence = HeckmanMFRegressor(0, reg_bias=100.0, rho_criterion="evidence",
                                      random_state=0).fit(X, r, o)
        default = HeckmanMFRegressor(0, reg_bias=100.0, random_state=0).fit(X, r, o)
    assert abs(evidence.rho_ - 0.5) < 3 * evidence.rho_se_
    assert default.rho_criterion_ == "evidence"
    assert default.rho_ == pytest.approx(evidence.rho_, abs=1e-6)
    assert default.rho_se_ == pytest.approx(evidence.rho_se_, rel=1e-4)
    assert "'auto' chose the evidence" in default.summary().as_text()


def test_auto_with_factors_moves_a_penalty_driven_rho_to_the_evidence():
    """Rank-1 factors of SD 1.5 under the default reg_factors 100: the penalised rho_
    runs to 0.98 for a true 0.5 (shift 6.1 SEs, structural SE 0.65); the default
    refits by the evidence, 0.552 +- 0.026 (measured), as rho_criterion="evidence"
    does."""
    X, r, o, _ = make_selection_mf(200, 150, n_factors=1, rho=0.5, density=0.2,
                                   factor_scale=1.5, random_state=0)
    with pytest.warns(NotIdentifiedWarning, match="biased by the penalties"):
        penalised = HeckmanMFRegressor(1, rho_criterion="penalised",
                                       random_state=0).fit(X, r, o)
    assert penalised.rho_ > 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotIdentifiedWarning)
        default = HeckmanMFRegressor(1, random_state=0).fit(X, r, o)
    assert default.rho_criterion_ == "evidence"
    assert abs(default.rho_ - 0.5) < 3 * default.rho_se_


def test_auto_refits_by_the_evidence_where_the_penalty_held_the_factors_at_zero():
    """Rank-2 factors of SD 1.5: reg_factors 100 holds them at 0 (RMS about 1e-6), so the
    penalised fit is a biases-only one, 0.230 +- 0.175 for a true 0.5, and its
    first-order shift (0.7) cannot see it (the factors' part of it is 0 at 0). The
    default refits by the evidence: 0.459 +- 0.028 (measured)."""
    X, r, o, _ = make_selection_mf(200, 150, n_factors=2, rho=0.5, density=0.2,
                                   factor_scale=1.5, random_state=0)
    penalised = HeckmanMFRegressor(2, rho_criterion="penalised", random_state=0).fit(X, r, o)
    assert penalised.rho_penalty_shift_ < 2.0 and penalised.rho_structural_se_ < 1.0
    factors = np.concatenate([np.ravel(getattr(penalised.params_, b))
                              for b in ("P_o", "Q_o", "P_r", "Q_r")])
    assert np.sqrt(np.mean(factors**2)) < 1e-3
    default = HeckmanMFRegressor(2, random_state=0).fit(X, r, o)
    assert default.rho_criterion_ == "evidence"
    assert abs(default.rho_ - 0.5) < 3 * default.rho_se_ < 0.1
    assert "held its rank-2 factors at 0" in " ".join(default.summary().as_text().split())


def test_auto_keeps_the_penalised_fit_where_the_penalties_do_not_move_rho():
    # Small biases (SD 0.3) at reg_bias 1, no factors: the first-order shift is 0.12
    # (measured), so "auto" is the penalised fit, to the last digit.
    X, r, o, _ = make_selection_mf(300, 200, n_factors=0, rho=0.5, density=0.2,
                                   random_state=0)
    penalised = HeckmanMFRegressor(0, rho_criterion="penalised", random_state=0).fit(X, r, o)
    default = HeckmanMFRegressor(0, random_state=0).fit(X, r, o)
    assert penalised.rho_penalty_shift_ < 2.0
    assert default.rho_criterion_ == "penalised" and default.rho_ == penalised.rho_


def test_left_after_effects_is_the_least_squares_residual():
    # Independent truth: the residual of a dense least-squares fit on user dummies, item
    # dummies and two features (numpy lstsq), on an unbalanced 30 x 20 design.
    from heckrec.models._identification import left_after_effects

    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 30, 400), rng.integers(0, 20, 400)
    F = rng.standard_normal((400, 2))
    v = rng.standard_normal(400) + np.sin(users) + np.cos(items) + F[:, 0]
    design = np.column_stack([np.ones(400), np.eye(30)[users], np.eye(20)[items], F])
    dense = v - design @ np.linalg.lstsq(design, v, rcond=None)[0]
    assert np.max(np.abs(left_after_effects(v, users, items, F) - dense)) < 1e-6


def test_structural_se_is_the_two_step_se_of_the_mills_ratio():
    # SE = 1 / sqrt(n var(lambda_perp)) by hand; a selection score that is a function
    # of the item alone leaves nothing beyond the item effects.
    from scipy.stats import norm

    from heckrec.models._identification import structural_rho_se

    rng = np.random.default_rng(1)
    users, items = rng.integers(0, 50, 2000), rng.integers(0, 40, 2000)
    g_o = 0.8 * rng.standard_normal(2000)
    lam = norm.pdf(g_o) / norm.cdf(g_o)
    se, share = structural_rho_se(g_o, users, items)
    design = np.column_stack([np.ones(2000), np.eye(50)[users], np.eye(40)[items]])
    left = lam - design @ np.linalg.lstsq(design, lam, rcond=None)[0]
    assert se == pytest.approx(1 / np.sqrt(left @ left), rel=1e-6)
    assert share == pytest.approx((left @ left) / 2000 / np.var(lam), rel=1e-6)
    item_only = np.linspace(-2, 1, 40)[items]
    se_item, share_item = structural_rho_se(item_only, users, items)
    assert share_item < 1e-12 and se_item > 1e5


def test_coat_defaults_warn_that_the_design_does_not_identify_rho():
    # docs/model.md: every Coat user chose 24 coats, so the users' selection biases are
    # equal and lambda(g_o) is reproduced by the item effects up to 2.4e-6 of its
    # variance: the structural SE is 30 (measured), against 0.05-0.9 on the simulated
    # grids of the coverage study, where the fit does not warn.
    from heckrec.datasets import make_selection_mf

    _, X, r, o = _coat()
    with pytest.warns(NotIdentifiedWarning, match="not identified by the design"):
        est = HeckmanMFRegressor(random_state=0).fit(X, np.where(o == 1, r, np.nan), o)
    assert est.rho_structural_se_ > 10
    assert "Structural SE" in est.summary().as_text()
    Xs, rs, os_, _ = make_selection_mf(200, 150, n_factors=1, rho=0.4, density=0.3,
                                       random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotIdentifiedWarning)
        sim = HeckmanMFRegressor(n_factors=1, reg_factors=1.0, reg_bias=0.1,
                                 random_state=0).fit(Xs, rs, os_)
    assert sim.rho_structural_se_ < 0.1  # measured 0.047


def test_structural_se_leaves_a_selection_only_column_out_of_the_outcome():
    # An exposure feature in g_o only: the outcome cannot reproduce the part of lambda it
    # drives, so the structural SE is smaller than with the column in both scores (where
    # the outcome's weight on it absorbs that part too). Measured on seeds 3 / 4 / 5:
    # 0.768 -> 0.078, 0.114 -> 0.032, 0.209 -> 0.040 (ratios 0.10 to 0.28).
    from heckrec.datasets import make_selection_mf

    X, r, o, _ = make_selection_mf(150, 100, n_factors=0, n_features=1, rho=0.5,
                                   density=0.3, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both = HeckmanMFRegressor(n_factors=0, random_state=0).fit(X, r, o)
        excluded = HeckmanMFRegressor(n_factors=0, selection_only=[2],
                                      random_state=0).fit(X, r, o)
    assert excluded.rho_structural_se_ < 0.5 * both.rho_structural_se_


def test_coat_defaults_hold_an_unidentified_rho_at_zero():
    # Coat's 1-5 ratings at the defaults: the design leaves rho to the normal shape
    # (structural SE 30), so the fit is redone with rho held at 0. Measured: the free
    # fit's rho -0.152 moved the mean prediction on the MAR pairs to 2.849 (their mean
    # 2.229); held at 0 it is 2.553 (NaiveMF 2.548).
    coat, X, r, o = _coat()
    Xt = coat.X_test.to_numpy()
    yt = coat.ratings_test[Xt[:, 0], Xt[:, 1]].astype(float)
    est = HeckmanMFRegressor(random_state=0)
    before = est.get_params()
    with pytest.warns(NotIdentifiedWarning, match="so it was not estimated") as caught:
        est.fit(X, r, o)
    assert len(caught) == 1 and caught[0].filename == __file__  # the user's line, once
    assert est.get_params() == before  # fixed_rho was held only during the refit
    assert np.isnan(est.rho_) and np.isnan(est.rho_se_) and est.degenerate_ is None
    assert est.rho_free_ == pytest.approx(-0.152, abs=0.005)
    assert est.rho_structural_se_ == pytest.approx(30.1, abs=0.5)
    held = est.predict(Xt).mean()
    assert held == pytest.approx(2.553, abs=0.01)
    free = HeckmanMFRegressor(random_state=0, if_not_identified="estimate")
    with pytest.warns(NotIdentifiedWarning, match="rests on that shape"):
        free.fit(X, r, o)
    assert free.rho_ == pytest.approx(est.rho_free_, abs=1e-9)
    assert abs(held - yt.mean()) < abs(free.predict(Xt).mean() - yt.mean()) - 0.25
    assert "rho not identified by this design" in str(est.summary())
    for inference in (lambda: profile_rho(est, X, r, o), lambda: bias_corrected_rho(est, X)):
        with pytest.raises(ValueError, match="held rho at 0 because the design"):
            inference()


def test_coat_binary_defaults_are_not_degenerate_and_rank_as_the_paper():
    # Issue 13: BivariateProbitMF's defaults ran Coat (rating >= 3) to rho = -1 with AUC
    # 0.741. Today's defaults (biases only, rho and the precisions by the evidence) find
    # rho_free_ -0.560 (-0.539 at MacKay's fixed point before the evidence's Newton steps,
    # -0.526 with the block-diagonal log det before that), which the design cannot
    # identify (structural SE above 1), so it is held at 0: AUC 0.7750 (the paper's code:
    # 0.756), mean P(like) 0.504.
    coat = load_coat()
    with pytest.warns(NotIdentifiedWarning, match="so it was not estimated"):
        est = BivariateProbitMF(random_state=0).fit(coat.X_train, coat.r_train, coat.o_train)
    assert est.rho_criterion_ == "evidence"
    assert est.degenerate_ is None and np.isnan(est.rho_)
    assert est.rho_free_ == pytest.approx(-0.560, abs=0.01)
    assert est.rho_structural_se_ > 1
    auc = global_auc(coat.r_test, est.predict_proba(coat.X_test)[:, 1])
    assert auc == pytest.approx(0.7751, abs=0.003) and auc > 0.756


def test_if_not_identified_is_validated():
    _, X, r, o = _coat()
    with pytest.raises(ValueError, match="if_not_identified"):
        HeckmanMFRegressor(if_not_identified="drop").fit(X, r, o)
