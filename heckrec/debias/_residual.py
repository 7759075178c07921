"""Residual calibration with a few unbiased ratings: Res-IPS and Res-DR.

Li, Wu, Zheng, Xiao, Wang, Geng, Feng, He and Wu (NeurIPS 2023; no public code). A
nominal propensity ``p_hat`` (and, for DR, a nominal imputation ``m_hat``) fitted on the
biased data are corrected by residual MF scores ``h_p`` (``h_d``) on the same backbone,

    p~ = sigmoid(logit p_hat + h_p),      m~ = sigmoid(logit m_hat + h_d)  (0/1 outcome)
                                          m~ = m_hat + h_d                 (squared loss)

and the prediction MF (score g) and the residuals are fitted to

    beta (L_B(p~, m~) + L_CTCVR(p~) + L_U [+ L_IMP(m~)]) + gamma (L_B - L_U)^2
        + penalties / |D|,

- ``L_B``: the IPS loss ``(1/|D|) sum o e / p~`` (Res-IPS) or the DR loss ``(1/|D|) sum
  [e_hat + o (e - e_hat) / p~]`` with ``e_hat = loss(m~, g)`` (Res-DR);
- ``L_CTCVR``: the loss of ``o r`` against ``p~ f(g)`` over all pairs (``f`` the
  prediction's mean: ``expit(g)`` or ``g``), the product model of observation and outcome;
- ``L_U``: the mean loss on the MAR slice;
- ``L_IMP`` (Res-DR only, heckrec's addition below): the mean of ``loss(r, m~)`` over
  the observed pairs;
- ``(L_B - L_U)^2``: the consistency of the biased and unbiased loss estimates, the
  term through which the slice calibrates the residuals (the paper's ``delta(L_B, L_U)``,
  here the squared difference).

Where heckrec departs from the paper, and why:

- The nominal models are fitted first and then held fixed (the paper trains everything
  jointly with weight ``alpha`` on the imputation loss). With them fixed, ``alpha`` has no
  effect, so it is not a parameter; the residuals carry the calibration either way.
- The nominal imputation is the direct method (an MF of the observed outcomes) for both
  losses; the "imputed loss" the paper calibrates is the loss at the calibrated
  imputed outcome ``m~``, so ``m~`` stays in the outcome's range.
- The prediction and the residuals are fitted in turn (L-BFGS on each block, instead of
  Adam on everything). The prediction minimises the whole objective; the residuals
  minimise ``beta (L_CTCVR + L_IMP) + gamma (L_B - L_U)^2``, i.e. they do not see
  ``beta L_B`` directly. Minimising ``L_B`` over the propensity itself is degenerate:
  ``o e / p~`` falls as ``p~`` rises, and on Coat (ratings >= 4, 5% slice) the jointly
  fitted p~ was measured at 0.76 on the observed pairs (nominal 0.10; 1.00 without
  ``L_CTCVR``), test AUC 0.675 against IPS's 0.764.
- Res-DR's loss with the logistic loss is taken, as :class:`~heckrec.debias.DRJLMF`
  takes it, as the cross-entropy against one pseudo-label ``t = m~ + o (r - m~) / p~``
  clipped to [0, 1]. Unclipped, an observed pair's imputed loss enters with weight
  ``1 - 1/p~ < 0`` and ``L_B`` is unbounded below in the scores; the prediction, which
  minimises ``beta L_B + gamma (L_B - L_U)^2``, lowest at ``L_B = L_U - beta / (2
  gamma)``, then drove it there (measured on Coat, ratings >= 4, 5% slice: at
  reg_factors 30, beta 1, gamma 0.1, the settings Table 3 chose, L_B -1.25 in the first
  round; at beta 10, L_B -46 with scores of 27,000; no fit settled).
- Res-DR's imputation residual is anchored by ``L_IMP``, the calibrated imputation's own
  loss on the observed pairs (the mean of ``loss(r, m~)``, the loss the nominal
  imputation minimises). The consistency term is one number, so without an anchor the
  residual drifts along the directions that leave it unchanged: measured on simulated
  data, m~ reached 80 standard deviations and the prediction's level bias went from IPS's
  +0.32 to -0.60.

``beta`` and ``gamma`` are named ``res_weight`` and ``consistency_weight`` here, so they
cannot be confused with scikit-learn's ``alpha``. The paper's grids: beta in {0.1, 0.5, 1,
5, 10}, gamma in {0.001, 0.005, 0.01, 0.05, 0.1}; search them with
:class:`~heckrec.debias.SliceSearch`.
"""

