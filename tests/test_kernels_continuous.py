"""The continuous-model kernel against its numpy twin and finite differences."""

import numpy as np
import pytest
from scipy.special import erfcx, log_ndtr

from heckrec._kernels.heckman_continuous import log_ndtr_mills_array
from heckrec.models._layout import ParamLayout
from heckrec.models._likelihood import ContinuousHeckmanLikelihood
from heckrec.models._pairs import PairSet

BLOCKS = ["mu_o", "bu_o", "bi_o", "P_o", "Q_o", "w_o",
          "mu_r", "bu_r", "bi_r", "P_r", "Q_r", "w_r", "a", "s"]


def _problem(seed=0, n_users=13, n_items=11, k=3, d=2, density=0.4):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), n_items)
    items = np.tile(np.arange(n_items), n_users)
    keep = rng.random(users.size) < 0.8          # not a full grid
    users, items = users[keep], items[keep]
    o = rng.random(users.size) < density
    r = np.where(o, rng.normal(1.0, 2.0, users.size), np.nan)
    F = rng.standard_normal((users.size, d))
    pairs = PairSet(users, items, r, o, F, n_users, n_items)
    layout = ParamLayout(n_users, n_items, k, d)
    theta = rng.normal(0.0, 0.5, layout.size)
    theta[layout.index("a")] = 0.6
    theta[layout.index("s")] = 0.3
    return pairs, layout, theta


def test_log_ndtr_mills_against_scipy():
    # scipy's log_ndtr is exact to ~1e-15 for x <= 6 (beyond, it truncates a
    # series at 1e-9 relative, see the kernel docstring), so compare there.
    x = np.linspace(-40.0, 6.0, 200_001)
    log_cdf, mills = log_ndtr_mills_array(x)
    ref = log_ndtr(x)
    np.testing.assert_allclose(log_cdf, ref, rtol=2e-14, atol=0)
    # Mills ratio without rounding x^2/2: for x < 0 it is sqrt(2/pi)/erfcx(-x/sqrt 2).
    neg = x < 0
    ref_mills = np.sqrt(2 / np.pi) / erfcx(-x[neg] / np.sqrt(2))
    np.testing.assert_allclose(mills[neg], ref_mills, rtol=2e-14, atol=0)
    ref_pos = np.exp(-0.5 * x[~neg] ** 2 - 0.5 * np.log(2 * np.pi) - ref[~neg])
    np.testing.assert_allclose(mills[~neg], ref_pos, rtol=5e-14, atol=0)


def test_log_ndtr_mills_right_tail_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    x = np.array([0.3, 0.66291260736238, 0.7, 2.0, 4.0, 6.5, 8.0, 12.0, 20.0, 30.0])
    log_cdf, mills = log_ndtr_mills_array(x)
    for xi, lc, m in zip(x, log_cdf, mills):
        X = mpmath.mpf(xi)
        tail = mpmath.ncdf(-X)
        ref = float(mpmath.log1p(-tail))
        ref_m = float(mpmath.npdf(X) / (1 - tail))
        # 1e-13 covers the rounding of x*x inside exp(-x^2/2) up to |x| = 30.
        assert abs(lc - ref) <= 1e-13 * abs(ref), xi
        assert abs(m - ref_m) <= 1e-13 * ref_m, xi


def test_numba_kernel_matches_numpy_twin():
    pairs, layout, theta = _problem()
    lik = ContinuousHeckmanLikelihood()
    ll_n, g_n = lik.loglik_grad(theta, layout, pairs, "numba")
    ll_t, g_t = lik.loglik_grad(theta, layout, pairs, "numpy")
    assert ll_n == pytest.approx(ll_t, rel=1e-13)
    for name in BLOCKS:
        sl = layout.slices[name]
        np.testing.assert_allclose(g_n[sl], g_t[sl], rtol=1e-11, atol=1e-11, err_msg=name)


def test_numba_kernel_is_deterministic():
    pairs, layout, theta = _problem(seed=3, n_users=200, n_items=50)
    lik = ContinuousHeckmanLikelihood()
    runs = [lik.loglik_grad(theta, layout, pairs, "numba") for _ in range(3)]
    for ll, g in runs[1:]:
        assert ll == runs[0][0]
        assert np.array_equal(g, runs[0][1])


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_gradient_against_finite_differences(backend):
    pairs, layout, theta = _problem(seed=1)
    lik = ContinuousHeckmanLikelihood()
    _, grad = lik.loglik_grad(theta, layout, pairs, backend)
    rng = np.random.default_rng(5)
    h = 1e-6
    for name in BLOCKS:
        sl = layout.slices[name]
        for idx in rng.choice(np.arange(sl.start, sl.stop), size=min(4, sl.stop - sl.start),
                              replace=False):
            step = np.zeros_like(theta)
            step[idx] = h
            up = lik.loglik_grad(theta + step, layout, pairs, backend)[0]
            down = lik.loglik_grad(theta - step, layout, pairs, backend)[0]
            fd = (up - down) / (2 * h)
            # Central differences: truncation O(h^2) ~ 1e-12, rounding ~ |ll| eps / h ~ 1e-8.
            assert grad[idx] == pytest.approx(fd, rel=1e-6, abs=1e-6), (name, idx)


def test_observed_term_against_numerical_integration():
    # The o = 1 density is phi_2 integrated over z > 0: check the closed form
    # log-likelihood of one pair by quadrature of the bivariate normal.
    from scipy import integrate, stats
    g_o, g_r, rho, sigma, r = 0.4, 1.3, -0.55, 1.7, 2.2
    cov = [[1.0, rho * sigma], [rho * sigma, sigma**2]]
    mvn = stats.multivariate_normal([g_o, g_r], cov)
    dens, _ = integrate.quad(lambda z: mvn.pdf([z, r]), 0.0, np.inf, epsabs=1e-14)
    layout = ParamLayout(1, 1, 1, 0)
    theta = layout.pack({"mu_o": g_o, "mu_r": g_r, "a": np.arctanh(rho), "s": np.log(sigma)})
    pairs = PairSet(np.array([0]), np.array([0]), np.array([r]), np.array([True]),
                    np.empty((1, 0)), 1, 1)
    ll, _ = ContinuousHeckmanLikelihood().loglik_grad(theta, layout, pairs)
    assert ll == pytest.approx(np.log(dens), rel=1e-10)
