"""unobserved="complement": the fit from the interaction log alone (issue 15).

Truths used: the dense grid's log Phi(-g_o) by scipy over every unlisted pair, central
finite differences, and the same model fitted with every pair listed (the optimum must be
the same: rho_ to 1e-5, loglik_ to 1e-8 relative, the issue's Done-when).
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.special import log_ndtr, ndtr
from scipy.stats import norm
from sklearn.exceptions import NotFittedError

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.models import _laplace
from heckrec.models._complement import unobserved_term
from heckrec.models._layout import ParamLayout
from heckrec.models._pairs import PairSet


def _log_problem(n_users=37, n_items=23, k=3, share=0.2, seed=0):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), n_items)
    items = np.tile(np.arange(n_items), n_users)
    logged = rng.random(users.size) < share
    order = rng.permutation(int(logged.sum()))  # a log comes in any order
    lu, li = users[logged][order], items[logged][order]
    pairs = PairSet(lu, li, np.ones(lu.size), np.ones(lu.size, dtype=bool),
                    np.empty((lu.size, 0)), n_users, n_items, complement=True)
    layout = ParamLayout(n_users, n_items, k, 0)
    theta = rng.normal(0.0, 0.5, layout.size)
    theta[layout.index("mu_o")] = -1.0
    unlisted = np.ones((n_users, n_items), dtype=bool)
    unlisted[lu, li] = False
    return pairs, layout, theta, unlisted


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_sweep_matches_the_dense_grid(backend):
    """The swept term equals scipy's log Phi(-g_o) summed over every unlisted pair of the
    dense grid (to 1e-12 relative: both are sums of ~700 terms of accurate logs)."""
    pairs, layout, theta, unlisted = _log_problem()
    p = layout.unpack(theta)
    G = p.mu_o + p.bu_o[:, None] + p.bi_o[None, :] + p.P_o @ p.Q_o.T
    expected = log_ndtr(-G)[unlisted].sum()
    ll, _ = unobserved_term(theta, layout, pairs, backend)
    assert ll == pytest.approx(expected, rel=1e-12)
    assert pairs.n_unlisted == unlisted.sum()


def test_sweep_gradient_by_finite_differences():
    """Every gradient entry against a central difference (step 1e-6: the error is
    O(h^2 * third derivative * n) + O(eps * |ll| / h), about 1e-6 here; 1e-5 abs)."""
    pairs, layout, theta, _ = _log_problem(n_users=9, n_items=7, k=2)
    _, grad = unobserved_term(theta, layout, pairs)
    fd = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = 1e-6
        fd[j] = (unobserved_term(theta + e, layout, pairs)[0]
                 - unobserved_term(theta - e, layout, pairs)[0]) / 2e-6
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-5)
    # only the selection equation's blocks move the unobserved term
    outcome = np.concatenate([np.arange(layout.size)[layout.slices[n]]
                              for n in layout.shapes if n.endswith("_r") or n in ("a", "s")])
    assert np.all(grad[outcome] == 0.0)


def test_numba_sweep_equals_its_numpy_twin():
    """The kernel against the array twin (the cupy path's code), gradient to 1e-12."""
    pairs, layout, theta, _ = _log_problem(n_users=120, n_items=50, k=4)
    ll_a, g_a = unobserved_term(theta, layout, pairs, "numba")
    ll_b, g_b = unobserved_term(theta, layout, pairs, "numpy")
    assert ll_a == pytest.approx(ll_b, rel=1e-13)
    np.testing.assert_allclose(g_a, g_b, rtol=1e-12, atol=1e-12)


def test_sweep_bitwise_across_thread_counts():
    """The blocks are fixed by the sizes, not the threads, so 1 and 2 threads agree."""
    script = ("import sys; sys.path.insert(0, %r)\n"
              "from test_complement import _log_problem\n"
              "from heckrec.models._complement import unobserved_term\n"
              "pairs, layout, theta, _ = _log_problem(n_users=300, n_items=40)\n"
              "ll, g = unobserved_term(theta, layout, pairs)\n"
              "import hashlib\n"
              "print(ll.hex(), hashlib.sha256(g.tobytes()).hexdigest())\n") % os.path.dirname(__file__)
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env={**os.environ, "NUMBA_NUM_THREADS": str(t)},
                           check=True).stdout for t in (1, 2)]
    assert runs[0] == runs[1] and runs[0].strip()


