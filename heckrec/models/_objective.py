"""Penalised negative log-likelihood in the (f, grad) form scipy's L-BFGS expects."""

import numpy as np


class PenalisedObjective:
    """``F(theta) = -loglik(theta) + reg_factors/2 |P,Q|^2 + reg_bias/2 |b|^2 + reg_rho/2 a^2``.

    Calls return the value and gradient divided by ``scale`` (the number of
    pairs in the full data), so tolerances mean the same at any data size.
    Entries of ``frozen`` keep their value (their gradient is set to 0).

    Parameters
    ----------
    likelihood : object with ``loglik_grad(theta, layout, pairs, backend)``
    layout : ParamLayout
    pairs : PairSet
    reg_factors, reg_bias, reg_rho : float
        L2 penalties (prior precisions) of the embeddings, of the biases and of
        a = atanh(rho).
    backend : str
    frozen : ndarray of bool or None
    precisions : dict or None
        Per-group prior precisions (``ParamLayout.prior_groups``) that replace
        reg_factors / reg_bias group by group (``rho_criterion="evidence"``).
    """

    def __init__(self, likelihood, layout, pairs, reg_factors, reg_bias, backend="numba",
                 frozen=None, reg_rho=0.0, precisions=None):
        self.likelihood, self.layout, self.pairs = likelihood, layout, pairs
        self.backend = backend
        mask = layout.penalised_mask()
        self.reg_factors, self.reg_bias, self.reg_rho = reg_factors, reg_bias, reg_rho
        self.penalty = np.select([mask == 1.0, mask == 2.0, mask == 3.0],
                                 [reg_factors, reg_bias, reg_rho], 0.0)
        self.precisions = precisions
        if precisions is not None:  # the evidence's per-group precisions replace them
            for group, index in layout.prior_groups().items():
                self.penalty[index] = precisions[group]
        self.frozen = frozen
        self.scale = float(pairs.n_total)
        self.n_evals = 0

    def penalty_value(self, theta):
        """The L2 penalty term of F at ``theta``."""
        return 0.5 * float((self.penalty * theta) @ theta)

    def full(self, theta, pairs=None, weight=1.0):
        """Unscaled (F, grad F); with ``pairs`` a batch, its loglik counts ``weight`` times."""
        pairs = self.pairs if pairs is None else pairs
        ll, g = self.likelihood.loglik_grad(theta, self.layout, pairs, self.backend)
        g = np.asarray(g if not hasattr(g, "get") else g.get())
        self.n_evals += 1
        f = -weight * ll + self.penalty_value(theta)
        grad = -weight * g + self.penalty * theta
        if self.frozen is not None:
            grad[self.frozen] = 0.0
        return f, grad

    def hessian_product(self, theta):
        """``v -> H v`` for F's exact Hessian at ``theta`` (frozen entries 0), or None when
        the likelihood has no exact product (callers then difference the gradient)."""
        exact = getattr(self.likelihood, "hessian_product", None)
        if exact is None or self.backend != "numba":
            return None
        loglik_product = exact(theta, self.layout, self.pairs)

        def product(v):
            out = self.penalty * v - loglik_product(v)
            if self.frozen is not None:
                out[self.frozen] = 0.0
            return out

        return product

    def __call__(self, theta):
        f, g = self.full(theta)
        return f / self.scale, g / self.scale
