"""The paper's combined objective: ``alpha (-loglik) + (1 - alpha) L_debias``.

``L_debias`` is a debiasing loss of the outcome score g_r alone (naive, IPS or DR,
:mod:`heckrec.debias`), its propensities ``Phi(g_o)`` and (for DR) its imputed
outcomes read off a likelihood-only fit and then held fixed. The wrapper looks like a
likelihood to :class:`~heckrec.models._objective.PenalisedObjective`: its "loglik" is
``alpha loglik - (1 - alpha) L_debias`` summed over pairs, so the penalised objective
becomes the paper's.
"""

import numpy as np
from scipy.special import ndtr

from ..debias._backbone import MFScore
from ..debias._estimators import debias_terms, weighted_objective
from ._likelihood import WrappedLikelihood, pair_scores


class CombinedLikelihood(WrappedLikelihood):
    """A likelihood whose value is ``alpha loglik - (1 - alpha) L_debias(g_r)``.

    Parameters
    ----------
    likelihood : object with ``loglik_grad`` and ``scalars``
    alpha : float in (0, 1]
        Weight of the log-likelihood.
    terms : list of (weight, target)
        Per-pair terms of ``L_debias`` in PairSet order (:func:`debias_terms`).
    loss : {"squared", "probit"}
        Per-pair loss of g_r (:func:`heckrec.debias._backbone.pair_loss`).
    layout : ParamLayout
    pairs : PairSet
    """

    def __init__(self, likelihood, alpha, terms, loss, layout, pairs):
        super().__init__(likelihood)
        self.alpha, self.loss = alpha, loss
        n_users, n_items = layout.shapes["bu_r"][0], layout.shapes["bi_r"][0]
        n_factors, n_features = layout.shapes["P_r"][1], layout.shapes["w_r"][0]
        # g_r's blocks mu_r .. w_r are contiguous in theta and in MFScore's order.
        self.outcome = MFScore(n_users, n_items, n_factors, n_features)
        self.block = slice(layout.slices["mu_r"].start, layout.slices["w_r"].stop)
        # Only pairs some term weighs enter L_debias (the observed ones for naive and IPS).
        used = np.flatnonzero(np.any([w != 0 for w, _ in terms], axis=0))
        self.pairs_used = (pairs.users[used], pairs.items[used], pairs.F[used])
        self.terms = [(w[used], t[used]) for w, t in terms]
        self.zero_penalty = np.zeros(self.outcome.size)

    def debias_loss(self, theta):
        """``(L_debias, gradient in theta)``, both summed over pairs."""
        value, grad_r = weighted_objective(self.outcome, theta[self.block], self.pairs_used,
                                           self.terms, self.loss, self.zero_penalty, n=1)
        grad = np.zeros(theta.size)
        grad[self.block] = grad_r
        return value, grad

    def loglik_grad(self, theta, layout, pairs, backend="numba"):
        """``(alpha loglik - (1 - alpha) L_debias, its gradient)`` at ``theta``."""
        ll, grad = self.likelihood.loglik_grad(theta, layout, pairs, backend)
        grad = np.asarray(grad.get() if hasattr(grad, "get") else grad)
        value, grad_debias = self.debias_loss(np.asarray(theta))
        return (self.alpha * float(ll) - (1.0 - self.alpha) * value,
                self.alpha * grad - (1.0 - self.alpha) * grad_debias)


def combined_likelihood(likelihood, alpha, kind, loss, outcome_mean, clip, theta, layout,
                        pairs):
    """The combined likelihood with propensities and imputations read off ``theta``.

    ``outcome_mean`` maps g_r to the imputed outcome (g_r itself for a continuous
    outcome, ``Phi(g_r)`` for a binary one); propensities are ``Phi(g_o)`` raised to
    at least ``clip``.
    """
    g_o, g_r = pair_scores(theta, layout, pairs)
    propensity = np.maximum(ndtr(g_o), clip)
    terms = debias_terms(kind, loss, pairs.r, pairs.o.astype(float), propensity,
                         outcome_mean(g_r))
    return CombinedLikelihood(likelihood, alpha, terms, loss, layout, pairs)
