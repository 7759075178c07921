"""Sensitivity-bounded debiasing: the Robust Deconfounder (RD) and its benchmarked form (BRD).

Ding, Wu, Feng, He et al. (KDD 2022). A hidden confounder may move the log-odds of the
true propensity ``p~`` away from the nominal ``p_hat`` by at most ``log gamma``, which
bounds each inverse propensity ``w = 1 / p~`` in a box (:func:`inverse_propensity_box`)

    a = 1 + (1/p_hat - 1) / gamma  <=  w  <=  b = 1 + (1/p_hat - 1) gamma,

and the model minimises the worst case of the IPS or DR loss over that box. Each pair's
term is monotone in its own w (linear for the squared loss; for the logistic loss the DR
pseudo-label is clipped to [0, 1], a monotone map), so the maximum over the box is at a
vertex, chosen pair by pair: the closed form the paper states, not the authors' code's
projected gradient ascent over one weight per (item, rating). By Danskin's theorem the
gradient of the maximum is the gradient at the maximising vertex. BRD subtracts the
benchmark model's loss at the same weights, so its objective is 0 at the benchmark.
"""

import numpy as np
from numbers import Real
from scipy.special import logit
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval

from ._backbone import pair_loss
from ._estimators import DRJLMF, IPSMF, debias_terms


def inverse_propensity_box(propensity, gamma):
    """Bounds ``(a, b)`` on the inverse true propensity under sensitivity ``gamma``.

    Parameters
    ----------
    propensity : ndarray
        The nominal propensities ``p_hat`` in (0, 1].
    gamma : float or ndarray, >= 1
        The bound on the odds ratio of the true to the nominal propensity (per pair if
        an array). ``gamma = 1`` is the point ``a = b = 1 / p_hat``.

    Returns
    -------
    a, b : ndarray
    """
    excess = 1.0 / propensity - 1.0
    return 1.0 + excess / gamma, 1.0 + excess * gamma


def per_pair_loss(terms, kind, g):
    """``sum over terms of weight_j loss(target_j, g_j)`` per pair, and its derivative in g."""
    loss, dloss = np.zeros(len(g)), np.zeros(len(g))
    for weight, target in terms:
        value, slope = pair_loss(kind, target, g)
        loss += weight * value
        dloss += weight * slope
    return loss, dloss


class WorstCase:
    """The per-pair maximum of an objective over the vertices of a box of weights.

    Parameters
    ----------
    vertices : list of term lists
        One ``[(weight, target), ...]`` list per vertex (the loss at ``w = a``, at ``w = b``).
    kind : str
        The pair loss (:func:`~heckrec.debias._backbone.pair_loss`).
    reference : ndarray or None
        A benchmark's scores g0 per pair (BRD): the objective at each vertex is the loss
        at g minus the loss at g0 under the same weights. None: no benchmark (RD).
    """

    def __init__(self, vertices, kind, reference=None):
        self.vertices = vertices
        self.offsets = [np.zeros(len(vertices[0][0][0])) if reference is None
                        else per_pair_loss(terms, kind, reference)[0] for terms in vertices]

    @property
    def all_terms(self):
        return [term for terms in self.vertices for term in terms]

    def subset(self, index):
        """The same worst case over the pairs ``index`` only."""
        part = WorstCase.__new__(WorstCase)
        part.vertices = [[(w[index], t[index]) for w, t in terms] for terms in self.vertices]
        part.offsets = [offset[index] for offset in self.offsets]
        return part

    def evaluate(self, kind, g):
        """Per-pair worst-case value, its derivative in g, and the maximising vertex."""
        values, slopes = zip(*(per_pair_loss(terms, kind, g) for terms in self.vertices))
        values = np.stack(values) - np.stack(self.offsets)
        choice = np.argmax(values, axis=0)
        pick = np.arange(len(g))
        return values[choice, pick], np.stack(slopes)[choice, pick], choice


def worst_case_objective(model, theta, pairs, worst, kind, penalty, n):
    """``(sum_j max over the box of the pair's loss + penalty/2 |theta|^2) / n`` and its
    gradient (Danskin: the gradient at the maximising vertex)."""
    users, items, F = pairs
    g = model.scores(theta, users, items, F)
    value, coef, _ = worst.evaluate(kind, g)
    grad = model.backward(theta, users, items, F, coef) + penalty * theta
    return (value.sum() + 0.5 * penalty @ theta**2) / n, grad / n


