"""Shared machinery of the matrix-factorisation selection estimators.

A subclass supplies the likelihood object (``_likelihood``), the start values
of its scalar parameters (``_init_scalars``) and what it reports after a fit
(``_finish_fit``); everything else (input handling, id encoding, the pair
index, solvers, scores at predict time) lives here.
"""

import functools
import os
import sys
import time
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted
from threadpoolctl import threadpool_limits

from .._array.heckman_continuous import mf_score, tile_scores
from .._array.unobserved import TILE_PAIRS
from ..debias._estimators import DEBIAS_LOSSES
from ..exceptions import DegenerateEstimateWarning, NotIdentifiedWarning
from ..inference import profiled_covariance, sandwich_block
# L-BFGS stops once |rho| passes RHO_STOP: the fit is running to the boundary, and
# where exactly it stops is no estimate (Coat ran 1000 iterations without this).
from ..inference._bootstrap import RHO_STOP
from ._combined import combined_likelihood
from ._complement import NO_ROBUST, WithComplement
from ._sampled import (UnobservedSample, WithSampledComplement, design_variance,
                       sample_generator)
from ._distributed import DaskLikelihood
from ._init import spectral_start
from ._input import (
    FeatureStandardiser,
    IdEncoder,
    checked_weights,
    encode_unbiased_slice,
    finite_unbiased_outcome,
    validate_X,
    validate_y_o,
)
from ._identification import structural_rho_se
from ._evidence import EVIDENCE_NEWTON_FACTORS, EVIDENCE_NEWTON_STEPS, newton_maximum
from ._laplace import (EVIDENCE_MAX, EVIDENCE_MIN, block_logdet, evidence_precisions,
                       pair_curvature, row_blocks, unlisted_selection_blocks)
from ._laplace_exact import exact_logdet_fits, exact_row_logdet, sampled_source
from ._layout import ParamLayout
from ._likelihood import BACKENDS, pair_scores
from ._objective import PenalisedObjective
from ._pairs import PairSet
from ._scaling import BlockScaling, DiagonalScaling
from ._solvers import SolverResult, adam, lbfgs
from ._unbiased import UnbiasedSlice, WithUnbiasedSlice


def blas_on_one_thread(method):
    """Run ``method`` with OpenBLAS (or MKL) limited to one thread.

    The fits alternate numba's parallel passes with small BLAS calls (L-BFGS's
    updates, CG's dot products). A multi-threaded BLAS keeps its threads spinning
    after each call, and they take the cores from numba's threads: measured by
    benchmarks/bench_fit.py on the 2-core machine, 2e6 pairs, L-BFGS fit 31.2 s ->
    15.6 s and its standard errors 10.8 s -> 6.2 s with BLAS on one thread (the
    vectors are too short to gain from more).
    """

    @functools.wraps(method)  # keeps the signature metadata routing reads
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return method(*args, **kwargs)

    return wrapper


_COMPILE_NOTE_SHOWN = False


def _say_when_compiling(verbose):
    """At verbose >= 1, say once per process that the kernels are being compiled.

    numba compiles them on the first fit after an install and caches them on disk
    (``cache=True``); without a note that first fit is 10-20 s of silence.
    """
    global _COMPILE_NOTE_SHOWN
    if not verbose or _COMPILE_NOTE_SHOWN:
        return
    _COMPILE_NOTE_SHOWN = True
    from .._kernels import CACHE_DIR, cache_is_warm

    if not cache_is_warm():
        where = f" (cached in {CACHE_DIR})" if CACHE_DIR else ""
        print("[heckrec] compiling the numba kernels: the first fit after an install takes "
              f"10-20 s longer; later processes load them from disk{where}", flush=True)


def user_stacklevel():
    """The ``stacklevel`` that points a warning at the first caller outside heckrec.

    The fits reach their warnings through wrappers and ``super().fit``, so a fixed
    stacklevel would name a line of heckrec instead of the user's ``fit`` call.
    """
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


#: |rho| beyond this is reported as a boundary (degenerate) estimate.
RHO_BOUNDARY = 0.99
#: A tenfold change of the penalties moving atanh(rho_) by more than this many of its
#: standard errors is reported as rho not identified by the data (NotIdentifiedWarning).
IDENTIFICATION_SHIFT = 2.0
#: The SE rho would have from the selection term's variation beyond the outcome's own
#: user and item effects (heckrec.models._identification); above this, a 95% interval
#: would span all of (-1, 1), and the fit warns that the design does not identify rho.
STRUCTURAL_SE_LIMIT = 1.0
#: Factors (both scores', in the fit's units) with an RMS below this are held at 0 by
#: reg_factors: the fit is a biases-only one (fits at the default 100 gave 1e-6 to 1e-4 on
#: simulated grids with factors of SD 0.7 to 1.5; the Yahoo-shaped log's 0.08 is not held).
FACTORS_HELD_AT_ZERO = 1e-3
#: rho_criterion="laplace": the rho grid climbed first, the tolerance of the search and the
#: bounds in a = atanh(rho) (rho +-0.995), and the step of the triplets behind the Newton
#: steps and the curvature behind rho_se_.
LAPLACE_GRID = np.array([-0.9, -0.6, -0.3, 0.0, 0.3, 0.6, 0.9])
LAPLACE_XATOL = 1e-2
LAPLACE_A_MAX = float(np.arctanh(0.995))
LAPLACE_STEP = 0.1
#: Newton steps on (a - LAPLACE_STEP, a, a + LAPLACE_STEP) triplets before Brent takes over.
LAPLACE_NEWTON_STEPS = 5
#: rho_criterion="evidence": MacKay rounds per evidence step (each a warm penalised fit),
#: their stopping rule (|change of log precision|), and the alternations of evidence
#: steps and rho searches.
EVIDENCE_ROUNDS = 30
EVIDENCE_LOG_TOL = 0.02
EVIDENCE_ALTERNATIONS = 3


def _log_change(new, old):
    """The largest |log(new / old)| over the prior groups of two sets of precisions."""
    return max(abs(np.log(new[g] / old[g])) for g in new)


def _reissue(caught):
    """Warn again each warning recorded by ``catch_warnings(record=True)``, where it was
    first raised (the user's line: the fit computed its stacklevel)."""
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