import warnings
from numbers import Real

import numpy as np
from scipy.special import expit, log_expit, logit
from sklearn.utils._param_validation import Interval

from ..models._input import encode_unbiased_slice, finite_unbiased_outcome
from ..models._solvers import lbfgs
from ._backbone import MFScore, pair_loss
from ._estimators import IPSMF


def label_slope(kind, target, g):
    """d loss(target, g) / d target (the loss's derivative in its label)."""
    return -g if kind == "logistic" else 2.0 * (target - g)


def _ctcvr(kind, y, p, g):
    """Loss of ``y = o r`` against ``q = p f(g)`` per pair, and its derivatives in g and
    in the propensity's logit."""
    if kind == "squared":
        q = p * g
        resid = q - y
        return resid**2, 2.0 * resid * p, 2.0 * resid * g * p * (1.0 - p)
    f = expit(g)
    q = np.minimum(p * f, 1.0 - 1e-15)  # q < 1 always; the bound keeps log1p(-q) finite
    log_q = log_expit(logit(p)) + log_expit(g)
    loss = -(y * log_q + (1.0 - y) * np.log1p(-q))
    # dloss/dq = (q - y) / (q (1 - q)); dq/dg = q (1 - f); dq/dz_p = q (1 - p)
    common = (q - y) / (1.0 - q)
    return loss, common * (1.0 - f), common * (1.0 - p)


