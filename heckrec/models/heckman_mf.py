"""HeckmanMFRegressor: continuous outcome, closed-form likelihood."""

import numpy as np
import scipy.special
from sklearn.base import RegressorMixin
from sklearn.utils._param_validation import StrOptions

from .._array.heckman_continuous import log_ndtr_mills, pair_terms
from ._base import LAPLACE_STEP, RHO_BOUNDARY, SelectionMFBase
from ._block_newton import BlockNewton, block_newton
from ._input import FeatureStandardiser, reject_constant_outcome, validate_y_o
from ._likelihood import ContinuousHeckmanLikelihood
from ._unbiased import continuous_terms

#: sigma beyond this factor of the observed outcome's spread (or below its
#: inverse squared) is reported as a boundary estimate.
SIGMA_BOUNDARY = 10.0
#: ``solver="block-newton"`` hands over to L-BFGS once a sweep lowers the objective
#: by less than this many ``tol`` (relative).
SWITCH_TOL_FACTOR = 100.0


class HeckmanMFRegressor(RegressorMixin, SelectionMFBase):
    """Heckman selection model over matrix-factorisation scores, continuous outcome.

    For a pair x = (user, item[, features]) the model is ::

        z = g_o(x) + U_O,   o = 1[z > 0]
        y = g_r(x) + U_R,   r = y observed only where o = 1
        (U_O, U_R / sigma) ~ N(0, [[1, rho], [rho, 1]])

    with g = mu + b_user + b_item + <p_user, q_item> + w'features, separately
    for g_o and g_r. rho and sigma are estimated (as atanh(rho), log(sigma)).
    The fit minimises the penalised negative log-likelihood ::

        -loglik + reg_factors / 2 (|P_o|^2 + |Q_o|^2 + |P_r|^2 + |Q_r|^2)
                + reg_bias / 2 (|b_o|^2 + |b_r|^2) + reg_rho / 2 atanh(rho)^2,

    i.e. the posterior mode under independent normal priors on the embeddings
    and biases, and on atanh(rho) when reg_rho > 0 (mu, w and sigma are not penalised).
    The fit runs on the outcome standardised over the observed pairs,
    ``(r - outcome_loc_) / outcome_scale_``, so the penalties act in standard units
    and rescaling or shifting ``r`` leaves ``rho_`` unchanged; ``params_``,
    ``sigma_``, ``loglik_`` and the predictions are in the outcome's own units.

    Parameters
    ----------
    n_factors : int, default=8
        Rank of each MF score (0 gives a biases-only model).
    reg_factors : float, default=100.0
        L2 penalty (prior precision) on the user and item factors, in the
        standardised outcome's units. Named so as not to clash with the paper's
        ``alpha``, the weight of the likelihood in a combined loss. The default
        (with ``reg_bias=1``) was chosen among those measured (1 / 0.1, 10 / 1,
        30 / 3, 100 / 1, 100 / 3, 100 / 10; docs/model.md) as one that left no fit
        degenerate on Coat, the paper's semi-synthetic design (rho 0.813 +- 0.004
        for a true 0.8, test MSE 1.08) and a 300 x 200 rank-4 grid, while keeping
        rho unbiased on well-specified biases-only grids (reg_bias 10 did not).
        On larger well-specified grids it shrinks g_r more than the old 1 / 0.1
        did, so choose it on held-out data when the data allow.
    reg_bias : float, default=1.0
        L2 penalty on the user and item biases (standardised units).
    reg_rho : float, default=0.0
        L2 penalty on atanh(rho): a normal prior centred on rho = 0 with this
        precision. 0 is maximum likelihood in rho. Where the in-sample
        likelihood runs rho to +-1 but held-out likelihood (``score``) says
        that overfits (measured on Coat, docs/model.md), choose it by
        cross-validation on ``score``; the standard error is then the
        posterior one.
    solver : {"lbfgs", "adam", "block-newton"}, default="lbfgs"
        Full-batch L-BFGS (scipy, analytic gradient, variables rescaled by
        pair counts); mini-batch Adam epochs followed by full-batch L-BFGS
        from where Adam stopped; or block-coordinate Newton sweeps followed by
        L-BFGS. Adam alone is not offered as a final answer: the likelihood is
        so flat in rho that mini-batch noise leaves rho far from the optimum
        even when the objective is within 0.2% of it. A ``"block-newton"`` sweep
        takes one Newton step on every user's (bias, factors) of both scores in
        parallel (items fixed; each such block is a small convex problem), then
        on every item's, then on mu, w, rho and sigma, each step with its own
        line search; sweeps are accelerated by SQUAREM, and once a cycle of
        three gains less than ``100 tol`` L-BFGS finishes with its usual
        tolerances. It reaches the same optimum, and on large grids in far less
        time (1.5e7 pairs: 69-91 s against 202-225 s, docs/benchmarks.md). It needs
        ``backend="numba"``'s CPU kernels for the sweeps (the L-BFGS finish
        uses ``backend``), and with every pair observed L-BFGS fits alone.
    max_iter : int, default=1000
        L-BFGS iterations, for ``solver="adam"`` also the most Adam epochs, and
        for ``solver="block-newton"`` also the most sweeps.
    tol : float, default=1e-7
        Relative change of the objective (per pair) at which to stop; L-BFGS
        also stops when every gradient entry is below ``tol``.
    learning_rate : float, default=0.01
        Adam step size.
    batch_size : int, default=65536
        Pairs per Adam step.
    init : {"spectral", "random"}, default="spectral"
        Start values: biases and factors read off the data by a truncated SVD
        (see :mod:`heckrec.models._init`), or zero biases and random factors.
    init_scale : float, default=0.1
        Standard deviation of the random initial factors (``init="random"``,
        and for grids too small for the SVD).
    scaling : {"block", "diagonal"}, default="block"
        Change of variables for L-BFGS: each user's and item's (bias, factors)
        rescaled by the Cholesky factor of its Gauss-Newton block, or every
        parameter by a diagonal from pair counts. Measured on 400k and
        600k-pair grids: 293 -> 149 and 331 -> 172 iterations to the same
        optimum. The same blocks precondition the standard errors' CG.
    backend : {"numba", "numpy", "cupy", "dask"}, default="numba"
        Where the likelihood runs: the parallel CPU kernel, its numpy twin
        (slow, the reference), the same array code on a GPU with CuPy, or the
        numba kernel on the workers of the current dask.distributed Client, the
        pairs partitioned by user (``pip install heckrec[dask]``; docs/scaling.md).
        ``"dask"`` fits with L-BFGS and alpha = 1.
    compute_se : bool, default=True
        Compute ``rho_se_`` and ``sigma_se_`` after the fit (costs a few
        dozen extra gradient evaluations, see below).
    cov_type : {"hessian", "robust"}, default="hessian"
        Covariance behind ``rho_se_`` and ``sigma_se_``: the inverse penalised
        Hessian with the embeddings profiled out, or the sandwich
        H^-1 J H^-1 with J the outer product of the per-pair scores (robust to
        a misspecified error distribution; two extra passes over the pairs per
        scalar). There is no OPG: it would need J^-1 over every parameter.
    fixed_rho : float in (-1, 1) or None, default=None
        Hold rho at this value instead of estimating it (``rho_se_`` is then
        NaN). The restricted fits behind :func:`heckrec.inference.profile_rho`
        and :func:`heckrec.inference.lr_test_rho`; ``fixed_rho=0`` is the
        missing-at-random model with a separate observation model.
    warm_start : bool, default=False
        Start from the previous fit's parameters when ``fit`` is called again: all of
        them for the same users and items; for other ids, the rows of the ids the
        previous fit had and the usual start for the rest (the split-panel jackknife's
        halves start this way). A different rank or feature count starts afresh.
    alpha : float in (0, 1], default=1.0
        Weight of the likelihood in the paper's combined objective
        ``alpha (-loglik) + (1 - alpha) n L_debias`` (plus the penalties), with
        ``L_debias`` a per-pair-mean debiasing loss of the outcome score g_r. 1 is
        the likelihood fit. Below 1 the model is first fitted by likelihood, which
        supplies the debiasing loss's propensities ``Phi(g_o)`` and (for ``"dr"``) its
        imputed outcomes g_r, held fixed; then the combined objective is minimised
        from there. It is then no likelihood, so ``rho_se_`` and ``sigma_se_`` are
        NaN (``rho_`` is still reported).
    debias_loss : {"naive", "ips", "dr"}, default="naive"
        ``L_debias`` (used when ``alpha < 1``): squared error on the observed
        pairs, the same weighted by ``1 / propensity``, or doubly robust (imputed
        outcome everywhere, corrected on observed pairs); the paper's
        "Ours-Naive" and "Ours-DR" (:mod:`heckrec.debias` has the same losses).
    propensity_clip : float in (0, 1], default=0.05
        Propensities ``Phi(g_o)`` are raised to at least this in ``L_debias``.
    selection_only, outcome_only : sequence of int or str, default=None
        Exclusion restrictions: side-feature columns of X (positions >= 2, or
        names for a DataFrame) that enter the selection score g_o only (their
        weight in g_r is held at 0), or the outcome score g_r only. A feature
        that moves exposure but not preference (a display position, a
        promotion) identifies rho beyond the normal functional form, as in a
        classic Heckman model. Fits with exclusions use L-BFGS (the
        block-Newton sweeps need every weight free).
    unobserved : {"listed", "complement", "sampled"}, default="listed"
        ``"listed"``: X lists every pair, observed or not (``o`` says which).
        ``"complement"``: X is the interaction log (the observed pairs only) and every
        other pair of the seen users x seen items is unobserved; their term of the
        likelihood is swept from the selection factors without listing them, so
        memory grows with the log, not the grid (issue 15). Side features must then
        be ``outcome_only`` (they are known only for logged pairs), and the fit uses
        L-BFGS with Hessian standard errors. ``"sampled"``: as ``"complement"``, but
        the unlisted pairs' term is estimated from a fixed random sample of them,
        drawn once per fit from ``random_state`` (each user a stratum, its draws
        weighted by the inverse of their rate: weighted exogenous sampling, Manski
        and Lerman 1977), for universes too large to sweep; the standard errors add
        the sampling's variance to the Hessian's (``heckrec.models._sampled``,
        docs/scaling.md).
    unobserved_ratio : float, default=10.0
        With ``unobserved="sampled"``: unlisted pairs drawn per logged pair of each
        user (at least 20; a user with fewer unlisted items than that gets them all,
        unweighted). Larger is slower and closer to ``"complement"``.
    rho_search_pairs : int or None, default=1_000_000
        With ``unobserved="sampled"`` and a marginal-likelihood criterion (``"laplace"``,
        ``"evidence"``): where the log holds more pairs than this, the search over rho
        (and the evidence's over the prior precisions), some 20 penalised fits, runs
        on a random subset of the users whose logged pairs number about this many;
        the whole log is then fitted once at the rho and precisions found, started
        from the subset's rows. rho_ and rho_se_ are then the subset's estimate
        (``n_search_pairs_``); the other parameters and their SEs the whole log's.
        ``None`` searches on the whole log (on the 1e9-pair universe of
        docs/benchmarks.md, about 2 hours on 2 cores).
    rho_criterion : {"penalised", "laplace", "evidence", "auto"}, default="auto"
        How rho_ is chosen. ``"penalised"``: jointly with everything else, by the
        penalised likelihood. ``"laplace"``: the penalties read as Gaussian priors on
        the users' and items' biases and factors, which are integrated out by
        Laplace's method (block-diagonal, one block per user and per item); rho_
        maximises that marginal likelihood by a climb of a grid and Newton steps, each
        point a penalised fit at fixed rho (``n_laplace_fits_``), and rho_se_ comes
        from its curvature in atanh(rho). It removes the incidental-parameter bias
        that runs the penalised rho_ away from 0, but only under a prior that fits
        the data. ``"evidence"``: the same, and the prior precisions are chosen by
        the same marginal likelihood: one per score for the user biases, the item
        biases and the factors (six; reg_factors and reg_bias are their starting
        values, so more fits the further they are from the data's;
        ``prior_precisions_``). MacKay's updates (as in sklearn's BayesianRidge) bring
        them near. On a biases-only model Newton steps on log m over rho and the
        precisions together then reach its maximum, and rho_se_ comes from the inverse
        of that joint Hessian, so it includes what the precisions' own uncertainty adds
        (``heckrec.models._evidence``); with factors, where those steps cost 4-8 times
        the fits without bringing rho_ nearer the truth, the fit stops at MacKay's point
        and rho_se_ is the profile's curvature there. Measured in docs/model.md,
        docs/inference.md and docs/benchmarks.md. Both
        need ``alpha=1`` and the numba backend; from the log the unlisted pairs'
        curvature is swept by tiles (``"complement"``) or estimated from the sample's
        weighted draws (``"sampled"``, whose rho_se_ then leaves the sample's variance
        out: docs/scaling.md). ``"auto"`` (the default): the penalised fit, kept unless,
        on a design that identifies rho (``rho_structural_se_`` at most 1, no MAR slice
        or exclusion restriction), a tenfold change of the penalties moves its rho_ by
        more than 2 of its SEs to first order (``rho_penalty_shift_``), or reg_factors
        held the factors at 0 (a biases-only fit, whose shift the first order cannot
        see). Then the evidence refits, which needs ``compute_se`` with
        ``cov_type="hessian"``; ``summary()`` says why. Past ``rho_search_pairs`` with
        ``unobserved="sampled"`` the penalised fit that decides is of the search's
        subset of users, and the whole log is fitted once by the criterion chosen. On a
        Yahoo-shaped log (rank 4, true rho 0.5) that moves rho_ from 0.826 to 0.484 for
        about six times the penalised fit's time (256 s against 42 s; docs/benchmarks.md);
        on Coat, whose design does not identify rho, the penalised fit stands
        (docs/model.md). The criterion used is ``rho_criterion_``.
    if_not_identified : {"fix", "estimate"}, default="fix"
        What a fit does where the design leaves rho to the errors' normal
        shape alone (``rho_structural_se_`` > 1) and no MAR slice or exclusion
        restriction identifies it. ``"fix"``: refit with rho held at 0 (ignorable
        selection, the outcome model a MAR analysis fits), report ``rho_`` and
        ``rho_se_`` as NaN (the free fit's rho in ``rho_free_``) and warn
        ``NotIdentifiedWarning``; one more fit. ``"estimate"``: keep the free fit, with
        the warning. On Coat's 1-5 ratings the free fit moved the mean prediction on the
        random pairs from the naive 2.55 to 2.85, away from their 2.23 (docs/model.md).
    random_state : int, RandomState or None
        Seeds the initial factors and Adam's batches.
    verbose : int, default=0
        Print the objective every iteration (L-BFGS) or epoch (Adam).

    Attributes
    ----------
    rho_, sigma_ : float
        Estimates; NaN for rho when every pair is observed (no selection), or when the
        design does not identify it and rho was held at 0 (``if_not_identified``).
    rho_free_ : float
        The free fit's rho: ``rho_`` unless rho was then held at 0 because the design
        does not identify it (NaN where rho was fixed or not modelled).
    rho_se_, sigma_se_ : float
        Standard errors from the inverse penalised Hessian with every other
        parameter (embeddings, biases, means, feature weights) profiled out:
        the (atanh rho, log sigma) block of H^{-1} is the inverse of the Schur
        complement of the rest, found by conjugate gradients on
        Hessian-vector products, then mapped by the delta method. Because the
        objective is penalised, this is the Laplace (posterior) standard error
        given the priors; it ignores the small shrinkage bias of the
        embeddings. NaN when the fit is degenerate. Where the evidence chose rho
        (``rho_criterion_ == "evidence"``, as ``summary()`` then says), sigma_ is
        still the penalised fit's at rho_, the joint mode of the rows and sigma,
        which understates the noise (sigma_ 13-15% low on simulated 150 x 100
        rank-2 grids, 12% on a Yahoo-shaped log: docs/inference.md), so the interval
        for sigma does not cover there. Where the marginal likelihood chose rho,
        sigma_se_ adds rho's uncertainty to the final fit's (which holds rho at rho_)
        along the profile: the slope of log sigma between the search's fits at
        atanh(rho_) +- 0.1.
    rho_penalty_shift_ : float
        How many of its SEs a tenfold change of every penalty would move atanh(rho_)
        (first order); above 2 the fit warns ``NotIdentifiedWarning``, naming
        ``rho_criterion="evidence"`` where the design identifies rho
        (``rho_structural_se_`` at most 1) and anchors (a MAR slice, an exclusion
        restriction) where it does not.
    rho_structural_se_ : float
        The SE rho would have from the selection term's variation beyond the outcome
        score's own user and item effects and features alone,
        ``1 / sqrt(n_observed var(lambda_perp))`` (:mod:`heckrec.models._identification`);
        above 1, with no MAR slice or exclusion restriction, rho rests on the errors'
        normal shape and the penalties (Coat: 30), and the fit holds rho at 0 or warns
        (``if_not_identified``). NaN when rho is fixed by the user or not modelled.
    loglik_ : float
        Log-likelihood (without penalty) at the estimate, in the outcome's units.
    log_marginal_ : float
        ``rho_criterion="laplace"`` or ``"evidence"`` (else NaN): the Laplace
        marginal likelihood at rho_, -objective_ - 1/2 log det H_rows (the Hessian in
        the users' and items' parameters) + 1/2 sum of the log prior precisions, up to a
        constant.
    laplace_hessian_ : {"exact", "block-diagonal"} or None
        How log det H_rows was taken (None under the penalised criterion): whole, with
        the user-item cross terms and the factors' rotations integrated, where the
        smaller side of the grid has at most 4096 / (2 n_factors + 2) users or items;
        else by its diagonal blocks, which leave the cross terms out (they pull rho
        towards 0; docs/inference.md).
    prior_precisions_ : dict
        The penalties of the fit by prior group ("bu_o", "bi_o", "factors_o", "bu_r",
        "bi_r", "factors_r": user biases, item biases, factors of each score): the
        hyper-parameters, or under ``rho_criterion="evidence"`` what the evidence chose.
    laplace_profile_ : ndarray of shape (n_points, 2)
        ``rho_criterion`` "laplace" or "evidence" with rho free only: every (rho,
        log_marginal) of the last search, sorted by rho. ``n_laplace_fits_`` counts the fits
        (with the penalised fit ``"auto"`` started from, where it moved on).
    n_search_pairs_ : int
        Under "laplace" or "evidence": the rows of X (a log's pairs) the search over
        rho ran on, fewer than X's where ``rho_search_pairs`` cut it to a subset of users.
    rho_criterion_ : str
        The criterion the fit used: ``rho_criterion``, with ``"auto"`` resolved.
    outcome_loc_, outcome_scale_ : float
        Mean and standard deviation of the observed outcome: the fit's units
        (``theta_`` holds the parameters in them, ``params_`` in the outcome's).
    objective_ : float
        The minimised objective: penalty minus ``loglik_``.
    se_info_ : dict
        How the standard errors were computed: CG iterations per solve,
        whether CG converged, seconds taken, and with ``unobserved="sampled"`` and
        rho estimated by the penalised fit ``design_share``: the sampling's share of
        rho's variance (atanh scale).
    n_pairs_, n_observed_, n_users_, n_items_ : int
        Sizes of the training data (n_pairs_ counts the unlisted pairs of a log).
    n_sampled_ : int
        Unlisted pairs drawn (``unobserved="sampled"``; 0 otherwise).
    n_iter_ : int
        L-BFGS iterations.
    n_epochs_ : int
        Adam epochs run before L-BFGS (0 unless ``solver="adam"``).
    n_sweeps_ : int
        Block-Newton sweeps run before L-BFGS (0 unless ``solver="block-newton"``).
    converged_ : bool
    convergence_message_ : str
        The solver's reason for stopping (printed by :meth:`summary` when not converged;
        a ConvergenceWarning says it at fit time).
    degenerate_ : str or None
        Why the fit is degenerate (rho at +-1, sigma at a boundary), else None.
    params_ : namespace
        Fitted blocks: ``mu_o, bu_o, bi_o, P_o, Q_o, w_o`` for g_o and the same
        with ``_r`` for g_r (biases, factor matrices, feature weights), in the
        order of ``user_encoder_.index_`` / ``item_encoder_.index_``.
    n_features_in_ : int
    feature_names_in_ : ndarray (DataFrame input only)

    Examples
    --------
    >>> from heckrec import HeckmanMFRegressor
    >>> from heckrec.datasets import make_selection_mf
    >>> X, r, o, truth = make_selection_mf(200, 150, n_factors=1, rho=0.6, density=0.3,
    ...                                    random_state=0)
    >>> est = HeckmanMFRegressor(n_factors=1, random_state=0).fit(X, r, o)
    >>> round(est.rho_, 2), round(est.rho_se_, 2)
    (0.69, 0.02)

    (True rho 0.6: with 350 users and items each estimating their own biases
    and factors, the estimate is biased away from 0 at this size; see
    docs/inference.md.)
    """

    _parameter_constraints = {
        **SelectionMFBase._parameter_constraints,
        "solver": [StrOptions({"lbfgs", "adam", "block-newton"})],
    }

    _outcome_kind = "continuous"

    def _likelihood(self):
        return ContinuousHeckmanLikelihood()

    def _warm_up(self, objective, theta0, rng):
        """``solver="block-newton"``: sweeps of row-wise Newton steps before L-BFGS.

        The sweeps need the whole pair set on the CPU and every block but
        atanh(rho) free; where that does not hold (every pair observed) L-BFGS
        fits alone.
        """
        if self.solver != "block-newton" or not BlockNewton.supported(objective):
            return super()._warm_up(objective, theta0, rng)
        return block_newton(objective, theta0, self.max_iter, self.tol * SWITCH_TOL_FACTOR,
                            self.verbose, stop=self._boundary_stop(objective.layout))

    @staticmethod
    def _outcome_mean(g_r):
        return g_r

    def _standardise_outcome(self, y, o):
        """(y - mean) / sd over the observed pairs: the fit's units.

        Fitting in standard units makes the penalties, the start values and the
        tolerances independent of the outcome's units, so rescaling or shifting
        y rescales or shifts the predictions and leaves rho_ unchanged
        (../shared/reliability F8: r x 1e6 moved rho from 0.886 to 0.109 when the
        penalties acted in the outcome's units).
        """
        observed = y[o]
        if observed.size < 2:
            raise ValueError(f"only {observed.size} sample is observed (o == 1): the outcome's "
                             "spread sigma and rho cannot be estimated from one pair")
        reject_constant_outcome(observed, "observed pair")
        # the spread of y / max|y|, so an entry of 1e300 cannot overflow the square
        units = FeatureStandardiser().fit(observed[:, None])
        self.outcome_loc_ = float(units.loc_[0])
        self.outcome_scale_ = float(units.scale_[0])
        return np.where(o, (y - self.outcome_loc_) / self.outcome_scale_, 0.0)

    def _in_user_units(self, p):
        """g_r and sigma back in the outcome's units: g_r = loc + scale g_r(fit)."""
        loc, scale = self.outcome_loc_, self.outcome_scale_
        p.mu_r = loc + scale * p.mu_r
        for name in ("bu_r", "bi_r", "w_r"):
            setattr(p, name, scale * getattr(p, name))
        root = np.sqrt(scale)  # the product P_r Q_r^T scales by `scale`, split evenly
        p.P_r, p.Q_r = root * p.P_r, root * p.Q_r
        p.s = p.s + float(np.log(scale))
        return p

    def _in_fit_units(self, y):
        return (y - self.outcome_loc_) / self.outcome_scale_

    def _log_jacobian(self, n_densities):
        return n_densities * float(np.log(self.outcome_scale_))

    def _init_scalars(self, r_observed):
        spread = float(np.std(r_observed)) if r_observed.size > 1 else 1.0
        return {"mu_r": float(np.mean(r_observed)), "a": 0.0,
                "s": float(np.log(spread if spread > 0 else 1.0))}

    def _finish_fit(self, objective, r_observed):
        p = self.params_
        self.rho_ = float(np.tanh(p.a)) if self._selection_modelled else float("nan")
        self.sigma_ = float(np.exp(p.s))
        self.rho_se_ = self.sigma_se_ = float("nan")
        self.degenerate_ = None
        spread = self.outcome_scale_  # np.std(r_observed), computed without overflow
        if not self._selection_modelled:
            self.degenerate_ = "every pair is observed, rho is not identified"
        elif abs(self.rho_) > RHO_BOUNDARY and self.fixed_rho is None:
            self._warn_degenerate(f"rho_ = {self.rho_:+.4f} is at the boundary +-1")
        elif spread > 0 and not (spread / SIGMA_BOUNDARY**2 < self.sigma_
                                 < SIGMA_BOUNDARY * spread):
            self._warn_degenerate(f"sigma_ = {self.sigma_:.4g} is at a boundary (the observed "
                                  f"outcome's standard deviation is {spread:.4g})")
        if self.degenerate_ is not None and self._selection_modelled:
            return
        if self._wants_standard_errors():
            rho_free = self._selection_modelled and self.fixed_rho is None
            names = ["a", "s"] if rho_free else ["s"]
            cov = self._profiled_cov(objective, names)
            var = dict(zip(names, np.diag(cov)))
            self.sigma_se_ = float(self.sigma_ * np.sqrt(var["s"]))
            if "a" in var:
                self.rho_se_ = float((1.0 - self.rho_**2) * np.sqrt(var["a"]))
                self._check_identification(objective, float(np.sqrt(var["a"])))

    def _carry_rho_uncertainty(self, scalars_at, a_hat, var_a):
        """sigma_se_ where the marginal likelihood chose rho: the final fit's holds rho at
        rho_, so add what rho's uncertainty carries along the profile,
        var(log sigma) = var(log sigma | a) + (d log sigma / da)^2 var(a): the identity
        the joint inverse Hessian obeys (tests/test_laplace.py checks it on a penalised
        fit), with the slope by central difference of the search's fits at
        a +- LAPLACE_STEP (every search ends on one; the curvature behind rho_se_ fits
        them where it did not). Left as it is where they are missing (``fit`` starts
        every fit with ``_se_carries_rho`` False)."""
        low, high = (scalars_at.get(a_hat + d) for d in (-LAPLACE_STEP, LAPLACE_STEP))
        if low is None or high is None or not np.isfinite(self.sigma_se_):
            return
        slope = (high["s"] - low["s"]) / (2.0 * LAPLACE_STEP)
        self.sigma_se_ = float(np.sqrt(self.sigma_se_**2
                                       + (self.sigma_ * slope) ** 2 * var_a))
        self._se_carries_rho = True

    def _scalar_estimates(self):
        return [("rho", self.rho_, self.rho_se_), ("sigma", self.sigma_, self.sigma_se_)]

    def _pair_derivatives(self, pairs, p):
        """(g_o, g_r) -> the per-pair (dl/dg_o, dl/dg_r) at rho_ and sigma_ (fit's units)."""
        def derivatives(g_o, g_r):
            terms = pair_terms(np, scipy.special, g_o, g_r, pairs.r, pairs.o, p.a, p.s)
            return terms[1], terms[2]

        return derivatives

    def _slice_derivatives(self, g_r, r, p):
        """d/dg_r and -d2/dg_r2 of a MAR slice pair's normal log-density: (r - g_r) /
        sigma^2 and 1 / sigma^2."""
        return continuous_terms(g_r, r, p.s)[1], np.full(g_r.shape, np.exp(-2.0 * p.s))

    def _draw_outcome(self, g_r, u):
        return g_r + self.sigma_ * u

    def predict(self, X):
        """Debiased preference E[y | x] = g_r(x), what the pair would score if seen."""
        return self.decision_scores(X)[1]

    def predict_observed(self, X):
        """E[y | x, o = 1] = g_r + rho sigma phi(g_o)/Phi(g_o): the mean among observed pairs.

        This is what a naive model fitted to observed ratings estimates; the gap
        to :meth:`predict` is the selection bias.
        """
        g_o, g_r = self.decision_scores(X)
        mills = log_ndtr_mills(np, scipy.special, g_o)[1]
        rho = 0.0 if np.isnan(self.rho_) else self.rho_
        return g_r + rho * self.sigma_ * mills

    def score(self, X, y, o=None, sample_weight=None):
        """Mean log-likelihood per pair of (o, y) under the fitted model; higher is better.

        Unlike R^2 on observed ratings, this proper scoring rule uses the
        unobserved pairs too, so model selection by it (e.g. GridSearchCV's
        default) is not itself biased by the selection. ``o`` is routed here
        by metadata routing; with ``o=None`` the observed pairs are those
        where ``y`` is not NaN, so with routing off pass NaN for unobserved y.

        Parameters
        ----------
        X : array-like or DataFrame, ids and features as in :meth:`fit`
        y : array-like, outcome (read only where ``o == 1``)
        o : array-like of 0/1, default=None
        sample_weight : array-like of shape (n_pairs,), default=None
            Weights of the pairs in the mean.

        Returns
        -------
        float
        """
        g_o, g_r = self.decision_scores(X)
        y, o = validate_y_o(y, o, g_o.shape[0])
        if not self._selection_modelled:
            # Selection not modelled: score the outcome density alone.
            a, g_o = 0.0, np.full_like(g_o, 40.0)
        else:
            a = float(self.params_.a)
        ll = pair_terms(np, scipy.special, g_o, g_r, np.where(o, y, 0.0), o, a,
                        float(self.params_.s))[0]
        return self._mean_loglik(ll, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # score() is a mean log-likelihood, not R^2: the check "score > 0.5"
        # does not apply.
        tags.regressor_tags.poor_score = True
        return tags


__all__ = ["HeckmanMFRegressor"]