def _fit_both(Est, X, y, o, fit_params=None, **params):
    """The same model from the listed grid and from its log (the observed rows)."""
    observed = o.astype(bool)
    # (the penalised fit on both, to the tolerance above; the marginal likelihood's
    # search from the log is tested in tests/test_laplace.py)
    common = dict(tol=1e-12, max_iter=5000, random_state=0, if_not_identified="estimate",
                  rho_criterion="penalised", **params)
    fit_params = fit_params or {}
    listed = Est(unobserved="listed", **common).fit(X, y, o, **fit_params)
    log = Est(unobserved="complement", **common).fit(X[observed], y[observed], **fit_params)
    return listed, log


# The binary model's rho is barely identified on a small grid without anchors (issue 13:
# it runs to the boundary here), so its comparison gets a MAR slice of 300 pairs, which
# puts the optimum inside (rho_ 0.55 +- 0.06 at the truth 0.5).
@pytest.mark.parametrize("Est,outcome,params,n_mar", [
    (HeckmanMFRegressor, "continuous", {"n_factors": 2}, 0),
    (BivariateProbitMF, "binary", {"n_factors": 0, "reg_bias": 0.1}, 300)])
def test_complement_has_the_listed_optimum(Est, outcome, params, n_mar):
    """Issue 15's Done-when: rho_ to 1e-5 and loglik_ to 1e-8 relative, and the SEs
    (the complement's by differenced gradients, the listed one's exact product) to 1e-3
    relative."""
    X, y, o, truth = make_selection_mf(80, 50, n_factors=params["n_factors"], rho=0.5,
                                       density=0.2, outcome=outcome, random_state=1)
    rng = np.random.default_rng(0)
    mar = rng.choice(np.flatnonzero(o == 0), n_mar, replace=False)
    slice_ = {}
    if n_mar:  # labels of randomly exposed pairs: their marginal P(r = 1) = Phi(g_r)
        slice_ = {"X_unbiased": X[mar],
                  "y_unbiased": (rng.random(n_mar) < ndtr(truth["g_r"][mar])).astype(float)}
    listed, log = _fit_both(Est, X, y, o, fit_params=slice_, **params)
    assert listed.degenerate_ is None and abs(listed.rho_) < 0.99
    assert log.rho_ == pytest.approx(listed.rho_, abs=1e-5)
    assert log.loglik_ == pytest.approx(listed.loglik_, rel=1e-8)
    assert log.rho_se_ == pytest.approx(listed.rho_se_, rel=1e-3)
    assert log.n_pairs_ == listed.n_pairs_ == 80 * 50
    assert log.n_observed_ == listed.n_observed_
    rows = X[:7]
    np.testing.assert_allclose(log.predict(rows), listed.predict(rows), atol=1e-5)


def test_binary_defaults_from_the_log_are_the_listed_grids():
    # BivariateProbitMF's default "auto" resolves to the evidence on a biases-only model
    # from the log as from the listed grid (the unlisted pairs' curvature swept by tiles),
    # so the two give one rho_ and the same prior precisions.
    X, y, o, truth = make_selection_mf(80, 50, n_factors=0, rho=0.5, density=0.2,
                                       outcome="binary", random_state=1)
    rng = np.random.default_rng(0)
    mar = rng.choice(np.flatnonzero(o == 0), 300, replace=False)
    slice_ = {"X_unbiased": X[mar],
              "y_unbiased": (rng.random(300) < ndtr(truth["g_r"][mar])).astype(float)}
    observed = o.astype(bool)
    listed = BivariateProbitMF(random_state=0).fit(X, y, o, **slice_)
    log = BivariateProbitMF(unobserved="complement", random_state=0).fit(
        X[observed], y[observed], **slice_)
    assert listed.rho_criterion_ == log.rho_criterion_ == "evidence"
    assert abs(listed.rho_) < 0.99
    assert log.rho_ == pytest.approx(listed.rho_, abs=1e-4)
    assert log.rho_se_ == pytest.approx(listed.rho_se_, rel=1e-3)
    for group, value in listed.prior_precisions_.items():
        assert log.prior_precisions_[group] == pytest.approx(value, rel=1e-3)