class ResidualObjective:
    """Res-IPS / Res-DR's objective over ``theta = [prediction, residual p, (residual m)]``.

    Parameters
    ----------
    model : MFScore
        The layout shared by the prediction and the residual scores.
    pairs : (users, items, F)
        Every training pair.
    r, o : ndarray
        Outcome (fit units; read where o) and observation indicator.
    logit_p : ndarray
        Nominal propensity's logit per pair.
    m_hat : ndarray or None
        Nominal imputed outcome (probability or fit units); None for Res-IPS.
    unbiased : (users, items, F, y) or None
        The MAR slice in the fit's units.
    kind, res_weight, consistency_weight, penalty
    """

    def __init__(self, model, pairs, r, o, logit_p, m_hat, unbiased, kind, res_weight,
                 consistency_weight, penalty):
        self.model, self.pairs, self.r, self.o = model, pairs, r, o.astype(float)
        self.logit_p, self.m_hat, self.unbiased, self.kind = logit_p, m_hat, unbiased, kind
        self.beta, self.gamma = res_weight, consistency_weight
        self.n_blocks = 2 if m_hat is None else 3
        self.penalty = np.tile(penalty, self.n_blocks)

    def split(self, theta):
        return np.split(theta, self.n_blocks)

    def calibrated(self, theta):
        """(p~, m~) per training pair (m~ None for Res-IPS)."""
        p, z_m = self.calibrated_scores(theta)
        return p, self._imputed_outcome(z_m)

    def _imputed_outcome(self, z_m):
        """m~ from its score: expit(z_m) for the logistic loss, z_m itself for the squared."""
        return None if z_m is None else expit(z_m) if self.kind == "logistic" else z_m

    def calibrated_scores(self, theta):
        """(p~, the calibrated imputation's score z_m) per training pair: z_m is m~ itself
        for the squared loss and its logit for the logistic loss, taken without the round
        trip logit(expit(.)), which saturates (z_m None for Res-IPS)."""
        parts = self.split(theta)
        p = expit(self.logit_p + self.model.scores(parts[1], *self.pairs))
        if self.m_hat is None:
            return p, None
        h_d = self.model.scores(parts[2], *self.pairs)
        return p, (logit(self.m_hat) if self.kind == "logistic" else self.m_hat) + h_d

    def terms(self, theta):
        """The objective's parts and their gradients at ``theta``.

        Returns ``(value, grad, residual_value, residual_grad)``: the whole objective and
        its gradient, and the residuals' own objective ``beta L_CTCVR + gamma (L_B -
        L_U)^2 + penalty`` with its gradient in the residual blocks (the prediction's
        block of ``residual_grad`` is zero).
        """
        model, pairs, kind, o, r = self.model, self.pairs, self.kind, self.o, self.r
        parts = self.split(theta)
        n = len(o)
        g = model.scores(parts[0], *pairs)
        p, z_m = self.calibrated_scores(theta)
        m = self._imputed_outcome(z_m)
        e, de = pair_loss(kind, r, g)
        inv = 1.0 / p
        d_inv = -(1.0 - p) * inv  # d(1/p)/d logit p
        if m is None:
            lb_terms = o * e * inv
            cg, cp = o * de * inv, o * e * d_inv
        elif kind == "logistic":  # the DR loss as one pseudo-label, clipped (see above)
            with np.errstate(invalid="ignore"):  # 0 * inf where p~ underflows
                raw = m + o * (r - m) * inv
                t = np.clip(np.nan_to_num(raw), 0.0, 1.0)
                inside = raw == t  # where the clip holds t, p~ and m~ move nothing
                lb_terms, cg = pair_loss(kind, t, g)
                slope = np.where(inside, label_slope(kind, t, g), 0.0)
                cp = np.where(inside, slope * o * (r - m) * d_inv, 0.0)
                cm = np.where(inside, slope * (1.0 - o * inv) * m * (1.0 - m), 0.0)
        else:
            e_hat, de_hat = pair_loss(kind, m, g)
            lb_terms = e_hat + o * (e - e_hat) * inv
            cg = de_hat * (1.0 - o * inv) + o * de * inv
            cp = o * (e - e_hat) * d_inv
            cm = label_slope(kind, m, g) * (1.0 - o * inv)
        lb = lb_terms.sum() / n
        ctcvr, cg_c, cp_c = _ctcvr(kind, o * r, p, g)
        lc = ctcvr.sum() / n
        lu, cg_u = 0.0, None
        if self.unbiased is not None:
            users, items, F, y = self.unbiased
            g_u = model.scores(parts[0], users, items, F)
            e_u, de_u = pair_loss(kind, y, g_u)
            lu, cg_u = e_u.mean(), de_u / len(y)
        gap = lb - lu
        consistency = 2.0 * self.gamma * gap  # d gamma gap^2 / d gap
        penalty = 0.5 * self.penalty * theta**2 / n
        li = 0.0
        if m is not None:  # the calibrated imputation's own loss on the observed pairs
            e_m, de_m = pair_loss(kind, r, z_m)
            n_observed = max(o.sum(), 1.0)
            li = (o * e_m).sum() / n_observed
            cm_own = self.beta * o * de_m / n_observed  # d beta L_IMP / d z_m
        value = self.beta * (lb + lc + lu + li) + self.gamma * gap**2 + penalty.sum()
        size = self.model.size
        residual_value = self.beta * (lc + li) + self.gamma * gap**2 + penalty[size:].sum()

        g_grad = model.backward(parts[0], *pairs,
                                ((self.beta + consistency) * cg + self.beta * cg_c) / n)
        if cg_u is not None:
            g_grad += model.backward(parts[0], *self.unbiased[:3],
                                     (self.beta - consistency) * cg_u)
        own_p = model.backward(parts[1], *pairs, (consistency * cp + self.beta * cp_c) / n)
        in_lb_p = model.backward(parts[1], *pairs, self.beta * cp / n)
        own, in_lb = [own_p], [in_lb_p]
        if m is not None:
            own.append(model.backward(parts[2], *pairs, consistency * cm / n + cm_own))
            in_lb.append(model.backward(parts[2], *pairs, self.beta * cm / n))
        shrink = self.penalty * theta / n
        grad = np.concatenate([g_grad, *(a + b for a, b in zip(own, in_lb))]) + shrink
        residual_grad = np.concatenate([np.zeros(size), *own]) + shrink
        residual_grad[:size] = 0.0
        return value, grad, residual_value, residual_grad

    def __call__(self, theta):
        """The whole objective and its gradient."""
        value, grad, _, _ = self.terms(theta)
        return value, grad


