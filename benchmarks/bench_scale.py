"""Fits from the log (unobserved="complement") against the listed grid, at Yahoo! R3's shape.

A simulated log of Yahoo! R3's shape (15,400 users x 1,000 items, about 3e5 observed,
rank 4, rho = 0.5; heckrec.datasets.make_selection_log) is written once; each fit then
runs in its own process, so its peak RSS (ru_maxrss) is its own: the complement fit from
the log, and today's listed fit of the same data (every pair of the log's users x items
in X; a user the simulation never observed is in neither, since a log cannot know of it).
Defaults of HeckmanMFRegressor except n_factors=4 and rho_criterion="penalised" (the
passes compared, not the criteria: ``--evidence`` has those).

With ``--universe [USERS]``: the 1e9-pair universe of issue 15 (100,000 users x 10,000
items by default, density 0.01, so about 1e7 observed, rank 8, rho = 0.5), too large to
sweep at every pass, fitted with ``unobserved="sampled"`` at its defaults (ratio 10); a
smaller USERS count is a pilot of the same design. With ``--corrected`` as well, the fit
is followed by ``bias_corrected_rho``; with ``--evidence`` as well, rho and the prior
precisions are chosen by the marginal likelihood (its row blocks from the sample's
weighted draws) instead.

With ``--corrected``: the same Yahoo-shaped log fitted from the log at the default
penalties and at reg_factors 10 (the default's 100 shrinks the rank-4 factors far below
the simulator's, whose entries have SD 0.49; the table's "factor RMS"), each followed by
``bias_corrected_rho`` (the two-point parametric bootstrap, which simulates logs from the
fit with ``simulate_log`` and refits them).

With ``--evidence``: the same log fitted from the log with ``rho_criterion="evidence"``
(the penalties read as Gaussian priors whose precisions the marginal likelihood chooses,
the users' and items' parameters integrated out by Laplace's method; each point of its
search over rho is a penalised fit at fixed rho), beside the penalised default.

Run: python benchmarks/bench_scale.py [--quick]   (--quick: 3,000 x 1,000)
     python benchmarks/bench_scale.py --corrected [--quick]
     python benchmarks/bench_scale.py --evidence [--quick]
     python benchmarks/bench_scale.py --universe [USERS] [--corrected | --evidence]
"""

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import write

from heckrec.datasets import make_selection_log

QUICK = "--quick" in sys.argv
SHAPE = (3000, 1000) if QUICK else (15400, 1000)
TRUE_RHO = 0.5
UNIVERSE = "--universe" in sys.argv
CORRECTED = "--corrected" in sys.argv
EVIDENCE = "--evidence" in sys.argv

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
from heckrec import HeckmanMFRegressor
mode, folder, rank = sys.argv[1], sys.argv[2], int(sys.argv[3])
params = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
correct = params.pop("correct", False)
X, r = np.load(folder + "/X.npy"), np.load(folder + "/r.npy")
if mode == "listed":  # the grid of the log's users x items, as a user had to pass it before
    seen_users, seen_items = np.unique(X[:, 0]), np.unique(X[:, 1])
    n_items = seen_items.size
    o = np.zeros(seen_users.size * n_items, dtype=np.int8)
    cell = np.searchsorted(seen_users, X[:, 0]) * n_items + np.searchsorted(seen_items, X[:, 1])
    o[cell] = 1
    y = np.zeros(o.size)
    y[cell] = r
    users, items = np.divmod(np.arange(o.size), n_items)
    X, r, args = np.column_stack([seen_users[users], seen_items[items]]), y, (o,)
    del users, items
else:
    args = ()
est = HeckmanMFRegressor(n_factors=rank, unobserved=mode, random_state=0, **params)
corrected = None
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    start = time.perf_counter()
    est.fit(X, r, *args)
    seconds = time.perf_counter() - start
    if correct:
        from heckrec.inference import bias_corrected_rho
        start = time.perf_counter()
        result = bias_corrected_rho(est, X, random_state=0)
        low, high = result.conf_int()
        corrected = {"estimate": result.estimate, "se": result.se, "low": low, "high": high,
                     "bias_slope": getattr(result, "bias_slope", None),
                     "seconds": time.perf_counter() - start}
print(json.dumps({"mode": mode, "seconds": seconds, "se_seconds": est.se_info_.get("seconds"),
                  "peak_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rho": est.rho_, "rho_se": est.rho_se_, "n_iter": est.n_iter_,
                  "sigma": est.sigma_, "sigma_se": est.sigma_se_,
                  "rho_free": est.rho_free_, "structural_se": est.rho_structural_se_,
                  "loglik": est.loglik_, "converged": est.converged_,
                  "n_sampled": getattr(est, "n_sampled_", None),
                  "design_share": est.se_info_.get("design_share"),
                  "corrected": corrected, "criterion": est.rho_criterion_,
                  "n_fits": getattr(est, "n_laplace_fits_", 1),
                  "search_pairs": getattr(est, "n_search_pairs_", None),
                  "precisions": est.prior_precisions_,
                  "factor_rms": float(np.sqrt(np.mean(np.concatenate(
                      [np.ravel(getattr(est.params_, b)) for b in ("P_o", "Q_o", "P_r", "Q_r")]
                  ) ** 2))) if rank else 0.0,
                  "warnings": sorted({type(w.message).__name__ for w in caught})}))