def test_inference_on_a_complement_fit_takes_the_log():
    """profile_rho and lr_test_rho refit from the log a complement fit was given and
    reproduce the listed fit's (the same optimum, so the same profile). Before, all of them
    compared the log's rows with n_pairs_ (which counts the unlisted pairs) and asked
    for "the training data" the user had passed."""
    from heckrec.inference import lr_test_rho, profile_rho

    X, y, o, _ = make_selection_mf(60, 40, n_factors=1, rho=0.5, density=0.3,
                                   random_state=0)
    listed, log = _fit_both(HeckmanMFRegressor, X, y, o, n_factors=1)
    observed = o == 1
    X_log, y_log = X[observed], y[observed]
    statistic, p = lr_test_rho(log, X_log, y_log)
    assert statistic == pytest.approx(lr_test_rho(listed, X, y, o)[0], rel=1e-6)
    np.testing.assert_allclose(profile_rho(log, X_log, y_log).interval,
                               profile_rho(listed, X, y, o).interval, atol=1e-6)
    with pytest.raises(ValueError, match=f"X has 2400 rows and the fit had {observed.sum()}:"):
        lr_test_rho(log, X, y, o)


@pytest.mark.parametrize("Est", [HeckmanMFRegressor, BivariateProbitMF])
def test_simulate_log_is_simulate_on_the_grid_kept_where_observed(Est):
    """simulate_log draws what simulate draws on the fit's users x items grid (listed in
    the fit's order, so the same normal numbers reach the same pairs) and keeps the pairs
    with o = 1: the same ids and outcomes, exactly. With another rho and the same seed the
    log is the same and only y moves (the common random numbers of the bias correction)."""
    X, y, o, _ = make_selection_mf(60, 40, n_factors=1, rho=0.5, density=0.3,
                                   outcome="continuous" if Est is HeckmanMFRegressor
                                   else "binary", random_state=0)
    observed = o == 1
    est = Est(n_factors=1, unobserved="complement", rho_criterion="penalised",
              if_not_identified="estimate", random_state=0).fit(X[observed], y[observed])
    users, items = est.user_encoder_.index_.to_numpy(), est.item_encoder_.index_.to_numpy()
    grid = np.column_stack([np.repeat(users, items.size), np.tile(items, users.size)])
    y_grid, o_grid = est.simulate(grid, random_state=7)
    X_sim, y_sim = est.simulate_log(random_state=7)
    kept = o_grid == 1
    np.testing.assert_array_equal(X_sim.to_numpy(), grid[kept])
    np.testing.assert_array_equal(y_sim, y_grid[kept])
    X_moved, y_moved = est.simulate_log(random_state=7, rho=-0.5)
    np.testing.assert_array_equal(X_moved.to_numpy(), X_sim.to_numpy())
    if Est is HeckmanMFRegressor:
        assert not np.allclose(y_moved, y_sim)
    with pytest.raises(ValueError, match="strictly inside"):
        est.simulate_log(rho=1.0)


def test_simulate_log_of_a_fit_without_selection_lists_every_pair():
    """A fit in which every pair was observed models no selection (o is always 1), so its
    simulated log is the whole grid, as simulate's o is all ones."""
    X, _, _, truth = make_selection_mf(30, 20, n_factors=1, rho=0.0, density=0.3,
                                       random_state=0)
    y = truth["g_r"] + np.random.default_rng(0).standard_normal(len(X))
    est = HeckmanMFRegressor(n_factors=1, random_state=0).fit(X, y, np.ones(len(y)))
    X_sim, y_sim = est.simulate_log(random_state=0)
    assert X_sim.shape == (30 * 20, 2) and np.isfinite(y_sim).all()


