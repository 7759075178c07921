"""BivariateProbitMF: binary outcome, bivariate probit with sample selection."""

from numbers import Integral

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from sklearn.base import ClassifierMixin
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._kernels.bivariate_probit import exact_per_pair, exact_terms
from ._base import RHO_BOUNDARY, SelectionMFBase
from ._laplace import CURVATURE_STEP
from ._likelihood_binary import LIKELIHOODS, BivariateProbitLikelihood
from ._objective import PenalisedObjective
from ._solvers import SolverResult, lbfgs
from ._unbiased import binary_terms

#: The mc fit stops when no parameter moved more than this in a round ...
MC_STEP_TOL = 1e-4
#: ... of at most this many L-BFGS iterations per step.
MC_STEP_ITER = 20


class BivariateProbitMF(ClassifierMixin, SelectionMFBase):
    """Selection model over matrix-factorisation scores, binary outcome.

    For a pair x = (user, item[, features]) ::

        z = g_o(x) + U_O,   o = 1[z > 0]
        y = g_r(x) + U_R,   r = 1[y > 0] observed only where o = 1
        (U_O, U_R) ~ N(0, [[1, rho], [rho, 1]])

    so P(o = 0) = Phi(-g_o), P(o = 1, r = 1) = Phi2(g_o, g_r; rho) and
    P(o = 1, r = 0) = Phi2(g_o, -g_r; -rho). ``predict_proba(X)[:, 1]`` is
    Phi(g_r(x)), the probability of a positive outcome had the pair been
    seen: the debiased preference. The penalised objective, the scores and
    the solvers are those of :class:`heckrec.HeckmanMFRegressor` (sigma is 1:
    a binary outcome does not identify it).

    Parameters
    ----------
    n_factors : int, default=0
        Rank of each MF score (0 gives a biases-only model). The default is 0: the
        penalised binary fit runs rho to the boundary whenever its factors are
        flexible (docs/model.md, "Why the binary fit runs to the boundary"), and at the
        earlier default (rank 8, ``reg_factors=100``) the factors shrank to nothing on
        Coat and on issue 13's simulated grid, so that fit was the biases-only one at
        more cost. With factors the default ``"auto"`` refits by the evidence, which
        prices their flexibility, where reg_factors holds them at 0 or the penalties
        shift rho on a design that identifies it; ``rho_criterion="evidence"`` uses it
        always (about 20 penalised fits at rank 4; docs/benchmarks.md).
    likelihood : {"exact", "ghk", "mc"}, default="exact"
        How Phi2 is evaluated. ``"exact"``: Genz's Gauss-Legendre quadrature
        with a log-space tail integral (log Phi2 to 1.25e-14 * max(1, |log Phi2|)
        against 30-digit quadrature), closed-form gradients. ``"ghk"``: the
        smooth simulator (``n_draws`` truncated normal draws per pair by
        inverse CDF of fixed uniforms). ``"mc"``: the
        paper's Monte Carlo estimator with indicator functions, fitted by
        alternating theta_r and theta_o steps (its Algorithm 1): each step
        runs up to 20 L-BFGS iterations on the objective with MC^r (moves g_r
        and rho) or MC^o (moves g_o and rho), until no parameter moves by
        more than 1e-4 in a round. Measured on simulated data (100 x 80
        biases-only grid, true rho 0.6, exact fit 0.856 +- 0.080): one round
        reaches the exact fit's rho (0.856), but the two steps optimise
        different functions and further rounds drift to rho -> 1 (0.9996 by
        round 2), which is then reported as degenerate. ``"exact"`` is the
        default: it was the most accurate and the fastest on every problem
        measured (``benchmarks/bench_binary.py``, docs/benchmarks.md).
    n_draws : int, default=100
        Draws for ``"ghk"`` and ``"mc"`` (unused by ``"exact"``).
    reg_factors, reg_bias, reg_rho, solver, max_iter, tol, learning_rate, batch_size, init, \
init_scale, scaling, compute_se, cov_type, fixed_rho, warm_start, alpha, debias_loss, \
propensity_clip, selection_only, outcome_only, unobserved, unobserved_ratio, rho_search_pairs, \
rho_criterion, if_not_identified, random_state, verbose
        As in :class:`heckrec.HeckmanMFRegressor`, except ``reg_bias=0.1`` and
        the meaning of ``rho_criterion="auto"`` (the default in both;
        ``reg_factors=100.0`` as there). Here ``"auto"`` is ``"evidence"`` from the
        start where it is written for and cheap: a biases-only model
        (``n_factors=0``) on a listed grid, its log or a sample of it (any
        ``unobserved``), ``backend="numba"``,
        ``alpha=1``, ``likelihood="exact"``, ``reg_rho=0``; elsewhere the penalised fit,
        replaced by the evidence's where its rho_ reflects the penalties (a first-order
        shift above 2 SEs, or factors held at 0) on a design that identifies rho, as in
        HeckmanMFRegressor.
        ``rho_criterion_`` says which was used. Under the evidence ``reg_bias`` is only the
        starting precision: each score's user and item biases get their own, chosen by
        the marginal likelihood, and rho maximises it. Measured (docs/model.md): issue
        13's simulated 1000 x 600 grid (rank-4 truth, rho 0.5) gives rho_ 0.509 +- 0.024 in
        about 3 penalised fits' time, where the penalised fit gives 0.911 +- 0.029; Coat
        with a 5% MAR slice gives rho_ +0.10 to +0.20, a mean P(like) of 0.417 against
        the MAR share 0.402 and AUC 0.776 against NaiveMF's 0.773 over five slices.
        Without MAR ratings Coat's design does not identify rho (the evidence's free rho
        is -0.52), so it is held at 0 (``if_not_identified``). In the combined objective the
        debiasing loss is the probit cross-entropy of the label against ``Phi(g_r)``.
        ``solver`` is ``"lbfgs"`` or ``"adam"`` (the block-Newton sweeps are written for
        the continuous likelihood only). ``solver="adam"`` is not
        available with ``likelihood="mc"`` (its steps are full-batch L-BFGS);
        ``random_state`` also fixes the simulation draws. With ``"mc"``,
        ``max_iter`` bounds the L-BFGS iterations of each step and the
        number of rounds.
    backend : {"numba", "dask"}, default="numba"
        Only the numba kernels exist for this model; ``"dask"`` runs them on the
        workers of the current dask.distributed Client (as in
        :class:`heckrec.HeckmanMFRegressor`; not with ``likelihood="mc"``).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The outcome labels; ``classes_[1]`` is the positive one (r = 1).
    rho_, rho_se_ : float
        Estimate of rho and its standard error (inverse penalised Hessian of
        the exact likelihood with all other parameters profiled out, delta
        method; for every ``likelihood``, since the simulators only
        approximate the same model). NaN when degenerate.
    loglik_ : float
        Exact log-likelihood at the estimate (whatever ``likelihood`` fitted it),
        so fits by the three methods compare on one scale.
    n_guarded_ : int
        ``"mc"`` only: observed r = 0 pairs whose paper estimate Phi(g_o) - MC^r
        fell below the direct estimate of the same probability at the end of
        the fit, so the guard replaced it (see :mod:`heckrec._kernels.bivariate_probit`).
    n_rounds_ : int
        ``"mc"`` only: alternating rounds run.
    n_iter_, n_epochs_, n_sweeps_, converged_, degenerate_, objective_, se_info_, params_, \
n_pairs_, n_observed_, n_users_, n_items_, n_features_in_, feature_names_in_, \
log_marginal_, laplace_hessian_, laplace_profile_, n_laplace_fits_, n_search_pairs_, \
prior_precisions_, rho_penalty_shift_, rho_structural_se_, rho_free_, rho_criterion_
        As in :class:`heckrec.HeckmanMFRegressor`.

    Examples
    --------
    >>> from heckrec import BivariateProbitMF
    >>> from heckrec.datasets import make_selection_mf
    >>> X, r, o, truth = make_selection_mf(150, 100, rho=0.6, density=0.3, outcome="binary",
    ...                                    random_state=0)
    >>> est = BivariateProbitMF(n_factors=2, random_state=0).fit(X, r, o)
    >>> est.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        **SelectionMFBase._parameter_constraints,
        "likelihood": [StrOptions(set(LIKELIHOODS))],
        "n_draws": [Interval(Integral, 1, None, closed="left")],
        "backend": [StrOptions({"numba", "dask"})],
    }
    _auto_evidence_biases_only = True

    def __init__(self, n_factors=0, *, likelihood="exact", n_draws=100, reg_factors=100.0,
                 reg_bias=0.1, reg_rho=0.0, solver="lbfgs", max_iter=1000, tol=1e-7, learning_rate=0.01,
                 batch_size=65536, init="spectral", init_scale=0.1, scaling="block",
                 backend="numba", compute_se=True, cov_type="hessian", fixed_rho=None,
                 warm_start=False, alpha=1.0, debias_loss="naive", propensity_clip=0.05,
                 selection_only=None, outcome_only=None, unobserved="listed",
                 unobserved_ratio=10.0, rho_search_pairs=1_000_000, rho_criterion="auto",
                 if_not_identified="fix", random_state=None, verbose=0):
        super().__init__(n_factors, reg_factors=reg_factors, reg_bias=reg_bias, reg_rho=reg_rho,
                         solver=solver,
                         max_iter=max_iter, tol=tol, learning_rate=learning_rate,
                         batch_size=batch_size, init=init, init_scale=init_scale,
                         scaling=scaling, backend=backend, compute_se=compute_se,
                         cov_type=cov_type, fixed_rho=fixed_rho, warm_start=warm_start,
                         alpha=alpha, debias_loss=debias_loss,
                         propensity_clip=propensity_clip, selection_only=selection_only,
                         outcome_only=outcome_only, unobserved=unobserved,
                         unobserved_ratio=unobserved_ratio, rho_search_pairs=rho_search_pairs,
                         rho_criterion=rho_criterion, if_not_identified=if_not_identified,
                         random_state=random_state, verbose=verbose)
        self.likelihood = likelihood
        self.n_draws = n_draws

    def fit(self, X, y, o=None, X_unbiased=None, y_unbiased=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_pairs, 2 + n_features) or DataFrame
            User id, item id, then optional side features.
        y : array-like of shape (n_pairs,)
            The binary outcome ``r``, two labels (0/1, bools, strings...). Read
            only where ``o == 1``; anything (e.g. NaN or None) may stand elsewhere.
            In GridSearchCV or cross_validate with an integer ``cv``, scikit-learn
            stratifies a classifier's folds on ``y`` before this fit runs, and NaN
            stops it ("Input y contains NaN"): put a label (e.g. 0) where ``o == 0``
            and route ``o``, or pass ``cv=KFold(n)``.
        o : array-like of 0/1, default=None
            Observation indicator; ``None`` means ``y`` is observed where it is
            not missing (NaN / None).
        X_unbiased, y_unbiased : array-like or DataFrame, default=None
            A few randomly exposed pairs and their labels (the same two classes as
            ``y``); each enters the likelihood as log Phi(+-g_r), the outcome's
            marginal probability, as in :class:`heckrec.HeckmanMFRegressor`.

        Returns
        -------
        self
        """
        if isinstance(self.n_draws, (bool, np.bool_)):
            raise ValueError(f"n_draws must be an integer, got {self.n_draws!r}")
        if self.likelihood == "mc" and self.solver == "adam":
            raise ValueError("likelihood='mc' is fitted by alternating L-BFGS steps; "
                             "use solver='lbfgs' (or likelihood='ghk' / 'exact' with Adam)")
        y01 = self._encode_outcome(y, o)
        if np.isnan(y01).all():
            raise ValueError("no observed pairs: o is 0 everywhere (or y is missing "
                             "everywhere), so there is no outcome to model")
        rng = check_random_state(self.random_state)
        # Draw the simulation's fixed numbers first, so they depend on random_state only.
        if self.likelihood == "ghk":
            self._draws = np.log(rng.uniform(size=self.n_draws))
        elif self.likelihood == "mc":
            self._draws = rng.standard_normal(self.n_draws)
        else:
            self._draws = None
        super().fit(X, y01, o, X_unbiased=X_unbiased, y_unbiased=y_unbiased)
        del self._draws
        return self

    def _unbiased_outcome(self, y_unbiased):
        """The slice's labels as 1.0 (classes_[1]) / 0.0."""
        y = column_or_1d(y_unbiased, warn=True)
        if pd.isna(y).any():
            raise ValueError("y_unbiased contains missing values: every randomly exposed pair "
                             "needs its label")
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(f"y_unbiased holds labels that y does not: "
                             f"{np.unique(y[unknown])[:5].tolist()} (classes {self.classes_.tolist()})")
        return (y == self.classes_[1]).astype(float)

    def _encode_outcome(self, y, o):
        """Labels -> 1.0 (classes_[1]) / 0.0, NaN where not observed; sets classes_."""
        y, observed = _labels_and_observed(y, o)
        labels = y[observed]
        if labels.dtype == object and pd.api.types.infer_dtype(labels) in NUMBER_KINDS:
            # numbers held as objects (y had None where o == 0): let numpy type them,
            # as sklearn's target checks read object arrays as "unknown"
            labels = np.asarray(labels.tolist())
        if labels.size == 0:
            return np.full(y.shape[0], np.nan)
        check_classification_targets(labels)
        self.classes_ = np.unique(labels)
        if self.classes_.size != 2:
            # sklearn's wording for binary-only classifiers, then what was found.
            raise ValueError(f"Only binary classification is supported: BivariateProbitMF "
                             f"needs a binary outcome, but the observed y has "
                             f"{self.classes_.size} class(es) {self.classes_.tolist()[:5]}")
        y01 = np.full(y.shape[0], np.nan)
        y01[observed] = (labels == self.classes_[1]).astype(float)
        return y01

    # Hooks of SelectionMFBase ------------------------------------------
    _outcome_kind = "binary"

    def _likelihood(self):
        return BivariateProbitLikelihood(self.likelihood, self._draws)

    _debias_pair_loss = "probit"
    # The degenerate fit's advice differs from the continuous model's (docs/model.md, "Why
    # the binary fit runs to the boundary"). Near |rho| = 1 the observed outcome's
    # probability Phi2(g_r, g_o; rho) / Phi(g_o) reaches 0 and 1 at finite scores and is
    # steeper in g_r, so the fit there needs less norm in the outcome's parameters: on
    # Coat and on a simulated grid the likelihood rose while the penalty fell towards the
    # boundary. On Coat no penalty tried (reg_factors 0.3-300, reg_bias 0.1-10) kept the
    # fit off it; on the grid only shrinking the factors away did, at a biased rho.
    _degenerate_advice = (
        "near |rho| = 1 the observed outcome's probability Phi2(g_r, g_o; rho) / Phi(g_o) "
        "reaches 0 and 1 at finite scores, so the penalised fit gains likelihood and pays "
        "less penalty there even where the data came from an interior rho: this is not "
        "evidence on rho, and a stronger penalty is not the remedy it is for the continuous "
        "model (on Coat none measured kept the fit off the boundary; docs/model.md, 'Why the "
        "binary fit runs to the boundary'). Identify rho with a few randomly exposed pairs "
        "(X_unbiased, y_unbiased) or an exclusion restriction (selection_only), or "
        "integrate the user and item parameters out with rho_criterion='evidence'.")

    @staticmethod
    def _outcome_mean(g_r):
        return ndtr(g_r)

    def _init_scalars(self, r_observed):
        share = float(np.clip(np.mean(r_observed), 1e-6, 1 - 1e-6)) if r_observed.size else 0.5
        return {"mu_r": float(ndtri(share)), "a": 0.0}

    def _outcome_slope(self, r_observed):
        share = float(np.clip(np.mean(r_observed), 1e-3, 1 - 1e-3)) if r_observed.size else 0.5
        return float(np.exp(-0.5 * ndtri(share) ** 2) / np.sqrt(2 * np.pi))

    def _reported_likelihood(self, fitted):
        return BivariateProbitLikelihood("exact")

    def _solve(self, objective, theta0, scaling):
        if self.likelihood != "mc":
            return super()._solve(objective, theta0, scaling)
        return self._alternate(objective, theta0, scaling)

    def _alternate(self, objective, theta0, scaling):
        """The paper's Algorithm 1: alternate theta_r (MC^r) and theta_o (MC^o) steps."""
        layout = objective.layout
        base_frozen = (np.zeros(layout.size, dtype=bool) if objective.frozen is None
                       else objective.frozen.copy())
        outcome = np.zeros(layout.size, dtype=bool)
        for name in layout.shapes:
            if name.endswith("_r"):
                outcome[layout.slices[name]] = True
        rho = np.arange(layout.size) == layout.index("a")  # moves in both steps
        selection = ~outcome & ~rho
        theta, n_iter, converged, message = theta0, 0, False, "round limit reached"
        for n_round in range(1, max(1, self.max_iter // MC_STEP_ITER) + 1):
            start = theta.copy()
            for step_r, moving in ((True, outcome), (False, selection)):
                objective.likelihood.step_r = step_r
                objective.frozen = base_frozen | ~(moving | rho)
                result = lbfgs(objective, theta, min(self.max_iter, MC_STEP_ITER), self.tol,
                               self.verbose, scaling, stop=self._boundary_stop(layout))
                theta, n_iter = result.theta, n_iter + result.n_iter
                if result.stopped:
                    break
            if self.verbose:
                print(f"[mc] round {n_round}: rho {np.tanh(theta[layout.index('a')]):+.5f}",
                      flush=True)
            if result.stopped:
                message = result.message
                break
            if np.max(np.abs(theta - start)) < MC_STEP_TOL:
                converged, message = True, "parameters stopped moving"
                break
        objective.frozen = None if not base_frozen.any() else base_frozen
        self.n_rounds_ = n_round
        # The floor count at the end, under the r step's estimator.
        objective.likelihood.step_r = True
        objective.full(theta)
        self.n_guarded_ = int(objective.likelihood.n_guarded)
        return SolverResult(theta, n_iter, converged, message, stopped=result.stopped)

    def _finish_fit(self, objective, r_observed):
        p = self.params_
        self.rho_ = float(np.tanh(p.a)) if self._selection_modelled else float("nan")
        self.rho_se_ = float("nan")
        self.degenerate_ = None
        if self.likelihood != "mc":
            self.n_rounds_, self.n_guarded_ = 0, 0
        if not self._selection_modelled:
            self.degenerate_ = "every pair is observed, rho is not identified"
            return
        if self.fixed_rho is not None:
            return  # nothing left to report a standard error for
        if abs(self.rho_) > RHO_BOUNDARY:
            self._warn_degenerate(f"rho_ = {self.rho_:+.4f} is at the boundary +-1")
            return
        if self._wants_standard_errors():
            exact = PenalisedObjective(self._wrapped(BivariateProbitLikelihood("exact"),
                                                     self._pairs),
                                       self._layout,
                                       self._pairs, self.reg_factors, self.reg_bias,
                                       self.backend, self._frozen, self.reg_rho,
                                       self._precisions())
            var_a = self._profiled_cov(exact, ["a"])[0, 0]
            self.rho_se_ = float((1.0 - self.rho_**2) * np.sqrt(var_a))
            self._check_identification(exact, float(np.sqrt(var_a)))

    def _scalar_estimates(self):
        return [("rho", self.rho_, self.rho_se_)]

    def _pair_derivatives(self, pairs, p):
        """(g_o, g_r) -> the exact likelihood's per-pair (dl/dg_o, dl/dg_r) at rho_."""
        a = float(p.a)

        def derivatives(g_o, g_r):
            d_o, d_r = np.empty_like(g_o), np.empty_like(g_o)
            exact_terms(np.ascontiguousarray(g_o), np.ascontiguousarray(g_r), pairs.r,
                        pairs.o, a, d_o, d_r)
            return d_o, d_r

        return derivatives

    def _slice_derivatives(self, g_r, r, p):
        """d/dg_r and -d2/dg_r2 (central differences) of a MAR slice pair's log Phi(+-g_r)."""
        step = CURVATURE_STEP
        return binary_terms(g_r, r)[1], -(binary_terms(g_r + step, r)[1]
                                          - binary_terms(g_r - step, r)[1]) / (2 * step)

    def _draw_outcome(self, g_r, u):
        return self.classes_[(g_r + u > 0).astype(int)]

    # Prediction ----------------------------------------------------------
    def decision_function(self, X):
        """g_r(x): the outcome's latent index; positive means ``classes_[1]`` is more likely."""
        return self.decision_scores(X)[1]

    def predict_proba(self, X):
        """Columns P(r = classes_[0]), P(r = classes_[1]) had the pair been seen: 1 - Phi(g_r), Phi(g_r)."""
        p1 = ndtr(self.decision_function(X))
        return np.column_stack([1.0 - p1, p1])

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, accurate where a probability is tiny."""
        from scipy.special import log_ndtr

        g = self.decision_function(X)
        return np.column_stack([log_ndtr(-g), log_ndtr(g)])

    def predict(self, X):
        """The more likely label had the pair been seen (``classes_[1]`` where g_r > 0)."""
        check_is_fitted(self, "classes_")
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def score(self, X, y, o=None, sample_weight=None):
        """Mean exact log-likelihood per pair of (o, r) under the fitted model; higher is better.

        A proper scoring rule over all pairs, observed or not (accuracy on the
        observed pairs would itself be biased by the selection). ``o`` is
        routed by metadata routing; with ``o=None`` the observed pairs are
        those where ``y`` is not missing.

        Parameters
        ----------
        X : array-like or DataFrame
        y : array-like of labels (read only where ``o == 1``)
        o : array-like of 0/1, default=None
        sample_weight : array-like of shape (n_pairs,), default=None

        Returns
        -------
        float
        """
        check_is_fitted(self, "classes_")
        g_o, g_r = self.decision_scores(X)
        y, observed = _labels_and_observed(y, o)
        if y.shape[0] != g_o.shape[0]:
            raise ValueError(f"y has {y.shape[0]} rows but X has {g_o.shape[0]}")
        unknown = ~np.isin(y[observed], self.classes_)
        if unknown.any():
            raise ValueError(f"y holds labels not seen in fit: {np.unique(y[observed][unknown])[:5]}")
        r = np.zeros(g_o.shape[0])
        r[observed] = (y[observed] == self.classes_[1])
        if not self._selection_modelled:
            g_o, a = np.full_like(g_o, 40.0), 0.0  # selection not modelled
        else:
            a = float(self.params_.a)
        ll = _per_pair_exact(g_o, g_r, r, observed, a)
        return self._mean_loglik(ll, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.poor_score = True  # score() is a log-likelihood, not accuracy
        return tags


#: pandas' infer_dtype kinds of an object array that holds plain numbers.
NUMBER_KINDS = {"integer", "floating", "mixed-integer-float", "boolean"}


def _labels_and_observed(y, o):
    """(y as a 1-d array, observed mask), with every check fit and score share.

    ``o=None`` means observed where ``y`` is not missing (NaN / None).
    """
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    y = column_or_1d(y, warn=True)
    if o is None:
        return y, ~pd.isna(y)
    observed = column_or_1d(o)
    if observed.shape[0] != y.shape[0]:
        raise ValueError(f"o has {observed.shape[0]} rows but y has {y.shape[0]}")
    if observed.dtype.kind not in "biuf" or not np.all((observed == 0) | (observed == 1)):
        raise ValueError("o must be an observation indicator holding only 0/1 or False/True")
    observed = observed.astype(bool)
    if pd.isna(y[observed]).any():
        raise ValueError("y is missing (NaN / None) at observed pairs (o == 1); y may hold "
                         "anything only where o == 0")
    return y, observed


def _per_pair_exact(g_o, g_r, r, o, a):
    """Exact log-likelihood of each pair."""
    out = np.empty(g_o.shape[0])
    exact_per_pair(*(np.ascontiguousarray(v, dtype=float) for v in (g_o, g_r, r)),
                   np.ascontiguousarray(o, dtype=np.bool_), a, out)
    return out


__all__ = ["BivariateProbitMF"]
