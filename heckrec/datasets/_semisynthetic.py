"""The paper's semi-synthetic MovieLens-100K design (its section 5.1).

An MF model fitted to the real ratings gives every (user, movie) pair a predicted
rating x. The simulated preference is linear in x and the observation index is not:

    r = 5 x + delta,    z = 5 tanh(x - mean x) + eps - beta,    o = 1[z > 0],

with (eps, delta) standard bivariate normal with correlation rho, so the noise
variance of r is 1 and a test MSE of 1 is the floor. beta = 3 leaves about 5% of the
pairs observed. x is the observed feature of the pair: every method gets it.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state


def read_movielens(ratings_path):
    """(user, item, rating) of MovieLens-100K's ``u.data`` (tab-separated, 4 columns)."""
    path = Path(ratings_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: pass the path of MovieLens-100K's u.data "
                                "(its licence forbids shipping it; get it from GroupLens)")
    try:
        frame = pd.read_csv(path, sep="\t", header=None)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: expected MovieLens-100K's u.data") from None
    except pd.errors.ParserError as error:
        raise ValueError(f"{path}: expected u.data's 4 tab-separated columns on every line: "
                         f"{error}".rstrip()) from None
    if frame.shape[1] != 4 or not all(dtype.kind in "iu" for dtype in frame.dtypes):
        raise ValueError(f"{path}: expected u.data's 4 integer columns user<TAB>item<TAB>"
                         "rating<TAB>timestamp")
    return (frame[0].to_numpy(np.int64), frame[1].to_numpy(np.int64),
            frame[2].to_numpy(np.float64))


def _ridge_rows(rows, n_rows, features, target, reg):
    """For each row r, argmin_w sum_j (target_j - features_j w)^2 + reg |w|^2 over its entries."""
    k = features.shape[1]
    gram = np.zeros((n_rows, k, k))
    np.add.at(gram, rows, features[:, :, None] * features[:, None, :])
    rhs = np.zeros((n_rows, k))
    np.add.at(rhs, rows, features * target[:, None])
    gram += reg * np.eye(k)
    return np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]


def als_factors(users, items, ratings, n_users, n_items, n_factors=8, reg=30.0, n_iter=20,
                random_state=0):
    """Biased MF by alternating least squares on the rated pairs.

    Minimises sum (r - mu - b_u - b_i - p_u q_i)^2 + reg (|p|^2 + |q|^2 + |b|^2) over
    the rated pairs; mu is the mean rating. Each half-step is exact (a ridge regression
    per user on [q_i, 1], then per item on [p_u, 1]), so the objective never rises.

    Returns
    -------
    mu, P, b_user, Q, b_item
    """
    rng = check_random_state(random_state)
    mu = ratings.mean()
    P = 0.1 * rng.standard_normal((n_users, n_factors))
    Q = 0.1 * rng.standard_normal((n_items, n_factors))
    bu, bi = np.zeros(n_users), np.zeros(n_items)
    for _ in range(n_iter):
        w = _ridge_rows(users, n_users, np.column_stack([Q[items], np.ones(len(items))]),
                        ratings - mu - bi[items], reg)
        P, bu = w[:, :-1], w[:, -1]
        w = _ridge_rows(items, n_items, np.column_stack([P[users], np.ones(len(users))]),
                        ratings - mu - bu[users], reg)
        Q, bi = w[:, :-1], w[:, -1]
    return mu, P, bu, Q, bi


def fit_rating_mf(users, items, ratings, n_users, n_items, n_factors=8, reg=30.0,
                  n_iter=20, random_state=0):
    """Predicted ratings on the full (n_users, n_items) grid from :func:`als_factors`."""
    mu, P, bu, Q, bi = als_factors(users, items, ratings, n_users, n_items, n_factors, reg,
                                   n_iter, random_state)
    return mu + bu[:, None] + bi[None, :] + P @ Q.T


def make_semisynthetic(ratings_path, rho, seed=0, *, beta=3.0, test_size=0.5, n_factors=8,
                       reg=30.0):
    """Semi-synthetic selection data on MovieLens-100K with a chosen rho.

    Parameters
    ----------
    ratings_path : str or Path
        MovieLens-100K's ``u.data``, read from the user's copy (never shipped).
    rho : float in (-1, 1)
        Correlation of the observation and preference noises.
    seed : int, default=0
        Seed of the noises and of the test pairs. The MF fit for x does not depend on it.
    beta : float, default=3.0
        Observation threshold; 3 leaves about 5% of the pairs observed.
    test_size : float, default=0.5
        Number of MAR test pairs as a fraction of the observed training pairs, drawn
        uniformly from all pairs without replacement.
    n_factors, reg : int, float
        The ALS fit that gives x (:func:`fit_rating_mf`). On MovieLens-100K, reg = 30
        keeps every prediction on the rating scale (0.71 to 5.23) and leaves 6.4% of the
        pairs observed. reg = 10 predicts a held-out 10% of the ratings slightly better
        (RMSE 0.913 against 0.945) but extrapolates to -4.5 and 7.1 for pairs with few
        ratings and leaves 10.4% observed.

    Returns
    -------
    Bunch with
        X_train : DataFrame (every user x movie pair: ``user``, ``item``, ``x``);
        r_train : r where observed, NaN elsewhere; o_train : 0/1;
        X_test, r_test : the MAR test pairs and their r; truth : dict with ``rho``,
        ``beta``, ``x`` (the grid), ``r`` and ``z`` for every pair.
    """
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must lie in (-1, 1), got {rho}")
    if not 0.0 < test_size:
        raise ValueError(f"test_size must be positive, got {test_size}")
    if not np.isfinite(beta):
        raise ValueError(f"beta must be a finite threshold, got {beta!r}")
    if isinstance(n_factors, (bool, np.bool_)) or not isinstance(n_factors, (int, np.integer)) \
            or n_factors < 1:
        raise ValueError(f"n_factors must be a positive int, got {n_factors!r}")
    if not (np.isfinite(reg) and reg >= 0):
        raise ValueError(f"reg must be a finite number >= 0, got {reg!r}")
    users, items, ratings = read_movielens(ratings_path)
    user_ids, u = np.unique(users, return_inverse=True)
    item_ids, i = np.unique(items, return_inverse=True)
    x = fit_rating_mf(u, i, ratings, len(user_ids), len(item_ids), n_factors, reg).ravel()
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal(x.size)
    delta = rho * eps + np.sqrt(1.0 - rho**2) * rng.standard_normal(x.size)
    r = 5.0 * x + delta
    z = 5.0 * np.tanh(x - x.mean()) + eps - beta
    o = (z > 0).astype(int)
    n_test = int(round(test_size * o.sum()))
    if n_test > x.size:
        raise ValueError(f"test_size={test_size} asks for {n_test} test pairs; there are "
                         f"{x.size} pairs")
    test = np.sort(rng.choice(x.size, size=n_test, replace=False))
    grid_u, grid_i = np.meshgrid(user_ids, item_ids, indexing="ij")
    X = pd.DataFrame({"user": grid_u.ravel(), "item": grid_i.ravel(), "x": x})
    return Bunch(X_train=X, r_train=np.where(o == 1, r, np.nan), o_train=o,
                 X_test=X.iloc[test].reset_index(drop=True), r_test=r[test],
                 truth={"rho": rho, "beta": beta, "x": x, "r": r, "z": z},
                 DESCR=f"Semi-synthetic MovieLens-100K (rho = {rho}, seed = {seed}) from "
                       f"{Path(ratings_path)}.")