class _Sensitivity:
    """The box of inverse propensities: a global ``gamma`` (RD) unless a subclass sets one
    per pair."""

    def _gamma(self):
        return self.gamma

    def _box(self):
        return inverse_propensity_box(self.propensity_, self._gamma())

    def _reference(self):
        return None

    def _fit_prediction(self, r, o):
        theta = super()._fit_prediction(r, o)
        # The last objective's worst case at the solution, without the penalty.
        g = self.model_.scores(theta, *self._pairs)
        self.worst_case_loss_ = float(self._last_worst.evaluate(self.loss, g)[0].mean())
        del self._last_worst
        return theta

    def _vertices(self, kind, r, o, imputed=None):
        """The debiasing terms at ``w = a`` and at ``w = b`` (weights o w)."""
        self._last_worst = WorstCase([debias_terms(kind, self.loss, r, o, 1.0 / w, imputed)
                                      for w in self._box()], self.loss, self._reference())
        return self._last_worst


_GAMMA = {"gamma": [Interval(Real, 1, None, closed="left")]}


class RDIPSMF(_Sensitivity, IPSMF):
    """Robust Deconfounder, IPS form: the worst case of IPS over the sensitivity box.

    Minimises ``max_{a <= w <= b} (1/|D|) sum_D o e(theta) w`` (Ding et al. 2022). The
    per-pair loss ``e`` is non-negative, so the maximum is ``w = b`` everywhere: IPS with
    the inflated weights ``1 + (1/p_hat - 1) gamma``. ``gamma = 1`` is IPS.

    Parameters
    ----------
    gamma : float, default=2.0
        The sensitivity bound (>= 1) on the odds ratio of the true to the nominal
        propensity. The authors' scripts used 25 on Coat and 10 on Yahoo! R3, with their
        grouped weights; choose it on a MAR slice (:class:`~heckrec.debias.SliceSearch`).
    clip, **kwargs
        As :class:`IPSMF`.

    Attributes
    ----------
    worst_case_loss_ : float
        The worst-case mean loss over the box at the fit, without the penalty.
    """

    _parameter_constraints = {**IPSMF._parameter_constraints, **_GAMMA}

    def __init__(self, n_factors=8, *, reg_factors=100.0, reg_bias=10.0, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None, clip=0.05, gamma=2.0):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, loss=loss,
                         max_iter=max_iter, tol=tol, random_state=random_state, clip=clip)
        self.gamma = gamma

    def _loss_terms(self, r, o):
        return self._vertices("ips", r, o)


class RDDRMF(_Sensitivity, DRJLMF):
    """Robust Deconfounder, DR form: the worst case of the doubly robust loss.

    Minimises ``max_{a <= w <= b} (1/|D|) sum_D [e_hat + o (e - e_hat) w]``: per pair
    ``w = b`` where the observed loss exceeds the imputed one and ``a`` elsewhere. The
    imputation is DR-JL's (:class:`DRJLMF`), fitted with the nominal propensities.

    Parameters
    ----------
    gamma : float, default=2.0
        As :class:`RDIPSMF` (the authors' scripts: 3 on Coat, 10 on Yahoo! R3).
    clip, n_rounds, **kwargs
        As :class:`DRJLMF`.

    Attributes
    ----------
    worst_case_loss_ : float
        As :class:`RDIPSMF` (after the last round).
    """

    _parameter_constraints = {**DRJLMF._parameter_constraints, **_GAMMA}

    def __init__(self, n_factors=8, *, reg_factors=100.0, reg_bias=10.0, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None, clip=0.05, n_rounds=3, gamma=2.0):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, loss=loss,
                         max_iter=max_iter, tol=tol, random_state=random_state, clip=clip,
                         n_rounds=n_rounds)
        self.gamma = gamma

    def _dr_terms(self, r, o, imputed):
        return self._vertices("dr", r, o, imputed)