"""


def run_child(mode, folder, rank, params=None):
    """Fit in a fresh process and return its JSON line (so ru_maxrss is the fit's own)."""
    out = subprocess.run([sys.executable, "-c", CHILD, mode, folder, str(rank),
                          json.dumps(params or {})], check=True,
                         capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    print(result, flush=True)
    return result


@contextlib.contextmanager
def saved_log(X, r):
    """A temporary folder holding X.npy and r.npy, which each child process loads. The
    arrays are not held while it is open, so a caller can free them for the child."""
    with tempfile.TemporaryDirectory() as folder:
        np.save(Path(folder) / "X.npy", X)
        np.save(Path(folder) / "r.npy", r)
        del X, r
        yield folder


def correction_columns(fix):
    """The table columns of a child's ``bias_corrected_rho`` result."""
    return {"corrected rho": f"{fix['estimate']:+.4f} +- {fix['se']:.4f}",
            "95% interval": f"[{fix['low']:+.3f}, {fix['high']:+.3f}]",
            "bias slope": f"{fix['bias_slope']:+.3f}"}


def universe():
    """The 1e9-pair universe, fitted with unobserved="sampled" (issue 15)."""
    at = sys.argv.index("--universe") + 1
    n_users = int(sys.argv[at]) if at < len(sys.argv) and sys.argv[at].isdigit() else 100_000
    n_items, rank = 10_000, 8
    start = time.perf_counter()
    X, r, _ = make_selection_log(n_users, n_items, n_factors=rank, rho=TRUE_RHO,
                                 density=0.01, random_state=0)
    print(f"log: {X.shape[0]:,} observed of {n_users * n_items:,} pairs, simulated in "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    with saved_log(X, r) as folder:
        n_observed = X.shape[0]
        del X, r
        params = ({"correct": True} if CORRECTED else
                  {"rho_criterion": "evidence"} if EVIDENCE else None)
        result = run_child("sampled", folder, rank, params)
    share = result["design_share"]  # rho's share; none where rho was not a parameter
    row = {"users x items": f"{n_users:,} x {n_items:,}", "observed": f"{n_observed:,}",
           "rho_criterion": result["criterion"], "penalised fits": result["n_fits"],
           "pairs searched": ("" if result["search_pairs"] is None
                              else f"{result['search_pairs']:,}"),
           "sampled unlisted pairs": f"{result['n_sampled']:,}",
           "fit s (with SEs)": f"{result['seconds']:.0f}",
           "of which SEs s": f"{result['se_seconds'] or 0:.0f}",
           "peak RSS MB": f"{result['peak_MB']:.0f}",
           "factor RMS": f"{result['factor_rms']:.4f}",
           "rho_ (truth 0.5)": f"{result['rho']:+.4f} +- {result['rho_se']:.4f}",
           "design share of var": "" if share is None else f"{share:.3f}",
           "iterations": result["n_iter"], "converged": result["converged"],
           "warnings": ", ".join(result["warnings"]) or "none"}
    fix = result["corrected"]
    if fix is not None:
        row.update({"correction s": f"{fix['seconds']:.0f}", **correction_columns(fix)})
    name = "scale_universe" if n_users == 100_000 else "scale_universe_pilot"
    if EVIDENCE:
        chosen = result["precisions"]
        row["prior precisions"] = ", ".join(f"{g} {v:.3g}" for g, v in chosen.items())
    write(name + ("_corrected" if CORRECTED else "_evidence" if EVIDENCE else ""), [row],
          list(row),
          note=f"HeckmanMFRegressor(n_factors={rank}, unobserved='sampled') defaults otherwise "
               "(unobserved_ratio 10); the fit in its own process (peak RSS = its ru_maxrss)."
               + (" The evidence's rho_se_ (curvature of log m) leaves the sample's variance "
                  "out." if EVIDENCE else ""))


def corrected(X, r):
    """The log fitted at two penalties, each with bias_corrected_rho (``--corrected``)."""
    rows = []
    with saved_log(X, r) as folder:
        for params in ({}, {"reg_factors": 10.0}):
            result = run_child("complement", folder, 4, {**params, "correct": True})
            fix = result["corrected"]
            rows.append({"penalties": "defaults (100 / 1)" if not params else "10 / 1",
                         "factor RMS": f"{result['factor_rms']:.4f}",
                         "fit s (with SEs)": f"{result['seconds']:.1f}",
                         "correction s": f"{fix['seconds']:.1f}",
                         "total s": f"{result['seconds'] + fix['seconds']:.1f}",
                         "peak RSS MB": f"{result['peak_MB']:.0f}",
                         "rho_ (truth 0.5)": f"{result['rho']:+.4f} +- {result['rho_se']:.4f}",
                         **correction_columns(fix),
                         "warnings": ", ".join(result["warnings"]) or "none"})
    name = "scale_corrected_quick" if QUICK else "scale_corrected"
    write(name, rows, list(rows[0]),
          note="HeckmanMFRegressor(n_factors=4, unobserved='complement') from the log, then "
               "bias_corrected_rho(est, X, random_state=0) (n_boot 2, logs simulated by "
               "simulate_log); one process per row, peak RSS its ru_maxrss.")


def evidence(X, r):
    """The log fitted by the penalised likelihood, by the evidence, and by the default
    "auto", which moves from the first to the second where the penalties shift rho_
    (``--evidence``)."""
    rows = []
    with saved_log(X, r) as folder:
        for criterion in ("penalised", "evidence", "auto"):
            result = run_child("complement", folder, 4, {"rho_criterion": criterion})
            chosen = result["precisions"]
            used = result["criterion"]
            rows.append({"rho_criterion": (criterion if used == criterion else
                                           f"{criterion} (the default; used: {used})"),
                         "fit s (with SEs)": f"{result['seconds']:.1f}",
                         "penalised fits": result["n_fits"],
                         "peak RSS MB": f"{result['peak_MB']:.0f}",
                         "rho_ (truth 0.5)": f"{result['rho']:+.4f} +- {result['rho_se']:.4f}",
                         "sigma_ (truth 1)": f"{result['sigma']:.4f} +- "
                                             f"{result['sigma_se']:.4f}",
                         "factor RMS": f"{result['factor_rms']:.4f}",
                         "factor precisions o / r": f"{chosen['factors_o']:.3g} / "
                                                    f"{chosen['factors_r']:.3g}",
                         "bias precisions bu_o, bi_o, bu_r, bi_r": ", ".join(
                             f"{chosen[g]:.3g}" for g in ("bu_o", "bi_o", "bu_r", "bi_r")),
                         "warnings": ", ".join(result["warnings"]) or "none"})
    write("scale_evidence_quick" if QUICK else "scale_evidence", rows, list(rows[0]),
          note="HeckmanMFRegressor(n_factors=4, unobserved='complement', rho_criterion=...) "
               "from the log, defaults otherwise (\"auto\" is the default; the evidence "
               "starts its precisions from "
               "reg_factors 100, reg_bias 1); one process per row, peak RSS its ru_maxrss. "
               "Precisions in the fit's units; the simulator draws factor entries with SD "
               "0.49 (precision 4.1) and biases with SD 0.3 (11).")


def main():
    if UNIVERSE:
        return universe()
    X, r, _ = make_selection_log(*SHAPE, n_factors=4, rho=TRUE_RHO, density=0.02,
                                 random_state=0)
    print(f"log: {X.shape[0]:,} observed of {SHAPE[0] * SHAPE[1]:,} pairs", flush=True)
    if CORRECTED:
        return corrected(X, r)
    if EVIDENCE:
        return evidence(X, r)
    rows = []
    with saved_log(X, r) as folder:
        for mode in ("complement", "listed"):
            # penalised: this table compares the two passes, not the criteria
            result = run_child(mode, folder, 4, {"rho_criterion": "penalised"})
            rows.append({"X lists": "the log" if mode == "complement" else "every pair",
                         "unobserved": mode, "users x items": f"{SHAPE[0]:,} x {SHAPE[1]:,}",
                         "observed": f"{X.shape[0]:,}",
                         "fit s (with SEs)": f"{result['seconds']:.1f}",
                         "of which SEs s": f"{result['se_seconds'] or 0:.1f}",
                         "peak RSS MB": f"{result['peak_MB']:.0f}",
                         "rho_ (truth 0.5)": f"{result['rho']:+.4f} +- {result['rho_se']:.4f}",
                         "iterations": result["n_iter"],
                         "loglik_": f"{result['loglik']:.6f}",
                         "warnings": ", ".join(result["warnings"]) or "none"})
    write("scale_quick" if QUICK else "scale", rows,
          ["X lists", "unobserved", "users x items", "observed", "fit s (with SEs)",
           "of which SEs s", "peak RSS MB", "rho_ (truth 0.5)", "iterations", "loglik_",
           "warnings"],
          note="HeckmanMFRegressor(n_factors=4, rho_criterion='penalised') defaults "
               "otherwise; each fit in its own "
               "process (peak RSS = ru_maxrss of that process, numba and numpy included).")


if __name__ == "__main__":
    main()
