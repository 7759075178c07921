"""Change of variables that makes the MF objective's Hessian closer to the identity.

L-BFGS converges in far fewer iterations when its variables have curvatures of
similar size and little coupling. Each row of an MF score, (b_u, p_u) of a user or
(b_i, q_i) of an item, has a Gauss-Newton block

    M_u = w * sum_{pairs (u, i)} [1, q_i][1, q_i]^T + diag(penalties)

(w: the probit Fisher weight at the mean for g_o, 1/sigma^2 over observed pairs
for g_r). With M_u = L_u L_u^T, L-BFGS works on phi_u = L_u^T theta_u, whose
Hessian block is about the identity. Other parameters (means, feature weights,
rho, sigma) get the diagonal scale of :meth:`ParamLayout.curvature_scale`;
:class:`DiagonalScaling` applies that diagonal to every parameter.
"""

import numpy as np
import scipy.sparse
from scipy.special import ndtri
from scipy.stats import norm


class DiagonalScaling:
    """phi = sqrt(d / mean(d)) * theta for a positive diagonal d (approximate curvatures)."""

    def __init__(self, diagonal):
        self.root = np.sqrt(diagonal / np.mean(diagonal))

    def to_phi(self, theta):
        return theta * self.root

    def to_theta(self, phi):
        return phi / self.root

    def grad_to_phi(self, grad):
        return grad / self.root


class BlockScaling(DiagonalScaling):
    """theta <-> phi with phi = A theta, A block-diagonal (row blocks) and diagonal elsewhere.

    Parameters
    ----------
    layout : ParamLayout
    pairs : PairSet
    theta : ndarray
        Where to evaluate the blocks (the start values).
    penalty : ndarray
        The per-parameter L2 penalties.
    """

    def __init__(self, layout, pairs, theta, penalty):
        diagonal = layout.curvature_scale(pairs, theta, penalty)
        super().__init__(diagonal)
        self.norm = float(np.mean(diagonal))
        self.blocks = []  # (index array (rows, k+1), A (rows, k+1, k+1), A^-1)
        p = layout.unpack(theta)
        k = layout.shapes["P_o"][1]
        p_obs = float(np.clip(pairs.observed_share, 1e-6, 1 - 1e-6))
        mu = ndtri(p_obs)
        weights = {"o": norm.pdf(mu) ** 2 / (p_obs * (1 - p_obs)),
                   "r": float(np.exp(-2 * p.s)) if "s" in layout.shapes else 1.0}
        ones = np.ones(pairs.n_pairs)
        incidence = {
            # a log's selection equation has every pair of the grid
            "o": (_AllPairs(pairs.n_users, pairs.n_items) if pairs.complement else
                  scipy.sparse.csr_matrix((ones, (pairs.users, pairs.items)),
                                          shape=(pairs.n_users, pairs.n_items))),
            "r": scipy.sparse.csr_matrix((pairs.o.astype(float), (pairs.users, pairs.items)),
                                         shape=(pairs.n_users, pairs.n_items)),
        }
        for tag in ("o", "r"):
            A_ui = incidence[tag]
            for bias, factors, other, counts in (
                    (f"bu_{tag}", f"P_{tag}", getattr(p, f"Q_{tag}"), A_ui),
                    (f"bi_{tag}", f"Q_{tag}", getattr(p, f"P_{tag}"), A_ui.T.tocsr())):
                rows = counts.shape[0]
                x = np.column_stack([np.ones(other.shape[0]), other])  # [1, q_i]
                outer = (x[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1)
                M = (counts @ outer).reshape(rows, k + 1, k + 1) * weights[tag]
                index = np.column_stack([
                    np.arange(layout.slices[bias].start, layout.slices[bias].stop),
                    np.arange(layout.slices[factors].start,
                              layout.slices[factors].stop).reshape(rows, k)])
                M[:, np.arange(k + 1), np.arange(k + 1)] += penalty[index] + 1e-8
                L = np.linalg.cholesky(M / self.norm)
                A = np.transpose(L, (0, 2, 1))  # phi = L^T theta
                self.blocks.append((index, A, np.linalg.inv(A)))

    def to_phi(self, theta):
        phi = super().to_phi(theta)
        for index, A, _ in self.blocks:
            phi[index] = np.einsum("rij,rj->ri", A, theta[index])
        return phi

    def to_theta(self, phi):
        theta = super().to_theta(phi)
        for index, _, A_inv in self.blocks:
            theta[index] = np.einsum("rij,rj->ri", A_inv, phi[index])
        return theta

    def inverse_curvature(self, v):
        """M^{-1} v, M = norm A^T A the approximate Hessian (a CG preconditioner)."""
        return self.to_theta(self.grad_to_phi(v)) / self.norm

    def grad_to_phi(self, grad):
        """dF/dphi = A^{-T} dF/dtheta."""
        out = super().grad_to_phi(grad)
        for index, _, A_inv in self.blocks:
            out[index] = np.einsum("rji,rj->ri", A_inv, grad[index])
        return out


class _AllPairs:
    """The all-ones users x items incidence, without storing it (``@`` sums the rows)."""

    def __init__(self, n_rows, n_cols):
        self.shape = (n_rows, n_cols)

    @property
    def T(self):
        return _AllPairs(self.shape[1], self.shape[0])

    def tocsr(self):
        return self

    def __matmul__(self, x):
        return np.broadcast_to(x.sum(axis=0), (self.shape[0],) + x.shape[1:])
