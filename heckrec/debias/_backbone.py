"""One matrix-factorisation score and the two losses the debiasing estimators weight.

``g = mu + b_u + b_i + <p_u, q_i> + w'x`` over a flat parameter vector, with its
backward pass: the gradient of ``sum_j c_j g_j`` for per-pair coefficients ``c``.
Plain numpy: these baselines fit data the size of Coat and MovieLens-100K.
"""

import numpy as np
from scipy.special import expit, log1p, log_ndtr


class MFScore:
    """Layout of one MF score's parameters in a flat vector, and its passes.

    Parameters
    ----------
    n_users, n_items, n_factors, n_features : int
    """

    def __init__(self, n_users, n_items, n_factors, n_features):
        self.shape = (n_users, n_items, n_factors, n_features)
        sizes = [1, n_users, n_items, n_users * n_factors, n_items * n_factors, n_features]
        self.bounds = np.cumsum([0] + sizes)
        self.size = int(self.bounds[-1])

    def unpack(self, theta):
        """(mu, b_user, b_item, P, Q, w) as views of ``theta``."""
        n_users, n_items, k, _ = self.shape
        mu, bu, bi, P, Q, w = (theta[a:b] for a, b in zip(self.bounds[:-1], self.bounds[1:]))
        return mu, bu, bi, P.reshape(n_users, k), Q.reshape(n_items, k), w

    def init(self, rng, scale=0.1):
        """Small random factors, zero mean, biases and weights."""
        theta = np.zeros(self.size)
        _, _, _, P, Q, _ = self.unpack(theta)
        P[:] = scale * rng.standard_normal(P.shape)
        Q[:] = scale * rng.standard_normal(Q.shape)
        return theta

    def penalty_weights(self, reg_factors, reg_bias):
        """Per-parameter L2 precision: reg_factors on P, Q; reg_bias on the biases."""
        weights = np.zeros(self.size)
        weights[self.bounds[1]:self.bounds[3]] = reg_bias
        weights[self.bounds[3]:self.bounds[5]] = reg_factors
        return weights

    def scores(self, theta, users, items, F):
        """g for each pair; encoded ids of -1 (unseen in fit) get no bias and no factor."""
        mu, bu, bi, P, Q, w = self.unpack(theta)
        known_u, known_i = users >= 0, items >= 0
        g = mu[0] + F @ w
        g = g + np.where(known_u, bu[users], 0.0) + np.where(known_i, bi[items], 0.0)
        both = known_u & known_i
        g[both] += np.einsum("ij,ij->i", P[users[both]], Q[items[both]])
        return g

    def backward(self, theta, users, items, F, coef):
        """Gradient of ``sum_j coef_j g_j`` with respect to ``theta`` (ids all known)."""
        n_users, n_items, k, _ = self.shape
        _, _, _, P, Q, _ = self.unpack(theta)
        grad = np.empty(self.size)
        g_mu, g_bu, g_bi, g_P, g_Q, g_w = self.unpack(grad)
        g_mu[0] = coef.sum()
        g_bu[:] = np.bincount(users, coef, n_users)
        g_bi[:] = np.bincount(items, coef, n_items)
        for f in range(k):  # bincount per factor: far faster than np.add.at
            g_P[:, f] = np.bincount(users, coef * Q[items, f], n_users)
            g_Q[:, f] = np.bincount(items, coef * P[users, f], n_items)
        g_w[:] = F.T @ coef
        return grad


def pair_loss(kind, target, g):
    """Per-pair loss and its derivative in g.

    ``"squared"``: ``(target - g)^2``. ``"logistic"``: cross-entropy of the label
    ``target`` in [0, 1] (soft labels allowed) against ``expit(g)``. ``"probit"``: the
    same against ``Phi(g)`` (the binary selection model's outcome probability).
    """
    if kind == "squared":
        diff = g - target
        return diff**2, 2.0 * diff
    if kind == "probit":
        log_up, log_down = log_ndtr(g), log_ndtr(-g)
        # phi(g) / Phi(+-g) through logs: finite where Phi(+-g) underflows.
        log_phi = -0.5 * g**2 - 0.5 * np.log(2.0 * np.pi)
        return (-(target * log_up + (1.0 - target) * log_down),
                -target * np.exp(log_phi - log_up) + (1.0 - target) * np.exp(log_phi - log_down))
    # log(1 + e^g) - target g, written to stay finite for large |g|.
    softplus = np.maximum(g, 0.0) + log1p(np.exp(-np.abs(g)))
    return softplus - target * g, expit(g) - target