def test_simulate_log_refuses_side_features():
    """Side features are known only at the logged pairs, so a log of new pairs cannot be
    scored: a clear error rather than scores without the features. Before fit: sklearn's
    NotFittedError."""
    X, y, o, _ = make_selection_mf(50, 30, n_factors=1, rho=0.4, density=0.3, n_features=1,
                                   random_state=3)
    observed = o == 1
    est = HeckmanMFRegressor(n_factors=1, unobserved="complement", outcome_only=[2],
                             random_state=0).fit(X[observed], y[observed])
    with pytest.raises(ValueError, match="side features"):
        est.simulate_log(random_state=0)
    with pytest.raises(NotFittedError):
        HeckmanMFRegressor().simulate_log()


def test_bias_correction_from_the_log_equals_the_listed_grids():
    """bias_corrected_rho and bootstrap_rho of a complement fit simulate logs
    (simulate_log) and refit from them; on the same data they reproduce the listed fit's,
    whose replications draw the same numbers on the grid (every user and item appears in
    each simulated log here, so both refits have the same optimum). Before, both refused a
    fit from the log."""
    from heckrec.inference import bias_corrected_rho, bootstrap_rho

    X, y, o, _ = make_selection_mf(60, 40, n_factors=1, rho=0.5, density=0.3,
                                   random_state=0)
    listed, log = _fit_both(HeckmanMFRegressor, X, y, o, n_factors=1)
    X_log = X[o == 1]
    from_log = bias_corrected_rho(log, X_log, random_state=0)
    from_grid = bias_corrected_rho(listed, X, random_state=0)
    assert np.isfinite(from_log.estimate)
    assert from_log.estimate == pytest.approx(from_grid.estimate, abs=1e-5)
    # the SE is the fit's own, inflated: the two fits' rho_se_ (the profiled Hessian by
    # CG) agree to 1% on this weakly identified design (SE 0.43)
    assert from_log.se == pytest.approx(from_grid.se, rel=1e-2)
    boot_log = bootstrap_rho(log, X_log, n_boot=2, random_state=1)
    boot_grid = bootstrap_rho(listed, X, n_boot=2, random_state=1)
    np.testing.assert_allclose(boot_log.estimates["rho"], boot_grid.estimates["rho"],
                               atol=1e-5)


def test_bias_correction_from_a_log_a_user_drops_out_of():
    """A simulated log can lack a user the fit had (here user 0, with one logged pair of
    40), as a real log would: that replication refits without it, and its second point
    starts from its own solution (its own layout), not the fit's: both replications are
    used at both points (a start in the wrong layout fails that refit, n_used < 2)."""
    from heckrec.inference import bias_corrected_rho
    from heckrec.inference._bootstrap import seeds_for

    X, y, o, _ = make_selection_mf(60, 40, n_factors=1, rho=0.5, density=0.3,
                                   random_state=0)
    keep = (o == 1) & (X[:, 0] != 0)
    keep[np.flatnonzero((o == 1) & (X[:, 0] == 0))[0]] = True  # user 0: one logged pair
    est = HeckmanMFRegressor(n_factors=1, unobserved="complement", random_state=0,
                             if_not_identified="estimate").fit(X[keep], y[keep])
    seed = seeds_for(5, 2)[0]
    assert not (est.simulate_log(random_state=seed)[0]["user"] == 0).any()
    corrected = bias_corrected_rho(est, X[keep], random_state=5)
    assert np.isfinite(corrected.estimate) and np.isfinite(corrected.bias_slope)
    assert corrected.n_used == 2