class _Block:
    """One block of an alternating minimisation: a function of ``theta[block]`` only."""

    def __init__(self, objective, theta, block, residual):
        self.objective, self.theta, self.block = objective, theta.copy(), block
        self.residual = residual

    def __call__(self, sub):
        self.theta[self.block] = sub
        value, grad, residual_value, residual_grad = self.objective.terms(self.theta)
        if self.residual:
            return residual_value, residual_grad[self.block]
        return value, grad[self.block]


class _ResidualBase(IPSMF):
    """Shared fit of Res-IPS and Res-DR (see the module docstring)."""

    __metadata_request__fit = {"o": True, "propensity": True, "X_unbiased": True,
                               "y_unbiased": True}
    _imputes = False
    _parameter_constraints = {**IPSMF._parameter_constraints,
                              "res_weight": [Interval(Real, 0, None, closed="neither")],
                              "consistency_weight": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, n_factors=8, *, reg_factors=100.0, reg_bias=10.0, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None, clip=0.05, res_weight=1.0,
                 consistency_weight=0.01):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, loss=loss,
                         max_iter=max_iter, tol=tol, random_state=random_state, clip=clip)
        self.res_weight = res_weight
        self.consistency_weight = consistency_weight

    def fit(self, X, y, o=None, propensity=None, X_unbiased=None, y_unbiased=None):
        """Fit the nominal models, then the prediction and residuals jointly.

        Parameters
        ----------
        X, y, o, propensity
            As :meth:`DebiasedMFBase.fit`.
        X_unbiased, y_unbiased : array-like or DataFrame, default=None
            A few randomly exposed pairs and their outcomes (the MAR slice), the same
            names the MF selection models take. Without them the slice's terms drop out
            and only the biased data move the residuals (a UserWarning says so): the
            method is then not what it is for.

        Returns
        -------
        self
        """
        if X_unbiased is None and y_unbiased is None:
            warnings.warn(f"{type(self).__name__} without X_unbiased / y_unbiased: nothing "
                          "calibrates the residual models (pass a few randomly exposed "
                          "ratings)", UserWarning, stacklevel=2)
        elif X_unbiased is None or y_unbiased is None:
            raise ValueError("pass both X_unbiased and y_unbiased (the randomly exposed pairs "
                             "and their outcomes), or neither")
        self._raw_unbiased = (X_unbiased, y_unbiased)
        try:
            return super().fit(X, y, o, propensity)
        finally:
            del self._raw_unbiased

    def _slice_in_fit_units(self):
        def outcome(values):
            values = finite_unbiased_outcome(values)
            if self.loss == "logistic" and not np.all((values >= 0) & (values <= 1)):
                raise ValueError("loss='logistic' needs y_unbiased in [0, 1] (0/1 labels)")
            return values

        encoded = encode_unbiased_slice(self, *self._raw_unbiased, outcome)
        if encoded is None:
            return None
        users, items, F, y = encoded
        return users, items, (F - self.feature_mean_) / self.feature_scale_, self._in_fit_units(y)

    _MAX_ROUNDS = 20

    def _alternate(self, objective, theta):
        """Minimise the prediction's and the residuals' objectives in turn.

        The two blocks minimise different objectives, so the fit is a game and its
        answer an equilibrium: it has settled when, in one round, each block's L-BFGS
        converged and lowered that block's own objective by at most ``tol`` relative.
        (The whole objective is no test: the residuals move along directions their own
        objective barely sees but ``beta L_B`` does. On Coat at Res-IPS's defaults it went
        on changing by 2e-5 relative a round, round after round, with every block's
        gradient near 1e-6, and the fit warned that it had not settled, as every Res-IPS
        and Res-DR fit of Table 3 in docs/results.md did.)

        Returns (theta, L-BFGS iterations in all, whether a round settled).
        """
        size = self.model_.size
        blocks = [(slice(0, size), False), (slice(size, None), True)]
        n_iter = 0
        for _ in range(self._MAX_ROUNDS):
            settled = True
            for block, residual in blocks:
                own = _Block(objective, theta, block, residual)
                before = own(theta[block])[0]
                result = lbfgs(own, theta[block], self.max_iter, self.tol)
                theta[block] = result.theta
                after = own(result.theta)[0]
                n_iter += result.n_iter
                settled &= (result.converged
                            and before - after <= self.tol * max(1.0, abs(after)))
            if settled:
                return theta, n_iter, True
        return theta, n_iter, False

    def _fit_prediction(self, r, o):
        unbiased = self._slice_in_fit_units()
        self.n_unbiased_ = 0 if unbiased is None else len(unbiased[3])
        theta_c = self.model_.init(self._rng)
        m_hat = None
        if self._imputes:  # the direct method: an MF of the observed outcomes, unweighted
            imputer = MFScore(*self.model_.shape)
            theta_c = self._minimise(imputer, [(o.astype(float), r)], self.loss, theta_c)
            m_hat = imputer.scores(theta_c, *self._pairs)
            if self.loss == "logistic":
                m_hat = expit(m_hat)
        penalty = self.model_.penalty_weights(self.reg_factors, self.reg_bias)
        objective = ResidualObjective(self.model_, self._pairs, r, o, logit(self.propensity_),
                                      m_hat, unbiased, self.loss, self.res_weight,
                                      self.consistency_weight, penalty)
        residuals = [0.1 * self.model_.init(self._rng) for _ in range(objective.n_blocks - 1)]
        theta = np.concatenate([theta_c, *residuals])
        theta, self.n_iter_, converged = self._alternate(objective, theta)
        if not converged:
            from sklearn.exceptions import ConvergenceWarning

            warnings.warn(f"{type(self).__name__}: the alternating fit did not settle in "
                          f"{self._MAX_ROUNDS} rounds of at most max_iter={self.max_iter} "
                          "L-BFGS iterations; raise max_iter", ConvergenceWarning, stacklevel=4)
        p, m = objective.calibrated(theta)
        self.calibrated_propensity_ = p
        if m is not None:
            self.imputation_ = self._in_user_units(m) if self.loss == "squared" else m
        return objective.split(theta)[0]


