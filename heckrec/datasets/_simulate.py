"""Simulated selection data with low-rank scores and known rho, sigma."""

import numpy as np
from scipy.special import ndtri
from sklearn.utils import check_random_state


def _check_count(name, value, low):
    """A size: an int >= low (F29: -1 reached numpy as "negative dimensions")."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


def _check_positive(name, value):
    """A finite positive number (F29: sigma=nan gave an all-NaN outcome, -1 was accepted)."""
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite positive number, got {value!r}")


def _check_model(rho, sigma, density, outcome, factor_scale, bias_scale):
    """The model's arguments shared by the grid and the log simulators."""
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must lie in (-1, 1), got {rho}")
    _check_positive("sigma", sigma)
    for name, value in (("factor_scale", factor_scale), ("bias_scale", bias_scale)):
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if not 0.0 < density < 1.0:
        raise ValueError(f"density must lie in (0, 1), got {density}")
    if outcome not in ("continuous", "binary"):
        raise ValueError(f"outcome must be 'continuous' or 'binary', got {outcome!r}")


def make_selection_mf(n_users=200, n_items=100, n_factors=4, rho=0.5, sigma=1.0,
                      density=0.1, n_features=0, outcome="continuous", factor_scale=0.7,
                      bias_scale=0.3, random_state=None):
    """Simulate the GUIDE's selection model on the full user x item grid.

    g_o and g_r are MF scores (global mean, user and item biases, rank
    ``n_factors`` interaction, optional side features); the latent errors have
    correlation ``rho``; the outcome has noise scale ``sigma``.

    Parameters
    ----------
    n_users, n_items, n_factors : int
        Grid size and rank of each score.
    rho : float in (-1, 1)
        Correlation of the observation and outcome errors.
    sigma : float > 0
        Standard deviation of the outcome error (continuous outcome).
    density : float in (0, 1)
        Target share of observed pairs; sets the global mean of g_o.
    n_features : int
        Number of standard-normal side features per pair (columns 2: of X).
    outcome : {"continuous", "binary"}
        Binary returns ``r = 1[y > 0]``.
    factor_scale, bias_scale : float
        Standard deviation of each score's interaction term and of its biases.
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray of shape (n_users * n_items, 2 + n_features)
        User id, item id, side features.
    r : ndarray
        Outcome; NaN where not observed.
    o : ndarray of int
        Observation indicator.
    truth : dict
        ``g_o``, ``g_r`` (per pair), ``rho``, ``sigma`` and the coefficients.
    """
    for name, value, low in (("n_users", n_users, 1), ("n_items", n_items, 1),
                             ("n_factors", n_factors, 0), ("n_features", n_features, 0)):
        _check_count(name, value, low)
    _check_model(rho, sigma, density, outcome, factor_scale, bias_scale)
    rng = check_random_state(random_state)
    users = np.repeat(np.arange(n_users), n_items)
    items = np.tile(np.arange(n_items), n_users)
    F = rng.standard_normal((users.size, n_features))
    truth = {"rho": rho, "sigma": sigma}
    scale = factor_scale / np.sqrt(max(n_factors, 1)) ** 0.5
    for tag in ("o", "r"):
        P = rng.normal(0.0, scale, (n_users, n_factors))
        Q = rng.normal(0.0, scale, (n_items, n_factors))
        bu = rng.normal(0.0, bias_scale, n_users)
        bi = rng.normal(0.0, bias_scale, n_items)
        w = rng.normal(0.0, 0.5, n_features)
        g = bu[users] + bi[items] + np.sum(P[users] * Q[items], axis=1) + F @ w
        truth.update({f"P_{tag}": P, f"Q_{tag}": Q, f"bu_{tag}": bu, f"bi_{tag}": bi,
                      f"w_{tag}": w, f"g_{tag}": g})
    # Global mean of g_o for the requested share observed (exact for the mean
    # of the latent index; the realised share is close to it).
    total_sd = np.sqrt(1.0 + truth["g_o"].var())
    truth["mu_o"] = ndtri(density) * total_sd
    truth["mu_r"] = 0.0 if outcome == "binary" else 3.0
    truth["g_o"] = truth["g_o"] + truth["mu_o"]
    truth["g_r"] = truth["g_r"] + truth["mu_r"]
    u_o = rng.standard_normal(users.size)
    u_r = rho * u_o + np.sqrt(1.0 - rho**2) * rng.standard_normal(users.size)
    o = (truth["g_o"] + u_o > 0).astype(int)
    if outcome == "continuous":
        y = truth["g_r"] + sigma * u_r
    else:
        y = (truth["g_r"] + u_r > 0).astype(float)
    r = np.where(o == 1, y, np.nan)
    X = np.column_stack([users, items, F])
    return X, r, o, truth