def test_complement_with_outcome_features_and_a_mar_slice():
    """Outcome-only side features and a MAR slice work from the log as from the grid."""
    X, y, o, truth = make_selection_mf(70, 40, n_factors=1, rho=0.4, density=0.25,
                                       n_features=1, random_state=3)
    rng = np.random.default_rng(0)
    mar = rng.choice(np.flatnonzero(o == 0), 40, replace=False)
    y_mar = truth["g_r"][mar] + rng.standard_normal(40)  # sigma = 1
    listed, log = _fit_both(HeckmanMFRegressor, X, y, o, n_factors=1, outcome_only=[2])
    slice_listed = HeckmanMFRegressor(n_factors=1, outcome_only=[2], tol=1e-12,
                                      max_iter=5000, random_state=0)
    slice_log = HeckmanMFRegressor(n_factors=1, outcome_only=[2], tol=1e-12, max_iter=5000,
                                   random_state=0, unobserved="complement")
    slice_listed.fit(X, y, o, X_unbiased=X[mar], y_unbiased=y_mar)
    observed = o.astype(bool)
    slice_log.fit(X[observed], y[observed], X_unbiased=X[mar], y_unbiased=y_mar)
    for a, b in ((listed, log), (slice_listed, slice_log)):
        assert b.rho_ == pytest.approx(a.rho_, abs=1e-5)
        assert b.loglik_ == pytest.approx(a.loglik_, rel=1e-8)
    assert slice_log.rho_ != pytest.approx(log.rho_, abs=1e-3)  # the slice did enter


def test_complement_numpy_backend_matches_numba():
    X, y, o, _ = make_selection_mf(50, 30, n_factors=1, density=0.3, random_state=2)
    observed = o.astype(bool)
    fits = [HeckmanMFRegressor(n_factors=1, tol=1e-12, unobserved="complement", backend=b,
                               random_state=0, if_not_identified="estimate")
            .fit(X[observed], y[observed])
            for b in ("numba", "numpy")]
    assert fits[0].rho_ == pytest.approx(fits[1].rho_, abs=1e-6)


@pytest.mark.parametrize("params,fit_o,match", [
    ({}, "zeros", "o is 0 on"),
    ({}, "duplicate", "more than once"),
    ({}, "feature", r"declare X column\(s\) \[2\] outcome_only"),
    ({"solver": "adam"}, None, "solver='adam'"),
    ({"cov_type": "robust"}, None, "cov_type='robust'"),
    ({"alpha": 0.5}, None, "alpha < 1"),
])
def test_complement_rejects_what_it_cannot_fit(params, fit_o, match):
    X, y, o, _ = make_selection_mf(30, 20, n_factors=0, n_features=1, density=0.3,
                                   random_state=0)
    observed = o.astype(bool)
    X_log, y_log, o_log = X[observed], y[observed], None
    if fit_o == "zeros":
        X_log, y_log, o_log = X, np.where(observed, y, 0.0), o
    elif fit_o == "duplicate":
        X_log, y_log = np.vstack([X_log, X_log[:1]]), np.concatenate([y_log, y_log[:1]])
    if fit_o != "feature":
        params = {"outcome_only": [2], **params}
    est = HeckmanMFRegressor(n_factors=0, unobserved="complement", **params)
    with pytest.raises(ValueError, match=match):
        est.fit(X_log, y_log, o_log)


def test_complement_of_a_full_log_is_no_selection():
    """A log that holds every pair of its users x items leaves nothing unobserved."""
    X, y, o, _ = make_selection_mf(20, 10, n_factors=0, density=0.3, random_state=0)
    with pytest.warns(Warning, match="every pair is observed"):
        est = HeckmanMFRegressor(n_factors=0, unobserved="complement").fit(X, np.nan_to_num(y))
    assert np.isnan(est.rho_)


def test_complement_warns_nothing_extra_on_a_plain_fit():
    # The same warnings as the listed fit of the same data: on this 40 x 30 grid that is
    # the NotIdentifiedWarning of a design too small to identify rho, and nothing else.
    X, y, o, _ = make_selection_mf(40, 30, n_factors=1, density=0.25, random_state=5)
    observed = o.astype(bool)
    caught = {}
    for how, args in (("listed", (X, y, o)), ("complement", (X[observed], y[observed]))):
        with warnings.catch_warnings(record=True) as caught[how]:
            warnings.simplefilter("always")
            HeckmanMFRegressor(n_factors=1, unobserved=how).fit(*args)
    kinds = {how: sorted(type(w.message).__name__ for w in ws) for how, ws in caught.items()}
    assert kinds["complement"] == kinds["listed"]


