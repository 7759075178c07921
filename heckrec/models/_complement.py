"""``unobserved="complement"``: fit from the interaction log, never from the grid (issue 15).

X lists only the observed pairs; every other pair of the seen users x seen items is
unobserved and contributes log Phi(-g_o) to either model's likelihood (GUIDE section 1:
an unobserved pair's probability is P(o = 0) = Phi(-g_o), whatever the outcome). Without
side features in g_o that term depends only on the selection factors, so it is swept from
them (:mod:`heckrec._kernels.unobserved`, or the array twin for numpy and cupy) and added
to the logged pairs' likelihood. Same optimum as listing every pair, in
O(observed + (users + items) k) memory.
"""

import numpy as np

from .._array._namespace import get_namespace
from .._array.unobserved import unobserved_loglik_grad as array_sweep
from .._kernels import unobserved as kernels
from ._likelihood import WrappedLikelihood


#: Why the sandwich covariance is refused: it needs a score for every pair.
NO_ROBUST = ("cov_type='robust' needs every pair's score, and unobserved='complement' or "
             "'sampled' never lists the unobserved pairs; use cov_type='hessian' (with "
             "'sampled' its standard errors add the sampling's variance) or "
             "unobserved='listed'")


def unobserved_term(theta, layout, pairs, backend="numba"):
    """(sum of log Phi(-g_o) over the unlisted pairs of ``pairs.sweep_users``, gradient)."""
    def numba_sweep(p, g, block_ptr, ll_blocks, g_bi_blocks, g_QT_blocks):
        kernels.sweep(block_ptr, pairs.user_ptr, pairs.items, p.mu_o, p.bu_o, p.bi_o,
                      np.ascontiguousarray(p.P_o), np.ascontiguousarray(p.Q_o.T),
                      ll_blocks, g.bu_o, g.P_o, g_bi_blocks, g_QT_blocks)

    def array_twin(xp, special, mu, bu, bi, P, Q, start, stop):
        return array_sweep(xp, special, mu, bu, bi, P, Q, xp.asarray(pairs.user_ptr),
                           pairs.on_device(xp).items, start, stop)

    return selection_term(theta, layout, pairs, backend, numba_sweep, array_twin)


def selection_term(theta, layout, pairs, backend, numba_sweep, array_twin):
    """A term of the selection blocks over users ``pairs.sweep_users``, and its gradient.

    The frame that the complement's sweep and the sampled sweep share: ``numba_sweep(p,
    g, block_ptr, ll_blocks, g_bi_blocks, g_QT_blocks)`` fills fixed user blocks'
    buffers, added here in block order (deterministic at any thread count);
    ``array_twin(xp, special, mu, bu, bi, P, Q, start, stop)`` returns ``(ll, g_mu, g_bu,
    g_bi, g_P, g_Q)`` on numpy or cupy.
    """
    p = layout.unpack(theta)
    start, stop = pairs.sweep_users
    grad = np.zeros(layout.size)
    g = layout.unpack(grad, scalars_as_float=False)
    if backend == "numba":
        k = p.P_o.shape[1]
        blocks = kernels.n_blocks(stop - start, pairs.n_items, k)
        block_ptr = np.linspace(start, stop, blocks + 1).round().astype(np.int64)
        ll_blocks = np.zeros(blocks)
        g_bi_blocks = np.zeros((blocks, pairs.n_items))
        g_QT_blocks = np.zeros((blocks, k, pairs.n_items))
        numba_sweep(p, g, block_ptr, ll_blocks, g_bi_blocks, g_QT_blocks)
        g.bi_o[:] = g_bi_blocks.sum(axis=0)
        g.Q_o[:] = g_QT_blocks.sum(axis=0).T
        g.mu_o[0] = g.bu_o.sum()
        return float(ll_blocks.sum()), grad
    xp, special = get_namespace(backend)
    blocks = [xp.asarray(getattr(p, f"{name}_o")) for name in ("bu", "bi", "P", "Q")]
    ll, g_mu, g_bu, g_bi, g_P, g_Q = array_twin(xp, special, p.mu_o, *blocks, start, stop)
    for name, value in (("bu", g_bu), ("bi", g_bi), ("P", g_P), ("Q", g_Q)):
        getattr(g, f"{name}_o")[...] = value.get() if hasattr(value, "get") else value
    g.mu_o[0] = g_mu
    return ll, grad


class WithComplement(WrappedLikelihood):
    """``likelihood`` over the logged pairs plus the unlisted pairs' log Phi(-g_o).

    Parameters
    ----------
    likelihood : object with ``scalars`` and ``loglik_grad(theta, layout, pairs, backend)``
        Either model's likelihood; it sees only the logged (observed) pairs.
    """

    def loglik_grad(self, theta, layout, pairs, backend="numba"):
        """Return ``(loglik, gradient)`` over the logged and the unlisted pairs."""
        ll, grad = self.likelihood.loglik_grad(theta, layout, pairs, backend)
        ll_u, grad_u = self._unlisted_term(theta, layout, pairs, backend)
        if hasattr(grad, "get"):  # a cupy gradient: add the sweep's on the device
            import cupy

            return ll + ll_u, grad + cupy.asarray(grad_u)
        return ll + ll_u, grad + grad_u

    def _unlisted_term(self, theta, layout, pairs, backend):
        return unobserved_term(theta, layout, pairs, backend)

    def per_pair_loglik(self, theta, layout, pairs):
        raise ValueError(NO_ROBUST)