class SelectionMFBase(BaseEstimator):
    """Base class: MF scores g_o, g_r fitted jointly with correlated errors.

    Parameters are documented on the concrete estimators.
    """

    # ``o`` is requested by default, so Pipeline / GridSearchCV route it to
    # fit and score once metadata routing is enabled (GUIDE section 2).
    __metadata_request__fit = {"o": True, "X_unbiased": True, "y_unbiased": True}
    __metadata_request__score = {"o": True}

    _parameter_constraints = {
        "n_factors": [Interval(Integral, 0, None, closed="left")],
        "reg_factors": [Interval(Real, 0, None, closed="left")],
        "reg_bias": [Interval(Real, 0, None, closed="left")],
        "reg_rho": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"lbfgs", "adam"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"spectral", "random"})],
        # 0 would start the factors at exactly 0, a saddle the gradient never
        # leaves (../shared/reliability F10: converged_ True, factors all 0).
        "init_scale": [Interval(Real, 0, None, closed="neither")],
        "scaling": [StrOptions({"block", "diagonal"})],
        "backend": [StrOptions(set(BACKENDS) | {"dask"})],
        "compute_se": ["boolean"],
        "cov_type": [StrOptions({"hessian", "robust"})],
        "fixed_rho": [None, Interval(Real, -1, 1, closed="neither")],
        "warm_start": ["boolean"],
        "alpha": [Interval(Real, 0, 1, closed="right")],
        "debias_loss": [StrOptions(set(DEBIAS_LOSSES))],
        "propensity_clip": [Interval(Real, 0, 1, closed="right")],
        "selection_only": [None, "array-like"],
        "outcome_only": [None, "array-like"],
        "unobserved": [StrOptions({"listed", "complement", "sampled"})],
        "unobserved_ratio": [Interval(Real, 0, None, closed="neither")],
        "rho_search_pairs": [Interval(Integral, 1, None, closed="left"), None],
        "rho_criterion": [StrOptions({"penalised", "laplace", "evidence", "auto"})],
        "if_not_identified": [StrOptions({"fix", "estimate"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: Per-pair loss of g_r in the combined objective, and the outcome mean it imputes.
    _debias_pair_loss = "squared"

    def __init__(self, n_factors=8, *, reg_factors=100.0, reg_bias=1.0, reg_rho=0.0, solver="lbfgs",
                 max_iter=1000, tol=1e-7, learning_rate=0.01, batch_size=65536,
                 init="spectral", init_scale=0.1, scaling="block", backend="numba",
                 compute_se=True, cov_type="hessian", fixed_rho=None, warm_start=False,
                 alpha=1.0, debias_loss="naive", propensity_clip=0.05,
                 selection_only=None, outcome_only=None, unobserved="listed",
                 unobserved_ratio=10.0, rho_search_pairs=1_000_000, rho_criterion="auto",
                 if_not_identified="fix", random_state=None, verbose=0):
        self.n_factors = n_factors
        self.reg_factors = reg_factors
        self.reg_bias = reg_bias
        self.reg_rho = reg_rho
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.init = init
        self.init_scale = init_scale
        self.scaling = scaling
        self.backend = backend
        self.compute_se = compute_se
        self.cov_type = cov_type
        self.fixed_rho = fixed_rho
        self.warm_start = warm_start
        self.alpha = alpha
        self.debias_loss = debias_loss
        self.propensity_clip = propensity_clip
        self.selection_only = selection_only
        self.outcome_only = outcome_only
        self.unobserved = unobserved
        self.unobserved_ratio = unobserved_ratio
        self.rho_search_pairs = rho_search_pairs
        self.rho_criterion = rho_criterion
        self.if_not_identified = if_not_identified
        self.random_state = random_state
        self.verbose = verbose

    # ----------------------------------------------------------------- fit
    @blas_on_one_thread
    def fit(self, X, y, o=None, X_unbiased=None, y_unbiased=None):
        """Fit the selection model.

        Parameters
        ----------
        X : array-like of shape (n_pairs, 2 + n_features) or DataFrame
            Column 0 is the user id, column 1 the item id (any labels in a
            DataFrame, numbers in an array), further columns side features.
        y : array-like of shape (n_pairs,)
            The outcome ``r``. Only read where ``o == 1``; anything (NaN, 0,
            -inf) may stand where ``o == 0``.
        o : array-like of shape (n_pairs,) of 0/1, default=None
            Observation indicator. ``None`` means ``o = ~isnan(y)``.
        X_unbiased, y_unbiased : array-like or DataFrame, default=None
            A few pairs exposed at random (a MAR slice: not chosen by the user)
            and their outcomes, in X's format; their ids must appear in ``X``.
            They enter the likelihood through the outcome's density alone, which
            anchors g_r's level and so identifies rho by the level difference
            between chosen and random pairs (see :mod:`heckrec.models._unbiased`).

        Returns
        -------
        self
        """
        self._validate_params()  # sklearn: every hyper-parameter against _parameter_constraints
        criterion = self._resolved_rho_criterion()
        self._auto_penalised = None
        self._se_carries_rho = False  # set by _carry_rho_uncertainty
        if criterion == "penalised" and self._evidence_may_follow():
            criterion = self._fit_penalised_then_evidence(X, y, o, X_unbiased, y_unbiased)
        else:
            self._fit_by(criterion, X, y, o, X_unbiased, y_unbiased)
        # (after the fit: the marginal search copies its inner estimator's state)
        self.rho_criterion_ = criterion
        return self

    def _evidence_may_follow(self):
        """Whether ``"auto"`` may move from the penalised fit to the evidence: a free
        rho, standard errors (which measure the penalty shift) from the Hessian (the
        evidence has no sandwich), and the settings the evidence is written for.

        From a sample of the unlisted pairs too: the sample pulls the evidence's rho
        towards 0 with factors, but less than the penalties push the penalised fit's
        away on every log measured (truth 0.5, both from a sample at ratio 10: 0.431
        against 0.630 at 20 ratings per user, 0.462 against 0.601 on the 1e9-pair
        universe; docs/scaling.md)."""
        return (self.rho_criterion == "auto" and self.fixed_rho is None
                and self.compute_se and self.cov_type == "hessian"
                and self._evidence_written_for())

    def _evidence_written_for(self):
        """Whether the evidence is written for these settings: no prior on rho, the exact
        likelihood, and ``_laplace_requirements`` (the shared test of both of "auto"'s
        routes to it)."""
        return (self.reg_rho == 0.0 and getattr(self, "likelihood", "exact") == "exact"
                and all(value in allowed
                        for _, value, allowed in self._laplace_requirements()))

    def _fit_penalised_then_evidence(self, X, y, o, X_unbiased, y_unbiased):
        """``"auto"`` where it starts penalised: the penalised fit, kept unless its rho_
        reflects the penalties on a design that identifies rho
        (:meth:`_penalties_move_rho`); then the evidence refits, and its fit and
        warnings are the user's. Returns the criterion used.

        On a Yahoo-shaped log (rank 4, true rho 0.5) the penalised fit gives 0.826, 145
        SEs of shift; the default then gives the evidence's 0.484 +- 0.004 in about six
        times its time (docs/benchmarks.md). Where the design does not identify rho
        (Coat) nothing changes.

        Where the evidence would search on a subset of the users (``rho_search_pairs``),
        the penalised fit that decides is of such a subset too, and the whole log is
        fitted once, by the criterion chosen: on the 1e9-pair universe a penalised fit
        of the whole log takes 17 minutes, the deciding fit of the subset about 40 s and the
        evidence's search and final fit 16 minutes (docs/benchmarks.md). The subset's
        SEs are wider than the whole log's, so its shift in SEs and its design rule
        (``rho_structural_se_``) understate the whole's: where the subset alone would
        not identify rho the whole log's penalised fit is kept, as before the search
        had subsets (on a 300 x 200 log cut to 5,045 pairs the structural SE was 1.23,
        the whole log's 0.50; tests/test_sampled.py uses 8,014, 0.74).
        """
        whole = (X, y, o, X_unbiased, y_unbiased)
        seed = self.random_state if isinstance(self.random_state, Integral) else None
        decides, n_decides = self._search_data(*whole, seed=seed)
        on_subset = n_decides < _num_samples(X)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self._fit_by("penalised", *decides)
        reason = self._penalties_move_rho()
        if reason is None:
            if on_subset:
                self._fit_by("penalised", *whole)  # (its warnings are the user's)
            else:
                _reissue(caught)
            return "penalised"
        if on_subset:
            reason += f" (a fit of {n_decides} of the log's pairs, by rho_search_pairs)"
        # (from the start, not from the penalised solution: on a 600 x 300 rank-2 grid
        # that warm start took 28 s against 19 s, measured)
        self._fit_by("evidence", X, y, o, X_unbiased, y_unbiased)
        self.n_laplace_fits_ += 1  # the penalised fit it started from
        self._auto_penalised = reason  # for summary(): why the evidence was used
        return "evidence"

    def _penalties_move_rho(self):
        """Why the penalised fit's rho_ reflects its penalties more than the data, on a
        design that identifies rho (``rho_structural_se_`` at most STRUCTURAL_SE_LIMIT,
        no anchors), or None.

        Either the first-order ``rho_penalty_shift_`` is above IDENTIFICATION_SHIFT, or
        reg_factors held the factors at 0 (their RMS below FACTORS_HELD_AT_ZERO): the
        fit is then a biases-only model whatever rank was asked for, and the first-order
        shift cannot see what a weaker penalty would do (the factors' part of it is 0 at
        0). On the 200 x 150 rank-1 design of docs/inference.md the default penalty held
        the factor at 0 and that fit's Wald interval covered 0.55 to 0.85; a rule that
        also asked for a refit at reg_factors / 10 to move rho_ by 2 SEs left 0.55 at
        rho 0.4 (benchmarks/results/coverage_mf_auto_probe.json).
        """
        if not (self.rho_structural_se_ <= STRUCTURAL_SE_LIMIT
                and not self._identified_beyond_shape()):
            return None
        if self.rho_penalty_shift_ > IDENTIFICATION_SHIFT:
            return (f"the penalised fit's rho ({self.rho_:+.3f}) moved "
                    f"{self.rho_penalty_shift_:.1f} of its SEs with a tenfold change of the "
                    f"penalties (first order)")
        factors = np.concatenate([self.theta_[self._layout.prior_groups()[f"factors_{s}"]]
                                  for s in ("o", "r")])
        if factors.size and np.sqrt(np.mean(factors**2)) < FACTORS_HELD_AT_ZERO:
            return (f"the penalised fit's reg_factors ({self.reg_factors:g}) held its "
                    f"rank-{self.n_factors} factors at 0, so its rho ({self.rho_:+.3f}) was a "
                    f"biases-only model's")
        return None

    #: Whether ``"auto"`` starts a biases-only model with the evidence (measured for the
    #: binary model, docs/inference.md) rather than the penalised fit.
    _auto_evidence_biases_only = False

    def _resolved_rho_criterion(self):
        """``rho_criterion`` with ``"auto"`` resolved before the fit: the evidence
        (marginal likelihood, precisions chosen from the data) for a biases-only model
        where the class says so (``_auto_evidence_biases_only``) on the settings it is
        written for, where it costs a few fits; else the penalised likelihood (with
        factors the evidence costs about 20 fits: docs/benchmarks.md), which the evidence
        may then replace (:meth:`_fit_penalised_then_evidence`)."""
        if self.rho_criterion != "auto":
            return self.rho_criterion
        written_for = (self.n_factors == 0 and self._auto_evidence_biases_only
                       and self._evidence_written_for())
        return "evidence" if written_for else "penalised"

    def _fit_by(self, criterion, X, y, o, X_unbiased, y_unbiased):
        """The fit under a resolved ``rho_criterion``, then the design's identification
        rule (``if_not_identified``) for a free rho."""
        if criterion != "penalised":
            self._check_laplace(criterion)
        if criterion == "evidence" or (criterion == "laplace" and self.fixed_rho is None):
            fit_once = functools.partial(self._fit_rho_by_marginal, criterion=criterion)
        else:
            fit_once = self._fit_penalised
        if self.if_not_identified == "estimate" or self.fixed_rho is not None:
            return fit_once(X, y, o, X_unbiased, y_unbiased)
        # The free fit's warnings wait until it is known whether rho is identified: if
        # not, that fit (and its degenerate or NotIdentified report) is not returned.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit_once(X, y, o, X_unbiased, y_unbiased)
        if self._identified_beyond_shape() or not self.rho_structural_se_ > STRUCTURAL_SE_LIMIT:
            _reissue(caught)
            return self
        # held at 0: the evidence still chooses the precisions there (at that rho)
        return self._fit_rho_held_at_zero(
            X, y, o, fit_once if criterion == "evidence" else self._fit_penalised)

    def _fit_rho_held_at_zero(self, X, y, o, fit_at_fixed_rho):
        """Refit with rho held at 0 after a free fit whose rho the design cannot identify
        (``rho_structural_se_`` above STRUCTURAL_SE_LIMIT): the outcome model a MAR
        analysis fits, with rho_ and rho_se_ NaN and a NotIdentifiedWarning.

        The free fit's rho rests on the errors' normal shape and the penalties alone, and
        its predictions move with it: on Coat's 1-5 ratings to a mean of 2.85 (MAR truth
        2.23, the naive fit 2.55), on its binary ratings to rho = -1 (docs/model.md).
        """
        free_rho, structural_se = self.rho_, self.rho_structural_se_
        self.fixed_rho = 0.0  # restored below: a user's parameter is never left changed
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit_at_fixed_rho(X, y, o, None, None)
        finally:
            self.fixed_rho = None
        _reissue(caught)
        self.rho_, self.rho_se_ = float("nan"), float("nan")
        self.rho_free_, self.rho_structural_se_ = free_rho, structural_se
        warnings.warn(
            f"rho is not identified by the design of these data, so it was not estimated: "
            f"the outcome's own user and item effects reproduce the selection term "
            f"lambda(g_o) on the observed pairs so closely that rho's standard error would "
            f"be at least {structural_se:.3g} (rho_structural_se_) without the normal shape "
            f"of the errors, and the free fit's rho ({free_rho:+.3f}, rho_free_) rests on "
            f"that shape and the penalties. The model was refitted with rho held at 0 "
            f"(ignorable selection: the outcome model a MAR analysis fits); rho_ and rho_se_ "
            f"are NaN. Pass X_unbiased / y_unbiased (a few randomly exposed pairs) or an "
            f"exclusion restriction (selection_only) to identify rho, or "
            f"if_not_identified='estimate' for the free fit (docs/model.md, Coat).",
            NotIdentifiedWarning, stacklevel=user_stacklevel())
        return self

    def _fit_penalised(self, X, y, o, X_unbiased, y_unbiased):
        """The penalised-likelihood fit (rho free, or held at ``fixed_rho``)."""
        for name in ("n_factors", "max_iter", "batch_size"):
            # sklearn counts bool as Integral; True would crash deep in the fit.
            if isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be an integer, got {getattr(self, name)!r}")
        users_raw, items_raw, F = validate_X(self, X, reset=True)
        y, o = validate_y_o(y, o, F.shape[0])
        _say_when_compiling(self.verbose)
        # Side features standardised too: weights and means are unpenalised, so this
        # only conditions the fit; params_ map back to the raw features.
        self._features = FeatureStandardiser().fit(F)
        self.feature_loc_, self.feature_scale_ = self._features.loc_, self._features.scale_
        F = self._features.transform(F)
        # The fit runs on the outcome in standard units (continuous model), so the
        # penalties mean the same whatever the outcome's units; params_ are mapped back.
        y_fit = self._standardise_outcome(y, o)
        previous = self._previous_solution()
        self.user_encoder_ = IdEncoder().fit(users_raw)
        self.item_encoder_ = IdEncoder().fit(items_raw)
        complement = self.unobserved in ("complement", "sampled")
        if complement:
            self._check_log(o, F.shape[1])
        pairs = PairSet(self.user_encoder_.codes_, self.item_encoder_.codes_, y_fit, o, F,
                        self.user_encoder_.n, self.item_encoder_.n, complement=complement)
        if self.unobserved == "sampled":  # before the likelihood: dask partitions it
            pairs.sample = UnobservedSample.draw(pairs, self.unobserved_ratio,
                                                 sample_generator(self.random_state))
        self.n_sampled_ = pairs.sample.n_draws if pairs.sample is not None else 0
        self._unbiased = self._unbiased_slice(X_unbiased, y_unbiased)
        self.n_unbiased_ = 0 if self._unbiased is None else self._unbiased.n_pairs
        plain_likelihood = self._likelihood()
        if self.backend == "dask":
            self._check_dask()
        likelihood = self._wrapped(plain_likelihood, pairs)
        layout = ParamLayout(pairs.n_users, pairs.n_items, self.n_factors, F.shape[1],
                             likelihood.scalars)
        rng = check_random_state(self.random_state)
        theta0 = self._initial_theta(layout, pairs, rng)
        if previous is not None:
            theta0 = self._warm_theta(previous, layout, theta0)
        frozen = self._excluded_weights(layout, F.shape[1])
        if frozen is not None:
            theta0[frozen] = 0.0
        everything_observed = o.all() and pairs.n_unlisted == 0
        self._selection_modelled = not everything_observed
        if self.fixed_rho is not None:
            # rho held where the user put it: a restricted fit (profile, LR test).
            frozen = np.zeros(layout.size, dtype=bool) if frozen is None else frozen
            frozen[layout.index("a")] = True
            theta0[layout.index("a")] = np.arctanh(self.fixed_rho)
        if everything_observed:
            warnings.warn("every pair is observed (o == 1 everywhere): there is no selection "
                          "to model, so only the outcome equation is fitted and rho_ is NaN",
                          DegenerateEstimateWarning, stacklevel=user_stacklevel())
            frozen = np.zeros(layout.size, dtype=bool) if frozen is None else frozen
            theta0[layout.index("a")] = 0.0
            for name in layout.shapes:
                if name.endswith("_o") or name == "a":
                    frozen[layout.slices[name]] = True
            theta0[layout.slices["mu_o"]] = 8.0  # Phi(8) = 1 - 6e-16: everything observed
        objective = PenalisedObjective(likelihood, layout, pairs, self.reg_factors,
                                       self.reg_bias, self.backend, frozen, self.reg_rho,
                                       self._precisions())
        warm = self._warm_up(objective, theta0, rng)
        if warm is not None and warm.stopped:
            # The warm-up ran rho to the boundary: no L-BFGS from there.
            result = SolverResult(warm.theta, 0, False, warm.message, stopped=True)
        else:
            theta0 = theta0 if warm is None else warm.theta
            result = self._solve(objective, theta0,
                                 self._scaling(layout, pairs, theta0, objective))
        n_warm = 0 if warm is None else warm.n_iter
        n_likelihood_iter = result.n_iter
        if self.alpha < 1.0 and result.stopped:
            warnings.warn("the likelihood fit stopped at the rho boundary, so the combined "
                          "objective (alpha < 1) was not fitted: the parameters are the "
                          "likelihood fit's", DegenerateEstimateWarning,
                          stacklevel=user_stacklevel())
        elif self.alpha < 1.0:
            # The paper's combined objective, from the likelihood fit, whose Phi(g_o) and
            # outcome mean give the debiasing loss its propensities and imputations.
            combined = combined_likelihood(likelihood, self.alpha, self.debias_loss,
                                           self._debias_pair_loss, self._outcome_mean,
                                           self.propensity_clip, result.theta, layout, pairs)
            objective = PenalisedObjective(combined, layout, pairs, self.reg_factors,
                                           self.reg_bias, self.backend, frozen, self.reg_rho,
                                           self._precisions())
            result = self._solve(objective, result.theta, self._scaling(layout, pairs,
                                                                        result.theta, objective))
            result.n_iter += n_likelihood_iter
        self.n_epochs_ = n_warm if self.solver == "adam" else 0
        self.n_sweeps_ = n_warm if self.solver == "block-newton" else 0
        if not result.converged and not result.stopped:
            # (a stop at the rho boundary is reported by the degenerate-fit warning)
            warnings.warn(f"{type(self).__name__} did not converge in {result.n_iter} "
                          f"iterations ({result.message}); increase max_iter or check the data",
                          ConvergenceWarning, stacklevel=user_stacklevel())
        self.theta_ = result.theta  # in the fit's (standardised) units
        self.params_ = self._in_user_units(self._features_in_user_units(
            layout.unpack(self.theta_.copy())))
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.convergence_message_ = result.message
        self.n_pairs_, self.n_observed_ = pairs.n_total, int(o.sum())
        self._n_rows = pairs.n_pairs  # rows of X (the log only, for a complement fit)
        self.n_users_, self.n_items_ = pairs.n_users, pairs.n_items
        reported = self._wrapped(self._reported_likelihood(plain_likelihood), pairs)
        # loglik_ in the user's units: the outcome densities' Jacobian of standardising.
        self.loglik_ = (float(reported.loglik_grad(self.theta_, layout, pairs, self.backend)[0])
                        - self._log_jacobian(int(o.sum()) + self.n_unbiased_))
        self.objective_ = (objective.penalty_value(self.theta_) - self.loglik_ if self.alpha == 1.0
                           else objective.full(self.theta_)[0])
        self._layout, self._frozen, self._pairs = layout, frozen, pairs
        self.se_info_ = {}  # filled when standard errors are computed
        self._inverse_columns = {}
        self.rho_penalty_shift_ = float("nan")  # set by _check_identification
        self._penalty_shift_a = float("nan")
        self._finish_fit(objective, y[o])
        self._check_structure()
        self._warn_penalty_shift()
        self.prior_precisions_ = dict(self._precisions() or self._default_precisions())
        self.laplace_hessian_ = None  # set by _log_marginal
        self.log_marginal_ = (self._log_marginal(objective)
                              if self._resolved_rho_criterion() != "penalised"
                              else float("nan"))
        # only needed during fit; keeps the fitted estimator small
        del self._pairs, self._unbiased, self._inverse_columns
        return self

    # ------------------------------------------- rho by the marginal likelihood
    def _precisions(self):
        """The evidence's per-group precisions while it searches (set on its inner
        estimator only), else None: reg_factors and reg_bias apply."""
        return getattr(self, "_prior_precisions", None)

    def _default_precisions(self):
        """reg_factors and reg_bias as the precisions of ``ParamLayout.prior_groups``."""
        return {f"{part}_{tag}": float(self.reg_factors if part == "factors" else self.reg_bias)
                for tag in ("o", "r") for part in ("bu", "bi", "factors")}

    def _laplace_requirements(self):
        """(name, value, allowed values) of the settings the marginal likelihood is
        written for: its row blocks sum every pair's curvature in-process, the listed
        pairs one by one, the log's complement by tiles and a sample of it by its
        weighted draws."""
        return (("unobserved", self.unobserved, ("listed", "complement", "sampled")),
                ("alpha", self.alpha, (1.0,)), ("backend", self.backend, ("numba",)))

    def _check_laplace(self, criterion):
        """The settings ``rho_criterion="laplace"`` (and ``"evidence"``) is written for."""
        for name, value, allowed in self._laplace_requirements():
            if value not in allowed:
                raise ValueError(f"rho_criterion={criterion!r} needs {name} in "
                                 f"{allowed!r} (the "
                                 f"marginal likelihood's row blocks are summed over every "
                                 f"pair of the plain likelihood in-process), got {value!r}")

    def _fit_rho_by_marginal(self, X, y, o, X_unbiased, y_unbiased, criterion):
        """rho_ maximising the Laplace marginal likelihood (heckrec.models._laplace).

        Each evaluation is a penalised fit at a fixed a = atanh(rho), warm-started from
        the last: a climb of a grid over rho in +-0.9 from 0, then Newton steps on
        triplets a +- LAPLACE_STEP (:meth:`_search_rho`), whose last gives the curvature
        behind rho_se_. With
        ``rho_criterion="evidence"`` the penalties are first moved towards the evidence's
        stationary point at the current rho (MacKay's updates), and evidence steps and
        rho searches alternate until the penalties settle; a later search starts
        from the last one's rho. On a biases-only model, Newton steps over rho and the
        precisions together then take that point to the evidence's maximum
        (:meth:`_maximise_evidence`), whose Hessian gives rho_se_; with factors they are
        not taken (see ``EVIDENCE_NEWTON_FACTORS``).
        """
        inner = clone(self).set_params(fixed_rho=0.0 if self.fixed_rho is None
                                       else self.fixed_rho, warm_start=True,
                                       compute_se=False, rho_criterion="laplace")
        for name in ("classes_", "_draws"):  # set by a subclass's fit before this one
            if hasattr(self, name):
                setattr(inner, name, getattr(self, name))
        if self.unobserved == "sampled" and not isinstance(self.random_state, Integral):
            # log m at two rhos compares fits of one data set: every fit of the search
            # draws the same sample of the unlisted pairs
            inner.set_params(random_state=int(check_random_state(self.random_state)
                                              .randint(2**31 - 1)))
        evidence = criterion == "evidence"
        n_fits = 0
        searched_on, n_search_pairs = self._search_data(X, y, o, X_unbiased, y_unbiased,
                                                        inner.random_state)
        scalars_at = {}  # a: the fit's theta at a, scalars only (for _carry_rho_uncertainty)

        def fit_at(a):
            nonlocal n_fits
            inner.set_params(fixed_rho=float(np.tanh(a)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the final fit reports its own
                SelectionMFBase.fit(inner, *searched_on)
            n_fits += 1
            scalars_at[a] = {name: float(inner.theta_[inner._layout.index(name)])
                             for name in inner._layout.scalars}
            return inner.log_marginal_

        if evidence:  # start from the hyper-parameters, one precision per prior group
            inner._prior_precisions = self._default_precisions()

        def evidence_step(a):
            """MacKay rounds at a fixed a; True if the precisions moved."""
            moved = False
            for _ in range(EVIDENCE_ROUNDS):
                fit_at(a)
                # the updates need the blocks' variances only: log m may be NaN where H_rows
                # whole is not positive definite (a fit at a prior the last update made
                # too weak, short of its minimum) and the next update moves the prior back
                if not np.isfinite(inner._row_variances).any():
                    break  # a row block is not positive definite: keep the last precisions
                old = inner._prior_precisions
                new = evidence_precisions(inner.theta_, inner._row_variances, inner._layout,
                                          old)
                inner._prior_precisions = new
                change = _log_change(new, old)
                moved |= change > 5 * EVIDENCE_LOG_TOL
                if change < EVIDENCE_LOG_TOL:
                    break
            else:
                last = ", ".join(f"{g} {v:.3g}" for g, v in inner._prior_precisions.items())
                warnings.warn(f"the evidence updates of the prior precisions did not settle "
                              f"in {EVIDENCE_ROUNDS} rounds (last: {last})",
                              ConvergenceWarning, stacklevel=user_stacklevel())
            return moved

        free = self.fixed_rho is None
        information = None
        if not free:  # "evidence" at a given rho: the penalties only
            a_hat = float(np.arctanh(self.fixed_rho))
            evidence_step(a_hat)
        else:
            a_hat = 0.0
            for alternation in range(EVIDENCE_ALTERNATIONS if evidence else 1):
                if evidence and not evidence_step(a_hat) and alternation > 0:
                    break  # the penalties stayed where the last search had them
                # (later searches start from the last one's a: the precisions moved little)
                profile, searched, a_hat = self._search_rho(fit_at,
                                                            a_hat if alternation else None)
                searched_under = inner._precisions()  # (replaced, never changed in place)
        if evidence:
            newton = self.n_factors == 0 or EVIDENCE_NEWTON_FACTORS
            if newton:  # from MacKay's point to the evidence's maximum (_evidence)
                a_hat, information = self._maximise_evidence(inner, fit_at, a_hat, free)
            # the profile at the chosen precisions and rho (a few fits: rho_ is near),
            # unless the last search already ran there, up to the updates' own tolerance
            # (at the Yahoo shape three fits: the default 311 -> 256 s, bench_scale.py)
            if free and (newton or _log_change(inner._prior_precisions,
                                               searched_under) >= EVIDENCE_LOG_TOL):
                profile, searched, a_hat = self._search_rho(fit_at, a_hat)
        if free:
            at_boundary = abs(a_hat) > LAPLACE_A_MAX - 10 * LAPLACE_XATOL
            curvature = float("nan")
            if not at_boundary and self.compute_se and information is None:
                h = LAPLACE_STEP
                for a in (a_hat + h, a_hat - h):
                    if a not in profile:
                        profile[a] = fit_at(a)
                curvature = (profile[a_hat + h] - 2 * profile[a_hat]
                             + profile[a_hat - h]) / h**2
            elif information is not None:  # the joint information's, in atanh(rho)
                curvature = 1.0 / np.linalg.inv(information)[0, 0]
        # The final fit at a_hat, in view: its warnings are the user's. It also measures
        # what the design leaves for rho (rho_structural_se_), as a free fit does. After a
        # search on a subset of the users it fits the whole log, started from the
        # subset's rows and globals (_warm_theta).
        inner.set_params(fixed_rho=float(np.tanh(a_hat)), compute_se=self.compute_se)
        inner._structure_at_fixed_rho = self.fixed_rho is None
        SelectionMFBase.fit(inner, X, y, o, X_unbiased, y_unbiased)
        params = self.get_params(deep=False)
        # (not the search's own state: a refit of self starts from its parameters)
        vars(self).update({k: v for k, v in vars(inner).items()
                           if k not in params and k not in ("_prior_precisions",
                                                             "_row_variances",
                                                             "_structure_at_fixed_rho")})
        self.n_laplace_fits_ = n_fits + 1
        self.n_search_pairs_ = n_search_pairs
        # whether rho_se_ counts the precisions' uncertainty (for summary())
        self._rho_se_joint = information is not None
        if self.fixed_rho is not None:
            return self
        self.rho_ = self.rho_free_ = float(np.tanh(a_hat))
        self.rho_se_ = float("nan")
        self.rho_penalty_shift_ = float("nan")
        self.laplace_profile_ = np.array(sorted((float(np.tanh(a)), v)
                                                for a, v in profile.items()))
        self.converged_ = bool(self.converged_ and searched)
        if at_boundary:
            self._warn_degenerate(f"the Laplace marginal likelihood rises to the boundary "
                                  f"(rho_ = {self.rho_:+.4f})")
        elif self.compute_se:
            if curvature < 0:
                self.rho_se_ = float((1.0 - self.rho_**2) / np.sqrt(-curvature))
                self._carry_rho_uncertainty(scalars_at, a_hat, -1.0 / curvature)
            else:
                warnings.warn("the Laplace marginal likelihood is not concave at its maximum "
                              f"(curvature {curvature:.3g} in atanh(rho)), so rho_se_ is NaN",
                              DegenerateEstimateWarning, stacklevel=user_stacklevel())
        return self

    def _carry_rho_uncertainty(self, scalars_at, a_hat, var_a):
        """Where the marginal likelihood chose rho, the final fit's SEs hold rho at rho_;
        a subclass adds what rho's uncertainty (``var_a``, in atanh(rho)) carries into
        its other scalars' (``scalars_at``: each search fit's, by a). Nothing here."""

    def _search_data(self, X, y, o, X_unbiased, y_unbiased, seed):
        """What the marginal likelihood's search fits: the arguments of ``fit`` and how
        many logged pairs they hold.

        The whole log, but with ``unobserved="sampled"`` on a log of more than
        ``rho_search_pairs`` pairs, a random subset of its users (drawn from ``seed``)
        whose pairs first reach that many, with the MAR slice's pairs of those users.
        The search's fits (about 20) then cost what a fit of that subset costs; on the
        1e9-pair universe a search of the whole log would take about 2 hours
        (docs/benchmarks.md).
        """
        whole = (X, y, o, X_unbiased, y_unbiased)
        limit = self.rho_search_pairs
        if self.unobserved != "sampled" or limit is None or _num_samples(X) <= limit:
            return whole, _num_samples(X)
        users = validate_X(self, X, reset=True)[0]
        codes, ids = pd.factorize(users)
        order = np.random.default_rng(seed).permutation(ids.size)
        # the fewest users, in random order, whose pairs reach the limit
        n_chosen = int(np.searchsorted(np.cumsum(np.bincount(codes)[order]), limit)) + 1
        chosen = np.zeros(ids.size, dtype=bool)
        chosen[order[:n_chosen]] = True
        rows = np.flatnonzero(chosen[codes])
        subset = [_safe_indexing(X, rows), _safe_indexing(y, rows),
                  None if o is None else _safe_indexing(o, rows), None, None]
        if X_unbiased is not None:
            slice_users = validate_X(self, X_unbiased, reset=False)[0]
            in_subset = np.flatnonzero(pd.Index(ids[chosen]).get_indexer(slice_users) >= 0)
            if in_subset.size:
                subset[3:] = (_safe_indexing(X_unbiased, in_subset),
                              _safe_indexing(y_unbiased, in_subset))
        return tuple(subset), rows.size

    @staticmethod
    def _maximise_evidence(inner, fit_at, a_hat, free):
        """From MacKay's point to the evidence's maximum over a = atanh(rho) (where it is
        free) and the log of every precision that has parameters and is inside the
        evidence's bounds (heckrec.models._evidence). Leaves ``inner`` fitted at the
        maximum, under its precisions. Returns a and the Hessian of log m there when it
        is negative definite (the observed information behind rho_se_), else None."""
        start = dict(inner._prior_precisions)
        movable = [g for g, index in inner._layout.prior_groups().items()
                   if index.size and EVIDENCE_MIN < start[g] < EVIDENCE_MAX]

        def log_m(x):
            a = float(np.clip(x[0], -LAPLACE_A_MAX, LAPLACE_A_MAX)) if free else a_hat
            moved = {g: float(np.clip(np.exp(v), EVIDENCE_MIN, EVIDENCE_MAX))
                     for g, v in zip(movable, x[int(free):])}
            inner._prior_precisions = {**start, **moved}
            return fit_at(a)

        x0 = np.array(([a_hat] if free else []) + [np.log(start[g]) for g in movable])
        if x0.size == 0:
            return a_hat, None
        x, hessian, converged = newton_maximum(log_m, x0)
        log_m(x)
        if not converged:
            warnings.warn(f"the evidence's Newton steps over {'rho and ' if free else ''}"
                          f"the prior precisions did not settle in {EVIDENCE_NEWTON_STEPS}"
                          " steps; the last point is kept", ConvergenceWarning,
                          stacklevel=user_stacklevel())
        negative_definite = hessian is not None and np.linalg.eigvalsh(hessian).max() < 0
        a = float(np.clip(x[0], -LAPLACE_A_MAX, LAPLACE_A_MAX)) if free else a_hat
        return a, (hessian if negative_definite and free else None)

    @staticmethod
    def _search_rho(log_marginal_at, around=None):
        """a = atanh(rho) maximising log m, by the fewest penalised fits we could manage.

        1. Climb LAPLACE_GRID from its centre: fit a point's neighbours and move to the
           better one until neither is better. The far points (the costliest fits) are
           fitted only where log m still rises towards them; on a profile with one
           maximum on the grid this stops at the best grid point.
        2. Newton steps on triplets (a - h, a, a + h), h = LAPLACE_STEP, from the vertex
           of the parabola through the best grid point and its neighbours, until a step
           is below LAPLACE_XATOL. The last triplet is centred on the answer, so it also
           gives the curvature behind rho_se_ without more fits.
        3. Where that fails (a triplet not concave or not finite, no convergence in
           LAPLACE_NEWTON_STEPS, a best grid point at an end, where log m may rise to the
           boundary): bounded Brent between the best grid point's neighbours.

        ``around``: a previous search's a, under prior precisions that have since moved
        a little; step 2 is tried from there first, and the grid only if it fails.

        Returns the profile {a: log m}, whether the search converged, and the best a.
        """
        profile = {}
        h = LAPLACE_STEP

        def log_marginal(a):
            a = float(np.clip(a, -LAPLACE_A_MAX, LAPLACE_A_MAX))
            if a not in profile:
                profile[a] = log_marginal_at(a)
            return profile[a]

        def newton(centre):
            """The centre of a triplet whose Newton step is below tolerance, or None."""
            for _ in range(LAPLACE_NEWTON_STEPS):
                if abs(centre) + h > LAPLACE_A_MAX:
                    return None
                # the centre last: the fit then holds its state, from which the evidence's
                # next precision update and the final fit start (a few iterations each)
                low, high = log_marginal(centre - h), log_marginal(centre + h)
                mid = log_marginal(centre)
                curvature = (low - 2.0 * mid + high) / h**2
                if not (np.isfinite(curvature) and curvature < 0):
                    return None
                step = float(np.clip(-(high - low) / (2.0 * h) / curvature, -2 * h, 2 * h))
                if abs(step) < LAPLACE_XATOL:
                    return centre
                centre += step
            return None

        if around is not None and (found := newton(around)) is not None:
            return profile, True, found
        grid = np.arctanh(LAPLACE_GRID)

        def value(j):
            v = log_marginal(grid[j])
            return v if np.isfinite(v) else -np.inf

        best = int(np.argmin(np.abs(grid)))
        while True:
            neighbours = [j for j in (best - 1, best + 1) if 0 <= j < grid.size]
            step = max(neighbours, key=value)
            if value(step) <= value(best):
                break
            best = step
        if not np.isfinite(value(best)):  # no finite point near the centre: every point
            best = max(range(grid.size), key=value)
            if not np.isfinite(value(best)):
                raise FloatingPointError("the Laplace marginal likelihood is not finite at "
                                         "any rho of the grid (a row block is not positive "
                                         "definite)")
        if 0 < best < grid.size - 1:
            x, y = grid[best - 1:best + 2], [value(j) for j in (best - 1, best, best + 1)]
            d1, d2 = (y[1] - y[0]) / (x[1] - x[0]), (y[2] - y[1]) / (x[2] - x[1])
            if np.all(np.isfinite(y)) and d2 < d1:  # concave: the parabola has a vertex
                # (x unevenly spaced)
                vertex = 0.5 * (x[0] + x[1]) - d1 * (x[2] - x[0]) / (2.0 * (d2 - d1))
                if (found := newton(float(np.clip(vertex, x[0], x[2])))) is not None:
                    return profile, True, found
        low = grid[best - 1] if best > 0 else -LAPLACE_A_MAX
        high = grid[best + 1] if best < grid.size - 1 else LAPLACE_A_MAX
        result = minimize_scalar(lambda a: -log_marginal(a), bounds=(low, high),
                                 method="bounded", options={"xatol": LAPLACE_XATOL})
        finite = {a: v for a, v in profile.items() if np.isfinite(v)}
        return profile, bool(result.success), max(finite, key=finite.get)

    def _log_marginal(self, objective):
        """log m(a) at this fit: -F - 1/2 log det H_rows + 1/2 sum of the log prior
        precisions (heckrec.models._laplace). H_rows is taken whole, cross terms and all,
        where one side of the grid is small enough (heckrec.models._laplace_exact), else
        by its diagonal blocks; ``laplace_hessian_`` says which. Keeps the blocks'
        posterior variances in ``_row_variances`` for the evidence updates."""
        p, pairs = self._layout.unpack(self.theta_), self._pairs
        g_o, g_r = pair_scores(self.theta_, self._layout, pairs)
        derivatives = self._pair_derivatives(pairs, p)
        listed = (pairs.users, pairs.items, *pair_curvature(derivatives, g_o, g_r))
        d_o, d_r = derivatives(g_o, g_r)
        sources = [(*listed, -d_o, -d_r)]  # e = -d loglik / dg, for the cross terms
        extra = None
        if self._unbiased is not None:
            u = self._unbiased
            d_slice, w_slice = self._slice_derivatives(u.outcome_score(p), u.r, p)
            zeros = np.zeros_like(w_slice)
            extra = (u.users, u.items, w_slice)
            sources.append((u.users, u.items, zeros, zeros, w_slice, zeros, -d_slice))
        unlisted = unlisted_selection_blocks(p, pairs) if pairs.complement else None
        sides = row_blocks(self._layout, p, objective.penalty, listed, extra, unlisted)
        logdet, self._row_variances = block_logdet(sides, self._layout.size)
        self.laplace_hessian_ = "block-diagonal"
        if np.isfinite(logdet) and exact_logdet_fits(pairs.n_users, pairs.n_items,
                                                     p.P_o.shape[1]):
            if pairs.sample is not None:
                sources.append(sampled_source(p, pairs.sample))
            logdet = exact_row_logdet(p, sides[0][0], sides[1][0], sources,
                                      pairs if pairs.complement and pairs.sample is None
                                      else None)
            self.laplace_hessian_ = "exact"
        prior = objective.penalty[np.isin(self._layout.penalised_mask(), (1.0, 2.0))]
        return -self.objective_ - 0.5 * logdet + 0.5 * float(np.log(prior[prior > 0]).sum())

    def _excluded_weights(self, layout, n_features):
        """Mask of the feature weights held at 0 by ``selection_only`` / ``outcome_only``.

        A column in ``selection_only`` enters g_o only, so its weight in g_r is
        frozen at 0 (an exclusion restriction), and the other way round. Returns
        None when neither is set. Columns are positions in X (>= 2) or, for a
        DataFrame, names.
        """
        if self.selection_only is None and self.outcome_only is None:
            return None
        frozen = np.zeros(layout.size, dtype=bool)
        chosen = {}
        for option, tag in (("selection_only", "r"), ("outcome_only", "o")):
            columns = getattr(self, option)
            positions = set()
            for column in ([] if columns is None else list(columns)):
                positions.add(self._feature_position(option, column, n_features))
            chosen[option] = positions
            weights = np.arange(layout.slices[f"w_{tag}"].start, layout.slices[f"w_{tag}"].stop)
            frozen[weights[sorted(positions)]] = True
        both = chosen["selection_only"] & chosen["outcome_only"]
        if both:
            raise ValueError(f"X column(s) {sorted(c + 2 for c in both)} are in both "
                             "selection_only and outcome_only: a column excluded from both "
                             "scores would enter neither; drop it from X instead")
        return frozen

    def _feature_position(self, option, column, n_features):
        """Index among the side features of one entry of ``selection_only`` / ``outcome_only``."""
        names = getattr(self, "feature_names_in_", None)
        if isinstance(column, str):
            if names is None or column not in list(names):
                raise ValueError(f"{option} names column {column!r}, which X does not have"
                                 + ("" if names is None else f" (its columns: {list(names)})"))
            position = list(names).index(column)
        elif isinstance(column, (Integral, np.integer)) and not isinstance(column, bool):
            position = int(column)
        else:
            raise TypeError(f"{option} holds column positions in X (int) or names (str), "
                            f"got {column!r}")
        if not 2 <= position < n_features + 2:
            raise ValueError(f"{option} holds column {column!r}, but only X's columns 2 to "
                             f"{n_features + 1} are side features (0 and 1 are the user and "
                             "item ids)" if n_features else
                             f"{option} holds column {column!r}, but X has no side features "
                             "(only the user and item ids)")
        return position - 2

    def _unbiased_slice(self, X_unbiased, y_unbiased):
        """The MAR slice as an :class:`UnbiasedSlice` in the fit's units, or None."""
        encoded = encode_unbiased_slice(self, X_unbiased, y_unbiased, self._unbiased_outcome)
        if encoded is None:
            return None
        users, items, F, y = encoded
        return UnbiasedSlice(users, items, self._in_fit_units(y), self._features.transform(F))

    def _unbiased_outcome(self, y_unbiased):
        """y_unbiased as finite floats (a subclass maps labels first)."""
        return finite_unbiased_outcome(y_unbiased)

    def _wrapped(self, likelihood, pairs):
        """``likelihood`` with the terms of this fit's data added: the unlisted pairs'
        (``unobserved="complement"``) and the MAR slice's outcome density (if any), the
        first two run part by part on the dask workers with ``backend="dask"``."""
        if self.unobserved == "complement":
            likelihood = WithComplement(likelihood)
        elif self.unobserved == "sampled":
            likelihood = WithSampledComplement(likelihood)
        if self.backend == "dask":
            likelihood = DaskLikelihood(likelihood, pairs)
        if getattr(self, "_unbiased", None) is None:
            return likelihood
        return WithUnbiasedSlice(likelihood, self._unbiased, self._outcome_kind)

    def _check_dask(self):
        """What ``backend="dask"`` runs: full-batch passes of the likelihood."""
        if self.solver == "adam":
            raise ValueError("backend='dask' runs full passes over the partitioned pairs; "
                             "solver='adam' samples mini-batches: use solver='lbfgs'")
        if self.alpha < 1.0:
            raise ValueError("backend='dask' fits the likelihood (alpha=1) only")
        if getattr(self, "likelihood", None) == "mc":
            raise ValueError("backend='dask' runs likelihood='exact' or 'ghk'; the "
                             "alternating 'mc' steps are not distributed")

    def _check_log(self, o, n_features):
        """What ``unobserved="complement"`` or ``"sampled"`` needs of X: a log, and no pair
        features in g_o."""
        mode = f"unobserved={self.unobserved!r}"
        if not o.all():
            raise ValueError(
                f"{mode} reads X as the log of observed pairs (every other "
                f"pair of the seen users x items is unobserved), but o is 0 on "
                f"{int((~o).sum())} rows; drop those rows, or list every pair with "
                f"unobserved='listed'")
        codes = (self.user_encoder_.codes_.astype(np.int64) * self.item_encoder_.n
                 + self.item_encoder_.codes_)
        if np.unique(codes).size != codes.size:
            raise ValueError(f"X lists {codes.size - np.unique(codes).size} (user, item) "
                             f"pair(s) more than once; with {mode} each pair "
                             "of the log must appear once")
        outcome_only = {self._feature_position("outcome_only", c, n_features)
                        for c in (self.outcome_only or [])}
        in_selection = sorted(set(range(n_features)) - outcome_only)
        if in_selection:
            raise ValueError(
                f"{mode} cannot score the unlisted pairs on side features, "
                f"which are known only for the logged pairs: declare X column(s) "
                f"{[c + 2 for c in in_selection]} outcome_only (they then enter g_r alone), "
                f"or list every pair with unobserved='listed'")
        if self.solver == "adam":
            raise ValueError("solver='adam' samples mini-batches of listed pairs, and "
                             f"{mode} does not list the unobserved ones; "
                             "use solver='lbfgs'")
        if self.alpha < 1.0:
            raise ValueError("alpha < 1 (the combined objective) needs every pair listed; "
                             "use unobserved='listed'")
        if self.cov_type == "robust":
            raise ValueError(NO_ROBUST)

    def _scaling(self, layout, pairs, theta, objective):
        """L-BFGS's change of variables at ``theta`` (see ``scaling``)."""
        if self.scaling == "block":
            return BlockScaling(layout, pairs, theta, objective.penalty)
        return DiagonalScaling(layout.curvature_scale(pairs, theta, objective.penalty))

    def _wants_standard_errors(self):
        """Whether to compute SEs: asked for, and the fit maximised a likelihood.

        With ``alpha < 1`` the combined objective is no likelihood, so its curvature
        gives no standard error of rho.
        """
        return self.compute_se and self.alpha == 1.0

    def _previous_solution(self):
        """(theta_, user ids, item ids, layout) of the last fit, if ``warm_start`` may reuse it."""
        if not (self.warm_start and hasattr(self, "theta_")):
            return None
        return (self.theta_, self.user_encoder_.index_, self.item_encoder_.index_,
                self._layout)

    def _warm_theta(self, previous, layout, theta0):
        """The start from the last fit: its parameters for every user and item it had.

        The same ids give the last theta_ itself. Other ids (a subpanel of the users, new
        items) start from the last fit's rows where it had the id and from ``theta0``
        (the spectral or random start) where it did not; the global blocks (means, feature
        weights, rho, sigma) carry over. A different rank or feature count starts afresh.
        """
        old_theta, users, items, old_layout = previous
        if old_layout.shapes == layout.shapes and users.equals(self.user_encoder_.index_) \
                and items.equals(self.item_encoder_.index_):
            return old_theta.copy()
        sizes = ("P_o", "w_o")
        if any(old_layout.shapes[b][-1:] != layout.shapes[b][-1:] for b in sizes) \
                or set(old_layout.shapes) != set(layout.shapes):
            return theta0
        rows = {"u": users.get_indexer(self.user_encoder_.index_),
                "i": items.get_indexer(self.item_encoder_.index_)}
        old = old_layout.unpack(old_theta, scalars_as_float=False)
        start = theta0.copy()
        new = layout.unpack(start, scalars_as_float=False)
        for name in layout.shapes:
            source, target = getattr(old, name), getattr(new, name)
            side = {"bu": "u", "P": "u", "bi": "i", "Q": "i"}.get(name.split("_")[0])
            if side is None:
                target[...] = source
            else:
                seen = rows[side] >= 0
                target[seen] = source[rows[side][seen]]
        return start

    def _initial_theta(self, layout, pairs, rng):
        blocks = {"mu_o": ndtri(np.clip(pairs.observed_share, 1e-6, 1 - 1e-6))}
        for tag in ("o", "r"):
            for name in ("P", "Q"):
                shape = layout.shapes[f"{name}_{tag}"]
                blocks[f"{name}_{tag}"] = rng.normal(0.0, self.init_scale, shape)
        if self.init == "spectral" and (pairs.complement or not pairs.o.all()):
            spectral = spectral_start(pairs, self.n_factors, rng,
                                      self._outcome_slope(pairs.r[pairs.o]))
            if spectral is not None:
                blocks.update(spectral)
        blocks.update(self._init_scalars(pairs.r[pairs.o]))
        return layout.pack(blocks)

    def _features_in_user_units(self, p):
        """The scores' means and feature weights on the raw (unstandardised) features."""
        for tag in ("o", "r"):
            mu, w = self._features.weights_in_user_units(getattr(p, f"mu_{tag}"),
                                                         getattr(p, f"w_{tag}"))
            setattr(p, f"mu_{tag}", mu)
            setattr(p, f"w_{tag}", w)
        return p

    # Hooks a subclass may override -------------------------------------
    def _standardise_outcome(self, y, o):
        """The outcome the likelihood is fitted to (as given, by default)."""
        return y

    def _in_fit_units(self, y):
        """Outcomes mapped to the fit's units, as ``_standardise_outcome`` maps y."""
        return y

    def _in_user_units(self, params):
        """Fitted blocks mapped from the fit's units to the user's (identity by default)."""
        return params

    def _log_jacobian(self, n_densities):
        """log-likelihood(fit's units) - log-likelihood(user's units); 0 by default."""
        return 0.0

    def _warm_up(self, objective, theta0, rng):
        """A cheaper solver run before L-BFGS (a SolverResult), or None.

        ``solver="adam"``: mini-batch epochs get near the optimum cheaply, but leave
        rho far off (the likelihood is flat in rho: measured -0.24 against -0.51 at
        a 0.2% objective gap), so full-batch L-BFGS finishes the fit.
        """
        if self.solver != "adam":
            return None
        return adam(objective, theta0, self.max_iter, self.tol, self.learning_rate,
                    self.batch_size, rng, self.verbose)

    def _solve(self, objective, theta0, scaling):
        """Minimise ``objective`` from ``theta0``; full-batch L-BFGS by default."""
        return lbfgs(objective, theta0, self.max_iter, self.tol, self.verbose, scaling,
                     stop=self._boundary_stop(objective.layout))

    def _boundary_stop(self, layout):
        """A ``stop`` test for L-BFGS: rho has run past RHO_STOP (None when rho is fixed)."""
        if self.fixed_rho is not None:
            return None
        index = layout.index("a")

        def stop(theta):
            rho = float(np.tanh(theta[index]))
            return f"rho ran to the boundary ({rho:+.5f})" if abs(rho) > RHO_STOP else None

        return stop

    def _reported_likelihood(self, fitted):
        """The likelihood whose value ``loglik_`` reports (the fitted one by default)."""
        return fitted

    def _outcome_slope(self, r_observed):
        """Scale of the outcome in the spectral start (1: continuous outcome)."""
        return 1.0

    def _profiled_cov(self, objective, names):
        """Covariance of the named scalar parameters, embeddings profiled out."""
        free = np.ones(self.theta_.size, dtype=bool) if self._frozen is None else ~self._frozen
        index = [self._layout.index(n) for n in names]
        start = time.perf_counter()
        # Block-diagonal Gauss-Newton approximation at the estimate as CG preconditioner.
        scaling = BlockScaling(self._layout, self._pairs, self.theta_, objective.penalty)
        cov, info = profiled_covariance(lambda t: objective.full(t)[1], self.theta_, index, free,
                                        scaling.inverse_curvature,
                                        hessian_product=objective.hessian_product(self.theta_))
        columns = info.pop("inverse_columns")
        self._inverse_columns = dict(zip(names, columns.T))
        if self.cov_type == "robust" and np.all(np.isfinite(cov)):
            # Sandwich H^-1 J H^-1 of the penalised estimator, J from the per-pair scores.
            def per_pair(theta):
                return objective.likelihood.per_pair_loglik(theta, self._layout, self._pairs)

            cov = sandwich_block(per_pair, self.theta_, columns)
        sample = self._pairs.sample
        if sample is not None and np.all(np.isfinite(cov)):
            # unobserved="sampled": the sampling's own variance, H^-1 V H^-1 (_sampled)
            design = design_variance(self.theta_, self._layout, sample, columns)
            if names[0] == "a":  # rho's share; a fit at fixed rho (the marginal
                # likelihood's included) has none to report
                info["design_share"] = float(design[0, 0] / (cov[0, 0] + design[0, 0]))
            cov = cov + design
        info["seconds"] = time.perf_counter() - start
        self.se_info_ = info
        if np.any(np.diag(cov) <= 0) or not np.all(np.isfinite(cov)):
            # Without penalties the MF Hessian is singular (the factors can be
            # rotated freely), so the profiled information need not be invertible.
            warnings.warn("the profiled information matrix is not positive definite, so the "
                          "standard errors are NaN; use reg_factors > 0 and reg_bias > 0",
                          DegenerateEstimateWarning, stacklevel=3)
            return np.full_like(cov, np.nan)
        if not info["converged"]:
            warnings.warn("the conjugate-gradient solve behind the standard errors did not "
                          "converge; the standard errors may be inaccurate",
                          ConvergenceWarning, stacklevel=3)
        return cov

    def _penalty_sensitivity(self, objective):
        """d atanh(rho_) / d log c when every penalty is multiplied by c, at c = 1.

        By the implicit function theorem the minimiser moves by
        -H^{-1} (penalty * theta) per unit of log c, and the atanh(rho) entry of that is
        the H^{-1} column the standard error already solved for (H symmetric). Where
        the data identify rho, a tenfold change of the penalties moves it by a small
        fraction of its SE; where only the prior does (Coat, docs/model.md), by more.
        """
        column = self._inverse_columns.get("a")
        if column is None:
            return float("nan")
        return float(-column @ (objective.penalty * self.theta_))

    def _check_identification(self, objective, se_a):
        """Measure how far rho_ moves with the penalties against its standard error.

        Sets ``rho_penalty_shift_``: the change of atanh(rho_) a tenfold change of every
        penalty would make (first order), in units of its standard error. The warning
        waits for the design's check (:meth:`_warn_penalty_shift`), which says what the
        shift means.
        """
        shift = np.log(10.0) * self._penalty_sensitivity(objective)
        self.rho_penalty_shift_ = float(abs(shift) / se_a) if se_a > 0 else float("nan")
        self._penalty_shift_a = float(abs(shift))

    def _warn_penalty_shift(self):
        """Warn where rho_penalty_shift_ is above IDENTIFICATION_SHIFT, with the remedy
        for its cause. Where the design identifies rho (rho_structural_se_ at most
        STRUCTURAL_SE_LIMIT) the shift is the penalties' shrinkage of an identified rho,
        which the marginal likelihood removes (a Yahoo-shaped log: 0.826 penalised, 0.484
        by the evidence, true 0.5; docs/benchmarks.md); elsewhere only anchors help."""
        if not self.rho_penalty_shift_ > IDENTIFICATION_SHIFT:
            return
        moved = (f"a tenfold change of the penalties would move atanh(rho_) by "
                 f"{self._penalty_shift_a:.3g}, {self.rho_penalty_shift_:.1f} times its "
                 f"standard error, so rho_ = {self.rho_:+.3f} reflects the penalties (the "
                 f"prior) more than the data, and rho_se_ understates its uncertainty.")
        if self._identified_beyond_shape():
            text = (f"rho is not identified by these data: {moved} Pass stronger anchors "
                    f"(more randomly exposed pairs); docs/model.md shows this on Coat.")
        elif self.rho_structural_se_ <= STRUCTURAL_SE_LIMIT:
            text = (f"rho_ is biased by the penalties: {moved} The design identifies rho "
                    f"(rho_structural_se_ = {self.rho_structural_se_:.3g}), so let the data "
                    f"choose the penalties, rho_criterion='evidence' (the marginal "
                    f"likelihood), or correct rho_ with "
                    f"heckrec.inference.bias_corrected_rho; docs/benchmarks.md compares "
                    f"them on a Yahoo-shaped log.")
        else:
            text = (f"rho is not identified by these data: {moved} Pass X_unbiased / "
                    f"y_unbiased (a few randomly exposed pairs) or an exclusion restriction "
                    f"(selection_only); docs/model.md shows this on Coat.")
        warnings.warn(text, NotIdentifiedWarning, stacklevel=user_stacklevel())

    def _check_structure(self):
        """Set ``rho_structural_se_`` and warn when the design leaves rho to the errors' shape.

        The SE of rho from the selection term's variation beyond the outcome score's own
        user and item effects and side features (heckrec.models._identification), at
        the fitted g_o of the observed pairs. Only where nothing else identifies rho
        (no MAR slice, no exclusion restriction) and the fit is not already reported as
        degenerate.
        """
        self.rho_structural_se_ = float("nan")
        # the free fit's rho; differs from rho_ only where rho was then held at 0
        self.rho_free_ = self.rho_ if self.fixed_rho is None else float("nan")
        # (the marginal likelihood's final fit holds rho at its maximiser, a free estimate)
        at_free_rho = self.fixed_rho is None or getattr(self, "_structure_at_fixed_rho", False)
        if not self._selection_modelled or not at_free_rho:
            return
        pairs = self._pairs
        observed = pairs.o
        g_o = pair_scores(self.theta_, self._layout, pairs)[0][observed]
        features = pairs.F[observed]
        if self._frozen is not None:  # a selection_only column is not in the outcome score
            features = features[:, ~self._frozen[self._layout.slices["w_r"]]]
        se, share = structural_rho_se(g_o, pairs.users[observed], pairs.items[observed],
                                      features)
        self.rho_structural_se_ = se
        if (se > STRUCTURAL_SE_LIMIT and self.degenerate_ is None
                and not self._identified_beyond_shape()
                and self.if_not_identified == "estimate"):
            warnings.warn(
                f"rho is not identified by the design of these data: the outcome's own user "
                f"and item effects reproduce the selection term lambda(g_o) on the observed "
                f"pairs up to {share:.2g} of its variance, which would give rho a standard "
                f"error of {se:.3g} (rho_structural_se_) without the normal shape of the "
                f"errors. rho_ = {self.rho_:+.3f} rests on that shape and on the penalties; "
                f"rho_se_ = {self.rho_se_:.3g} is its precision only if the errors are "
                f"exactly normal. Pass X_unbiased / "
                f"y_unbiased (a few randomly exposed pairs) or an exclusion restriction "
                f"(selection_only); docs/model.md shows this on Coat, where every user "
                f"chose the same number of items.",
                NotIdentifiedWarning, stacklevel=user_stacklevel())

    def _rho_held_for_design(self):
        """Whether the fit held rho at 0 because the design does not identify it
        (``if_not_identified="fix"``): rho_ NaN beside the free fit's rho_free_."""
        return bool(np.isnan(self.rho_) and np.isfinite(getattr(self, "rho_free_", np.nan)))

    def _identified_beyond_shape(self):
        """Whether something besides the normal functional form identifies rho."""
        return (self.n_unbiased_ > 0 or bool(self.selection_only)
                or bool(self.outcome_only))

    #: What the degenerate-fit warning tells the user to do (a subclass may say more).
    _degenerate_advice = ("the model is too flexible for the data (raise reg_factors / "
                          "reg_bias or lower n_factors, choosing them on validation data), "
                          "or rho is not identified here.")

    def _warn_degenerate(self, reason):
        self.degenerate_ = reason
        warnings.warn(f"degenerate fit: {reason}. This is not an estimate: "
                      f"{self._degenerate_advice}",
                      DegenerateEstimateWarning, stacklevel=user_stacklevel())

    # ------------------------------------------------------------ predict
    def decision_scores(self, X):
        """The two MF scores ``(g_o(x), g_r(x))`` for each row of ``X``.

        An id unseen in fit contributes no bias and no factor: the prior mean
        of its parameters under the L2 penalty, so g falls back to the global
        mean plus side features. (Unseen ids index an appended row of zeros.)
        """
        check_is_fitted(self, "theta_")
        users_raw, items_raw, F = validate_X(self, X, reset=False)
        users = self.user_encoder_.transform(users_raw, "user")  # -1: unseen -> the zero row
        items = self.item_encoder_.transform(items_raw, "item")
        p = self.params_

        def zero_row(block):
            return np.concatenate([block, np.zeros((1,) + block.shape[1:])])

        return tuple(
            mf_score(np, getattr(p, f"mu_{tag}"), zero_row(getattr(p, f"bu_{tag}")),
                     zero_row(getattr(p, f"bi_{tag}")), zero_row(getattr(p, f"P_{tag}")),
                     zero_row(getattr(p, f"Q_{tag}")), getattr(p, f"w_{tag}"), users, items, F)
            for tag in ("o", "r"))

    @staticmethod
    def _mean_loglik(ll, sample_weight):
        """(Weighted) mean of per-pair log-likelihoods, the value of ``score``."""
        if sample_weight is not None:
            sample_weight = checked_weights(sample_weight, ll)
        return float(np.average(ll, weights=sample_weight))

    def simulate(self, X, random_state=None, rho=None):
        """Draw ``(y, o)`` for the pairs in ``X`` from the fitted model.

        The latent errors are drawn with the fitted rho (and sigma), ``o`` is
        1 where the selection index is positive, and ``y`` is drawn for every
        pair (where ``o == 0`` it is the outcome the pair would have had).
        This is what the parametric bootstrap refits.

        Parameters
        ----------
        X : array-like or DataFrame, as in :meth:`fit`
        random_state : int, RandomState or None
        rho : float in (-1, 1), optional
            Draw with this rho instead of ``rho_`` (every other parameter as fitted).
            With the same ``random_state`` the draws share their normal numbers, so
            ``o`` is the same and ``y`` moves only through rho: the common random
            numbers of :func:`heckrec.inference.bias_corrected_rho`'s second point.

        Returns
        -------
        y, o : ndarray of shape (n_pairs,)
        """
        rho = self._simulation_rho(rho)
        g_o, g_r = self.decision_scores(X)
        rng = check_random_state(random_state)
        y, o = self._draw(g_o, g_r, rho, rng)
        return y, o.astype(np.int8)

    def simulate_log(self, random_state=None, rho=None):
        """Draw a log ``(X, y)`` from the fitted model: the pairs of the fit's users x items
        whose simulated ``o`` is 1, and their outcomes.

        What a fit from the log (``unobserved="complement"`` or ``"sampled"``) was given,
        drawn without listing the grid: :meth:`simulate`'s draws, block by block of
        users. A user or item with no simulated pair is absent from the log, as it would
        be from a real one. This is what the parametric bootstrap refits for such a fit.

        Parameters
        ----------
        random_state : int, RandomState or None
        rho : float in (-1, 1), optional
            Draw with this rho instead of ``rho_``; with the same ``random_state`` the
            log is the same and ``y`` moves only through rho (as in :meth:`simulate`).

        Returns
        -------
        X : DataFrame with columns ``user`` and ``item``
            The simulated log's ids, users in the fit's order.
        y : ndarray of shape (n_logged,)
        """
        check_is_fitted(self, "theta_")
        rho = self._simulation_rho(rho)
        p = self.params_
        if p.w_o.size or p.w_r.size:
            raise ValueError("simulate_log draws pairs the fit never saw, and this fit's g "
                             "uses side features, known only at the listed pairs: simulate "
                             "at listed pairs with simulate(X) instead")
        rng = check_random_state(random_state)
        users, items = self.user_encoder_.index_, self.item_encoder_.index_
        rows = max(1, TILE_PAIRS // len(items))  # the complement sweep's tiles
        codes, outcomes = [], []
        for start in range(0, len(users), rows):
            stop = min(start + rows, len(users))
            g_o, g_r = (tile_scores(*(getattr(p, f"{name}_{tag}")
                                      for name in ("mu", "bu", "bi", "P", "Q")), start, stop)
                        for tag in ("o", "r"))
            y, o = self._draw(g_o, g_r, rho, rng)
            user, item = np.nonzero(o)
            codes.append((user + start, item))
            outcomes.append(y[user, item])
        user, item = (np.concatenate(part) for part in zip(*codes))
        X = pd.DataFrame({"user": users.to_numpy()[user], "item": items.to_numpy()[item]})
        return X, np.concatenate(outcomes)

    def _draw(self, g_o, g_r, rho, rng):
        """(y, o) drawn at scores of any shape: o = 1[g_o + v > 0] (always 1 where no
        selection is modelled), y from g_r with an error correlated rho with v."""
        v = rng.standard_normal(g_o.shape)
        u = rho * v + np.sqrt(1.0 - rho**2) * rng.standard_normal(g_o.shape)
        o = (g_o + v > 0) if self._selection_modelled else np.ones(g_o.shape, dtype=bool)
        return self._draw_outcome(g_r, u), o

    def _simulation_rho(self, rho):
        """The rho the simulations draw with: ``rho`` if given, else rho_ (0 if held)."""
        if rho is None:
            return 0.0 if np.isnan(self.rho_) else float(self.rho_)
        rho = float(rho)
        if not -1.0 < rho < 1.0:
            raise ValueError(f"rho must lie strictly inside (-1, 1), got {rho!r}")
        return rho

    def predict_selection_proba(self, X):
        """P(o = 1 | x) = Phi(g_o(x)), the probability that a pair is observed."""
        return ndtr(self.decision_scores(X)[0])

    def summary(self, alpha=0.05, corrected=None):
        """statsmodels Summary: the fit's size, likelihood and the scalar estimates with SEs.

        Parameters
        ----------
        alpha : float, default=0.05
            The intervals' level is 1 - alpha. rho's is tanh(atanh(rho_) -+ z se) and
            sigma's exp(log(sigma_) -+ z se), as Stata prints them (inside (-1, 1) and
            (0, inf)).
        corrected : JackknifeResult or BiasCorrectedRho, optional
            A bias correction of this fit's rho, from
            :func:`heckrec.inference.jackknife_rho`,
            :func:`heckrec.inference.bias_corrected_rho` or
            ``bootstrap_rho(...).bias_corrected()``: adds the corrected rho, its SE and
            interval as a row (issue 14).
        """
        import pandas as pd
        from scipy import stats

        from .._summary import Summary

        check_is_fitted(self, "theta_")
        smry = Summary()
        smry.add_title(f"{type(self).__name__} (matrix-factorisation selection model)")
        smry.add_dict({
            "Pairs:": str(self.n_pairs_), "Observed:": str(self.n_observed_),
            "Users:": str(self.n_users_), "Items:": str(self.n_items_),
            "Factors:": str(self.n_factors), "Solver:": self.solver,
            "Log-likelihood:": f"{self.loglik_:.10g}", "Converged:": str(self.converged_),
            "Degenerate:": str(self.degenerate_ or "no"), "Iterations:": str(self.n_iter_),
            "Penalty shift (SE):": _digits(self.rho_penalty_shift_),
            "Structural SE (rho):": _digits(getattr(self, "rho_structural_se_", np.nan)),
        }, ncols=2)
        z = stats.norm.ppf(1.0 - alpha / 2.0)
        rows = {}
        for name, est, se in self._scalar_estimates():
            if name == "rho":  # the atanh scale's interval, mapped back
                low, high = np.tanh(np.arctanh(est) + np.array([-z, z]) * se / (1 - est**2))
            else:  # sigma, on the log scale
                low, high = est * np.exp(np.array([-z, z]) * se / est)
            rows[name] = (est, se, low, high)
        if corrected is not None:
            low, high = corrected.conf_int(alpha)
            rows[f"rho ({corrected.method} bias-corrected)"] = (corrected.estimate, corrected.se,
                                                                low, high)
        columns = ["coef", "std err", f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"]
        table = pd.DataFrame([[_digits(v) for v in row] for row in rows.values()],
                             index=list(rows), columns=columns)
        smry.add_df(table)
        if not self.converged_:
            # (a text line: in the header table a long reason would widen the rules)
            smry.add_text(f"Not converged after {self.n_iter_} iterations: "
                          f"{self.convergence_message_}.")
        names = [n for n, _, _ in self._scalar_estimates()]
        if (self.rho_criterion_ != "penalised" and self.fixed_rho is None
                and not self._rho_held_for_design()):
            subset = (f" on a random subset of the users ({self.n_search_pairs_} of the "
                      f"{self._n_rows} pairs of X; rho_search_pairs)"
                      if self.n_search_pairs_ < self._n_rows else "")
            smry.add_text(f"rho chosen by the Laplace marginal likelihood{subset} "
                          f"(rho_criterion={self.rho_criterion_!r}, {self.n_laplace_fits_} "
                          "fits); its standard error from that likelihood's curvature in "
                          + ("atanh(rho) and the log prior precisions together"
                             if getattr(self, "_rho_se_joint", False) else "atanh(rho)")
                          + ", delta method.")
            if getattr(self, "_auto_penalised", None) is not None:
                smry.add_text(f"rho_criterion='auto' chose the evidence: "
                              f"{self._auto_penalised}, on a design that identifies rho.")
            if self.laplace_hessian_ == "block-diagonal" and self.n_factors > 0:
                # (measured, not fixed: docs/inference.md, "Where the evidence's pull
                # towards 0 comes from")
                smry.add_text("The marginal likelihood took the rows' Hessian by its "
                              "diagonal blocks (laplace_hessian_), without the user-item "
                              "cross terms, which with factors pull rho towards 0 by more "
                              "than its SE on large logs (0.016, 3.7 SEs, on a simulated "
                              "log of Yahoo! R3's shape; docs/inference.md): there the "
                              "interval is too narrow.")
            names.remove("rho")
        elif self._rho_held_for_design():
            smry.add_text(f"rho not identified by this design (structural SE "
                          f"{self.rho_structural_se_:.3g}): held at 0, so the outcome model "
                          f"is the ignorable-selection one; the free fit's rho was "
                          f"{self.rho_free_:+.3f} (rho_free_).")
            names.remove("rho")
        if names:
            smry.add_text("Standard errors: inverse penalised Hessian with the embeddings "
                          "profiled out (Schur complement), delta method for "
                          + " and ".join(names) + ".")
        carried = getattr(self, "_se_carries_rho", False)
        if "sigma" in names and carried:
            smry.add_text("sigma's standard error adds rho's uncertainty along the "
                          "marginal likelihood's profile (the slope of log sigma in "
                          "atanh(rho) between the search's fits at atanh(rho_) +- 0.1).")
        if "sigma" in names and self.rho_criterion_ == "evidence":
            # (measured, not fixed: docs/inference.md, "sigma_ under the evidence")
            smry.add_text("sigma is the penalised fit's at the chosen rho and precisions "
                          "(their joint mode), not chosen by the marginal likelihood: it "
                          "understates the noise (by 12-15% on simulated logs, "
                          "docs/inference.md)"
                          + (", so its interval does not cover." if carried else
                             " and its interval leaves out rho's uncertainty."))
        return smry

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        return tags


def _digits(value, digits=5):
    """``value`` to ``digits`` significant digits; blank for NaN (summary cells)."""
    return "" if value is None or not np.isfinite(value) else f"{value:.{digits}g}"