def test_cv_refuses_the_complement():
    from heckrec import HeckmanMFRegressorCV

    X, y, o, _ = make_selection_mf(20, 10, n_factors=0, density=0.3, random_state=0)
    cv = HeckmanMFRegressorCV(estimator_params={"unobserved": "complement"})
    with pytest.raises(ValueError, match="not supported"):
        cv.fit(X[o == 1], y[o == 1])


def test_make_selection_log_draws_the_model_of_the_grid():
    """The log simulator's observed share and outcome mean match the model (checked
    against the dense scores it implies): share to 3 SEs, ids inside the grid."""
    from heckrec.datasets import make_selection_log

    X, r, truth = make_selection_log(300, 200, n_factors=2, rho=0.0, density=0.05,
                                     random_state=0, chunk_pairs=7000)
    G = (truth["mu_o"] + truth["bu_o"][:, None] + truth["bi_o"][None, :]
         + truth["P_o"] @ truth["Q_o"].T)
    p = ndtr(G).mean()
    se = np.sqrt((ndtr(G) * (1 - ndtr(G))).sum()) / G.size
    assert abs(X.shape[0] / G.size - p) < 3 * se
    assert abs(p - 0.05) < 0.01
    assert X[:, 0].max() < 300 and X[:, 1].max() < 200
    assert np.unique(X[:, 0] * 200 + X[:, 1]).size == X.shape[0]
    # rho = 0: the outcome mean of observed pairs is the mean g_r over them
    G_r = (truth["mu_r"] + truth["bu_r"][:, None] + truth["bi_r"][None, :]
           + truth["P_r"] @ truth["Q_r"].T)
    assert abs(r.mean() - G_r[X[:, 0], X[:, 1]].mean()) < 4 / np.sqrt(r.size)


@pytest.mark.parametrize("kwargs,match", [({"rho": 1.0}, "rho must lie"),
                                          ({"bias_scale": -1.0}, "bias_scale"),
                                          ({"density": 0.0}, "density"),
                                          ({"outcome": "count"}, "outcome must be")])
def test_make_selection_log_rejects_bad_arguments(kwargs, match):
    from heckrec.datasets import make_selection_log

    with pytest.raises(ValueError, match=match):
        make_selection_log(20, 10, **kwargs)


def _dense_selection_blocks(p, unlisted):
    """The unlisted pairs' selection blocks from the dense grid, curvature by scipy:
    -d2/dg2 log Phi(-g) = m (m - g), m = pdf(g) / sf(g)."""
    G = p.mu_o + p.bu_o[:, None] + p.bi_o[None, :] + p.P_o @ p.Q_o.T
    m = norm.pdf(G) / norm.sf(G)
    W = np.where(unlisted, m * (m - G), 0.0)
    x_user = np.hstack([np.ones((G.shape[0], 1)), p.P_o])
    x_item = np.hstack([np.ones((G.shape[1], 1)), p.Q_o])
    return (np.einsum("ui,ia,ib->uab", W, x_item, x_item),
            np.einsum("ui,ua,ub->iab", W, x_user, x_user))


def test_unlisted_curvature_blocks_match_the_dense_grid(monkeypatch):
    """The Laplace blocks' tiles (a few users per tile here) equal the dense grid's
    blocks summed pair by pair (1e-10 relative)."""
    pairs, layout, theta, unlisted = _log_problem()
    p = layout.unpack(theta)
    monkeypatch.setattr(_laplace, "UNLISTED_TILE", 5 * pairs.n_items)
    users, items = _laplace.unlisted_selection_blocks(p, pairs)
    dense_users, dense_items = _dense_selection_blocks(p, unlisted)
    np.testing.assert_allclose(users, dense_users, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(items, dense_items, rtol=1e-10, atol=1e-12)