def make_tobit2(n=1000, rho=0.5, sigma=2.0, random_state=None):
    """Simulate the classic linear-index selection (tobit-2) model.

    Selection ``s = 1[Z gamma + u_s > 0]`` with ``Z = [1, z1, z2]`` and
    gamma = (0.3, 1.0, -0.8) (about 60% selected); outcome
    ``y = X beta + sigma u_o`` with ``X = [1, x1, z1]`` and beta = (1.0, 0.5, -1.0),
    seen only where ``s = 1``; corr(u_s, u_o) = rho. z2 is excluded from X.

    Returns
    -------
    y : ndarray (n,), NaN where s == 0
    X : ndarray (n, 3)
    s : ndarray (n,) of int
    Z : ndarray (n, 3)
    """
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must lie in (-1, 1), got {rho}")
    _check_count("n", n, 2)
    _check_positive("sigma", sigma)
    rng = check_random_state(random_state)
    z1, z2, x1 = rng.standard_normal((3, n))
    Z = np.column_stack([np.ones(n), z1, z2])
    X = np.column_stack([np.ones(n), x1, z1])
    u_s = rng.standard_normal(n)
    u_o = rho * u_s + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    s = (Z @ [0.3, 1.0, -0.8] + u_s > 0).astype(int)
    y = np.where(s == 1, X @ [1.0, 0.5, -1.0] + sigma * u_o, np.nan)
    return y, X, s, Z


def make_selection_log(n_users=15400, n_items=1000, n_factors=4, rho=0.5, sigma=1.0,
                       density=0.02, outcome="continuous", factor_scale=0.7, bias_scale=0.3,
                       random_state=None, chunk_pairs=4_000_000):
    """Simulate the model of :func:`make_selection_mf` and return only the log.

    The grid is drawn by blocks of users and only the observed pairs are kept, so memory
    grows with the log (fit it with ``unobserved="complement"``), not with
    ``n_users * n_items``. Without side features.

    Parameters
    ----------
    n_users, n_items, n_factors, rho, sigma, density, outcome, factor_scale, bias_scale, \
random_state
        As in :func:`make_selection_mf`.
    chunk_pairs : int, default=4_000_000
        Grid pairs drawn at a time.

    Returns
    -------
    X : ndarray of shape (n_observed, 2)
        User and item ids of the observed pairs.
    r : ndarray of shape (n_observed,)
        Their outcomes.
    truth : dict
        ``rho``, ``sigma``, ``mu_o``, ``mu_r`` and the blocks (``P_o``, ``bu_o``, ...).
    """
    for name, value, low in (("n_users", n_users, 1), ("n_items", n_items, 1),
                             ("n_factors", n_factors, 0), ("chunk_pairs", chunk_pairs, 1)):
        _check_count(name, value, low)
    _check_model(rho, sigma, density, outcome, factor_scale, bias_scale)
    rng = check_random_state(random_state)
    truth = {"rho": rho, "sigma": sigma}
    scale = factor_scale / np.sqrt(max(n_factors, 1)) ** 0.5
    for tag in ("o", "r"):
        truth[f"P_{tag}"] = rng.normal(0.0, scale, (n_users, n_factors))
        truth[f"Q_{tag}"] = rng.normal(0.0, scale, (n_items, n_factors))
        truth[f"bu_{tag}"] = rng.normal(0.0, bias_scale, n_users)
        truth[f"bi_{tag}"] = rng.normal(0.0, bias_scale, n_items)
    rows = max(1, chunk_pairs // n_items)

    def scores(tag, a, b):
        return (truth[f"bu_{tag}"][a:b, None] + truth[f"bi_{tag}"][None, :]
                + truth[f"P_{tag}"][a:b] @ truth[f"Q_{tag}"].T)

    # The grid's variance of g_o, block by block, sets mu_o as make_selection_mf does.
    total, squares = 0.0, 0.0
    for a in range(0, n_users, rows):
        g = scores("o", a, min(a + rows, n_users))
        total, squares = total + g.sum(), squares + (g * g).sum()
    n = n_users * n_items
    truth["mu_o"] = ndtri(density) * np.sqrt(1.0 + squares / n - (total / n) ** 2)
    truth["mu_r"] = 0.0 if outcome == "binary" else 3.0
    X_parts, r_parts = [], []
    for a in range(0, n_users, rows):
        b = min(a + rows, n_users)
        g_o = truth["mu_o"] + scores("o", a, b)
        g_r = truth["mu_r"] + scores("r", a, b)
        u_o = rng.standard_normal(g_o.shape)
        u_r = rho * u_o + np.sqrt(1.0 - rho**2) * rng.standard_normal(g_o.shape)
        user, item = np.nonzero(g_o + u_o > 0)
        y = g_r[user, item] + (sigma * u_r[user, item] if outcome == "continuous"
                               else u_r[user, item])
        X_parts.append(np.column_stack([user + a, item]))
        r_parts.append(y if outcome == "continuous" else (y > 0).astype(float))
    return np.concatenate(X_parts), np.concatenate(r_parts), truth