class _Benchmarked:
    """BRD's benchmark: a model fitted first, whose loss under the same weights is
    subtracted pair by pair (so the objective is 0 at the benchmark)."""

    _default_benchmark = IPSMF
    _benchmark_constraints = {"benchmark": [None, HasMethods(["fit", "predict"])],
                              "benchmark_prefit": ["boolean"]}

    def fit(self, X, y, o=None, propensity=None):
        """Fit the benchmark (unless prefit), then this model against it.

        Parameters
        ----------
        X, y, o, propensity
            As :meth:`DebiasedMFBase.fit`. ``propensity=None`` takes the benchmark's
            estimated propensities when it has them, so both use the same.

        Returns
        -------
        self
        """
        self._validate_params()
        if self.benchmark_prefit:
            if self.benchmark is None:
                raise ValueError("benchmark_prefit=True needs a fitted estimator as benchmark")
            self.benchmark_ = self.benchmark
        else:
            benchmark = self.benchmark
            if benchmark is None:  # the plain model under this one's settings
                names = self._default_benchmark().get_params()
                benchmark = self._default_benchmark(
                    **{k: v for k, v in self.get_params(deep=False).items() if k in names})
            benchmark = clone(benchmark)
            accepts = getattr(benchmark, "_uses_propensity", False)
            benchmark.fit(X, y, o, **({"propensity": propensity} if accepts else {}))
            self.benchmark_ = benchmark
        if getattr(self.benchmark_, "loss", self.loss) != self.loss:
            raise ValueError(f"the benchmark's loss is {self.benchmark_.loss!r} but this model's "
                             f"is {self.loss!r}: BRD compares the two on one loss")
        if propensity is None and hasattr(self.benchmark_, "propensity_"):
            propensity = self.benchmark_.propensity_
        self._benchmark_prediction = np.asarray(self.benchmark_.predict(X), dtype=float)
        try:
            super().fit(X, y, o, propensity)
        finally:
            del self._benchmark_prediction
        return self

    def _reference(self):
        """The benchmark's prediction on the training pairs as a score in the fit's units."""
        if self.loss == "squared":
            return self._in_fit_units(self._benchmark_prediction)
        return logit(np.clip(self._benchmark_prediction, 1e-12, 1.0 - 1e-12))


class BRDIPSMF(_Benchmarked, RDIPSMF):
    """Benchmarked Robust Deconfounder, IPS form.

    Minimises ``max_{a <= w <= b} (1/|D|) sum_D o (e(theta) - e(theta_0)) w`` for a
    benchmark model theta_0: per pair ``w = b`` where this model's loss exceeds the
    benchmark's, ``a`` elsewhere. The objective is 0 at the benchmark, and a negative
    value (``worst_case_loss_``) means no worse than it under every propensity the
    sensitivity model allows.

    Parameters
    ----------
    gamma : float, default=2.0
        As :class:`RDIPSMF` (the authors' scripts: 8-10 on Coat).
    benchmark : estimator or None, default=None
        The benchmark (anything with fit / predict whose prediction is on this model's
        outcome scale). None: :class:`IPSMF` with this model's settings.
    benchmark_prefit : bool, default=False
        Use ``benchmark`` as already fitted instead of fitting a clone.
    clip, **kwargs
        As :class:`IPSMF`.

    Attributes
    ----------
    benchmark_ : estimator
        The fitted benchmark.
    worst_case_loss_ : float
        BRD's loss at the fit without the penalty: the worst case over the box of the
        mean loss difference to the benchmark on the training pairs. Negative: no worse
        than the benchmark for every true propensity the sensitivity model allows (the
        paper's "no harm").
    """

    _parameter_constraints = {**RDIPSMF._parameter_constraints,
                              **_Benchmarked._benchmark_constraints}

    def __init__(self, n_factors=8, *, reg_factors=100.0, reg_bias=10.0, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None, clip=0.05, gamma=2.0,
                 benchmark=None, benchmark_prefit=False):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, loss=loss,
                         max_iter=max_iter, tol=tol, random_state=random_state, clip=clip,
                         gamma=gamma)
        self.benchmark = benchmark
        self.benchmark_prefit = benchmark_prefit


class BRDDRMF(_Benchmarked, RDDRMF):
    """Benchmarked Robust Deconfounder, DR form.

    The DR loss difference to the benchmark, ``[e_hat(theta) - e_hat(theta_0)] + o
    [(e - e_hat)(theta) - (e - e_hat)(theta_0)] w``, maximised over the box pair by
    pair, with this model's imputation (as :class:`RDDRMF`) on both sides.

    Parameters
    ----------
    gamma : float, default=2.0
        As :class:`RDIPSMF` (the authors' script: 2.5 on Coat).
    benchmark : estimator or None, default=None
        As :class:`BRDIPSMF`; None: :class:`DRJLMF` with this model's settings.
    benchmark_prefit : bool, default=False
    clip, n_rounds, **kwargs
        As :class:`DRJLMF`.

    Attributes
    ----------
    benchmark_ : estimator
    worst_case_loss_ : float
        As :class:`BRDIPSMF`.
    """

    _default_benchmark = DRJLMF
    _parameter_constraints = {**RDDRMF._parameter_constraints,
                              **_Benchmarked._benchmark_constraints}

    def __init__(self, n_factors=8, *, reg_factors=100.0, reg_bias=10.0, loss="squared",
                 max_iter=500, tol=1e-6, random_state=None, clip=0.05, n_rounds=3, gamma=2.0,
                 benchmark=None, benchmark_prefit=False):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, loss=loss,
                         max_iter=max_iter, tol=tol, random_state=random_state, clip=clip,
                         n_rounds=n_rounds, gamma=gamma)
        self.benchmark = benchmark
        self.benchmark_prefit = benchmark_prefit