class ResIPSMF(_ResidualBase):
    """Res-IPS: IPS with the nominal propensity calibrated by a residual MF on a MAR slice.

    See :mod:`heckrec.debias._residual` for the objective and where it departs from the
    paper (Li et al., NeurIPS 2023).

    Parameters
    ----------
    res_weight : float, default=1.0
        The paper's beta: weight of the biased, product and unbiased losses.
    consistency_weight : float, default=0.01
        The paper's gamma: weight of ``(L_B - L_U)^2``.
    clip, **kwargs
        As :class:`IPSMF` (``propensity`` or the logistic MF of o gives the nominal one).

    Attributes
    ----------
    calibrated_propensity_ : ndarray
        ``p~`` on the training pairs.
    n_unbiased_ : int
        Pairs in the MAR slice.
    """


class ResDRMF(_ResidualBase):
    """Res-DR: the doubly robust loss with a calibrated propensity and imputation.

    The nominal imputation is the direct method (an MF of the observed outcomes), and a
    second residual MF calibrates it; see :mod:`heckrec.debias._residual`.

    Parameters
    ----------
    res_weight, consistency_weight, clip, **kwargs
        As :class:`ResIPSMF`.

    Attributes
    ----------
    calibrated_propensity_, n_unbiased_
        As :class:`ResIPSMF`.
    imputation_ : ndarray
        The calibrated imputed outcome ``m~`` on the training pairs (the user's units).
    """

    _imputes = True
