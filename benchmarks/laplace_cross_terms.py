"""Where the evidence's pull of rho towards 0 comes from: the block-diagonal Laplace
approximation against the dense one, over replications with a known truth (issue 15).

The evidence's rho_ misses the truth by several of its SEs, always towards 0
(docs/benchmarks.md: 0.484 +- 0.004 for 0.5 on the Yahoo-shaped log). Its log m drops the
user-item cross terms of H_rows (heckrec.models._laplace). Here, on small simulated grids
where the dense H_rows fits in memory, both forms of log m are profiled over rho at the
same prior and maximised, replication by replication:

- each replication: make_selection_mf(150, 100, rank 2, rho 0.5, density 0.2), a new seed;
- its prior: the evidence fit's own precisions (``prior_precisions_``);
- at rho in RHOS: the penalised fit at fixed rho under that prior, log m with the blocks
  (``log_marginal_``) and with the dense Hessian of the objective in every user's and
  item's parameters (central differences of the analytic gradient, step 1e-5);
- each profile's maximiser by a parabola through its best point and neighbours.

The dense Hessian has k (k - 1) / 2 exact zero eigenvalues per score, the factors'
rotations, which leave the penalised objective unchanged; its log det is taken over the
remaining directions (the orbit's volume, left out, is a term that moves little with rho).

If the dense maximiser is centred on the truth where the blocks' is not, the cross terms
are the pull; if both are pulled alike, it is the Laplace approximation (or the prior).

Run: python benchmarks/laplace_cross_terms.py [--quick]   (--quick: 3 replications)
"""

import sys
import time
import warnings

import numpy as np
from _common import dense_row_hessian, fit_keeping_objective, write

from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.models import _laplace_exact

# This script compares the block-diagonal log m with the dense one; the fits themselves
# (the evidence's included) use the blocks, as every fit did when it was written. The
# estimators now take H_rows whole on grids this small (benchmarks/evidence_coverage.py).
_laplace_exact.MAX_KEPT = 0

QUICK = "--quick" in sys.argv
REPLICATIONS = 3 if QUICK else 12
TRUE_RHO = 0.5
RHOS = np.round(np.arange(0.2, 0.81, 0.1), 2)
SHAPE, RANK, DENSITY = (150, 100), 2, 0.2


