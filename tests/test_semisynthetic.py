"""The semi-synthetic MovieLens design, on a small u.data-format file written here."""

from pathlib import Path

import numpy as np
import pytest
from scipy import optimize
from scipy.special import ndtr

from heckrec.datasets import make_semisynthetic
from heckrec.datasets._semisynthetic import als_factors, fit_rating_mf

ML100K = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k" / "u.data"


@pytest.fixture(scope="module")
def ratings_file(tmp_path_factory):
    """A u.data-format file: 80 users x 60 movies, 30% rated, rank-2 ratings on 1..5."""
    rng = np.random.default_rng(0)
    P, Q = rng.normal(0, 0.7, (80, 2)), rng.normal(0, 0.7, (60, 2))
    u, i = np.nonzero(rng.random((80, 60)) < 0.3)
    rating = np.clip(np.round(3.5 + (P[u] * Q[i]).sum(1) + rng.normal(0, 0.5, len(u))), 1, 5)
    path = tmp_path_factory.mktemp("ml") / "u.data"
    path.write_text("".join(f"{a + 1}\t{b + 1}\t{int(c)}\t88000000\n"
                            for a, b, c in zip(u, i, rating)))
    return path


def test_als_reaches_a_stationary_point():
    rng = np.random.default_rng(1)
    u, i = np.nonzero(rng.random((15, 12)) < 0.5)
    r = rng.integers(1, 6, len(u)).astype(float)
    reg = 2.0
    mu, P, bu, Q, bi = als_factors(u, i, r, 15, 12, n_factors=2, reg=reg, n_iter=2000)
    resid = r - mu - bu[u] - bi[i] - (P[u] * Q[i]).sum(1)
    # The objective's gradient, by scipy's differencing of the objective written out.
    theta = np.concatenate([P.ravel(), Q.ravel(), bu, bi])

    def objective(theta):
        P_, Q_ = theta[:30].reshape(15, 2), theta[30:54].reshape(12, 2)
        bu_, bi_ = theta[54:69], theta[69:]
        e = r - mu - bu_[u] - bi_[i] - (P_[u] * Q_[i]).sum(1)
        return (e**2).sum() + reg * (theta**2).sum()

    assert objective(theta) == pytest.approx((resid**2).sum() + reg * (theta**2).sum())
    grad = optimize.approx_fprime(theta, objective, 1e-7)
    # Scale: each residual is about 1, so the unconverged gradient is of order 1-10.
    assert np.abs(grad).max() < 1e-4
    np.testing.assert_allclose(fit_rating_mf(u, i, r, 15, 12, 2, reg, 2000),
                               mu + bu[:, None] + bi[None] + P @ Q.T)


def test_design_follows_the_paper(ratings_file):
    data = make_semisynthetic(ratings_file, rho=0.6, seed=3)
    x, r, z = (data.truth[key] for key in ("x", "r", "z"))
    assert len(data.X_train) == 80 * 60 and list(data.X_train.columns) == ["user", "item", "x"]
    np.testing.assert_array_equal(data.X_train["x"], x)
    delta = r - 5 * x
    eps = z - 5 * np.tanh(x - x.mean()) + 3.0
    # 4,800 draws: the correlation's standard error is about (1 - 0.36) / sqrt(4800) = 0.009.
    assert np.corrcoef(eps, delta)[0, 1] == pytest.approx(0.6, abs=0.04)
    assert delta.var() == pytest.approx(1.0, abs=0.08)
    # The observation rate is E Phi(5 tanh(x - mean x) - 3), to binomial error (sd 0.004).
    assert data.o_train.mean() == pytest.approx(ndtr(5 * np.tanh(x - x.mean()) - 3).mean(),
                                                abs=0.02)
    observed = data.o_train == 1
    np.testing.assert_array_equal(observed, z > 0)
    np.testing.assert_array_equal(data.r_train[observed], r[observed])
    assert np.isnan(data.r_train[~observed]).all()
    assert len(data.r_test) == round(0.5 * observed.sum())
    assert not data.X_test.duplicated(["user", "item"]).any()


def test_seed_moves_the_noise_not_x(ratings_file):
    a = make_semisynthetic(ratings_file, rho=0.0, seed=1)
    b = make_semisynthetic(ratings_file, rho=0.0, seed=1)
    c = make_semisynthetic(ratings_file, rho=0.0, seed=2)
    np.testing.assert_array_equal(a.truth["r"], b.truth["r"])
    np.testing.assert_array_equal(a.truth["x"], c.truth["x"])
    assert not np.array_equal(a.truth["r"], c.truth["r"])


def test_bad_input(tmp_path, ratings_file):
    with pytest.raises(FileNotFoundError, match="u.data"):
        make_semisynthetic(tmp_path / "missing.data", rho=0.5)
    (tmp_path / "bad.data").write_text("1\t2\t3\n")
    with pytest.raises(ValueError, match="4 integer columns"):
        make_semisynthetic(tmp_path / "bad.data", rho=0.5)
    with pytest.raises(ValueError, match="rho must lie in"):
        make_semisynthetic(ratings_file, rho=1.0)


@pytest.mark.skipif(not ML100K.is_file(), reason="../shared/data/ml-100k/u.data is absent")
def test_movielens_observation_rate():
    data = make_semisynthetic(ML100K, rho=0.8, seed=0)
    assert len(data.X_train) == 943 * 1682
    # About 5% observed in the paper; this ALS fit (reg = 30) gives 6.4% (binomial sd 0.0002).
    assert data.o_train.mean() == pytest.approx(0.064, abs=0.002)
    assert 0.5 < data.truth["x"].min() and data.truth["x"].max() < 5.5