def dense_row_logdet(objective, theta, layout):
    """log det of the dense Hessian of the objective in the users' and items' parameters,
    over the directions that change the objective; and the smallest eigenvalue there and
    the largest magnitude among the rotations'."""
    eigenvalues = np.linalg.eigvalsh(dense_row_hessian(objective, theta, layout))
    # The penalised objective is unchanged by rotating a score's factors (P R, Q R, R
    # orthogonal): k (k - 1) / 2 flat directions per score, exact zeros of the dense
    # Hessian that the blocks do not see. The posterior is integrated over that orbit,
    # whose volume is left out here (it moves little with rho): log det is taken over the
    # other directions. ``smallest`` is the first eigenvalue after them.
    gauge = 2 * (RANK * (RANK - 1) // 2)
    rest = eigenvalues[gauge:]
    logdet = float(np.log(rest).sum()) if rest[0] > 0 else np.nan
    return logdet, float(rest[0]), float(np.abs(eigenvalues[:gauge]).max(initial=0.0))


def log_m_both(X, r, o, rho, precisions):
    """(block log m, dense log m, the dense Hessian's smallest eigenvalue past the
    rotations', the largest of the rotations' in magnitude) of the fit at fixed rho under
    ``precisions``."""
    est = HeckmanMFRegressor(RANK, fixed_rho=rho, rho_criterion="laplace", compute_se=False,
                             tol=1e-10, random_state=0)
    est._prior_precisions = dict(precisions)  # the evidence's search sets it the same way
    objective = fit_keeping_objective(est, X, r, o)
    rows = np.concatenate(list(est._layout.prior_groups().values()))
    prior = objective.penalty[rows]
    logdet, smallest, flat = dense_row_logdet(objective, est.theta_, est._layout)
    dense = -est.objective_ - 0.5 * logdet + 0.5 * float(np.log(prior[prior > 0]).sum())
    return est.log_marginal_, dense, smallest, flat


def maximiser(values):
    """rho maximising a profile over RHOS: the vertex of the parabola in atanh(rho)
    through the best point and its neighbours (the best point itself at the edge)."""
    a = np.arctanh(RHOS)
    best = int(np.nanargmax(values))
    if best in (0, RHOS.size - 1):
        return float(RHOS[best])
    x, y = a[best - 1:best + 2], values[best - 1:best + 2]
    c2, c1, _ = np.polyfit(x, y, 2)
    return float(np.tanh(-c1 / (2 * c2)))


def main():
    rows = []
    for seed in range(REPLICATIONS):
        start = time.perf_counter()
        X, r, o, _ = make_selection_mf(*SHAPE, n_factors=RANK, rho=TRUE_RHO, density=DENSITY,
                                       random_state=100 + seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evidence = HeckmanMFRegressor(RANK, rho_criterion="evidence", random_state=0,
                                          if_not_identified="estimate").fit(X, r, o)
        profiles = np.array([log_m_both(X, r, o, rho, evidence.prior_precisions_)
                             for rho in RHOS])
        row = {"seed": 100 + seed, "evidence rho_": f"{evidence.rho_:+.4f}",
               "evidence rho_se_": f"{evidence.rho_se_:.4f}",
               "blocks: maximiser": f"{maximiser(profiles[:, 0]):+.4f}",
               "dense: maximiser": f"{maximiser(profiles[:, 1]):+.4f}",
               "dense - blocks": f"{maximiser(profiles[:, 1]) - maximiser(profiles[:, 0]):+.4f}",
               "blocks - dense at the truth": f"{profiles[3, 0] - profiles[3, 1]:+.2f}",
               "dense: smallest eigenvalue": f"{profiles[:, 2].min():.3g}",
               "dense: rotations' largest |eigenvalue|": f"{profiles[:, 3].max():.1e}",
               "s": f"{time.perf_counter() - start:.0f}"}
        print(row, flush=True)
        rows.append(row)
    block = np.array([float(row["blocks: maximiser"]) for row in rows])
    dense = np.array([float(row["dense: maximiser"]) for row in rows])
    ev = np.array([float(row["evidence rho_"]) for row in rows])
    se = np.array([float(row["evidence rho_se_"]) for row in rows])
    n = len(rows)
    summary = {"seed": "mean (SE of the mean)",
               "evidence rho_": f"{ev.mean():+.4f} ({ev.std(ddof=1) / np.sqrt(n):.4f})",
               "evidence rho_se_": f"{se.mean():.4f} (SD over seeds {ev.std(ddof=1):.4f})",
               "blocks: maximiser": f"{block.mean():+.4f} ({block.std(ddof=1) / np.sqrt(n):.4f})",
               "dense: maximiser": f"{dense.mean():+.4f} ({dense.std(ddof=1) / np.sqrt(n):.4f})",
               "dense - blocks": f"{(dense - block).mean():+.4f} "
                                 f"({(dense - block).std(ddof=1) / np.sqrt(n):.4f})",
               "blocks - dense at the truth": "", "dense: smallest eigenvalue": "",
               "dense: rotations' largest |eigenvalue|": "", "s": ""}
    rows.append(summary)
    print(summary)
    write("laplace_cross_terms_quick" if QUICK else "laplace_cross_terms", rows, list(rows[0]),
          note=f"HeckmanMFRegressor(n_factors={RANK}) on make_selection_mf({SHAPE[0]}, "
               f"{SHAPE[1]}, rank {RANK}, rho {TRUE_RHO}, density {DENSITY}), one seed per "
               f"row; log m at fixed rho in {RHOS.tolist()} under the evidence fit's "
               "precisions, "
               "with the block-diagonal H_rows and with the dense one.")


if __name__ == "__main__":
    main()
