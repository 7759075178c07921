"""Helpers shared by the benchmark scripts: timing, the MAR slice, writing result tables."""

import json
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def mar_slice(n, seed):
    """A random 5% of n MAR test pairs, by seed: the slice that trains and chooses
    settings (the Res-DR paper's protocol), as a boolean mask."""
    rng = np.random.default_rng(seed)
    chosen = np.zeros(n, dtype=bool)
    chosen[rng.choice(n, int(round(0.05 * n)), replace=False)] = True
    return chosen


def median_time(fn, repeat=5):
    """Median wall time of ``fn()`` over ``repeat`` runs (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def timed_fit(est, X, r, o):
    """Fit ``est``; return (fit seconds without the SEs, SE seconds, warning class names)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        est.fit(X, r, o)
        # A degenerate fit computes no standard errors (and has no se_info_).
        se_seconds = getattr(est, "se_info_", {}).get("seconds", 0.0)
        fit_seconds = time.perf_counter() - start - se_seconds
    return fit_seconds, se_seconds, "; ".join(sorted({type(w.message).__name__
                                                      for w in caught})) or "none"


def fit_then_correct(est, X, r, o):
    """Fit ``est`` (with its SEs), then ``bias_corrected_rho(est, X, random_state=0)``;
    return (fit seconds, the BiasCorrectedRho, its seconds, warning class names)."""
    import warnings

    from heckrec.inference import bias_corrected_rho

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        est.fit(X, r, o)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        result = bias_corrected_rho(est, X, random_state=0)
        correction_seconds = time.perf_counter() - start
    return fit_seconds, result, correction_seconds, ", ".join(
        sorted({w.category.__name__ for w in caught})) or "none"


def write(name, rows, columns, note=""):
    """Print a markdown table and write it (and the raw rows as JSON) under results/."""
    import numba

    RESULTS.mkdir(exist_ok=True)
    header = (f"Machine: {platform.machine()}, {numba.get_num_threads()} numba threads, "
              f"numpy {np.__version__}, numba {numba.__version__}.")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    text = "\n".join([header, note, "", *lines, ""]) if note else "\n".join([header, "", *lines, ""])
    print(text)
    (RESULTS / f"{name}.md").write_text(text)
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=1))


def fit_keeping_objective(est, X, r, o):
    """Fit ``est`` quietly and return the penalised objective it minimised (for the dense
    Hessian checks of the Laplace approximation)."""
    import warnings

    captured = {}
    finish = est._finish_fit

    def keep_objective(objective, y):
        captured["objective"] = objective
        return finish(objective, y)

    est._finish_fit = keep_objective
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, r, o)
    return captured["objective"]


def dense_row_hessian(objective, theta, layout, step=1e-5):
    """The dense Hessian of ``objective`` in every user's and item's parameters (the
    prior groups), by central differences of its analytic gradient, symmetrised."""
    rows = np.concatenate(list(layout.prior_groups().values()))
    H = np.empty((rows.size, rows.size))
    for j, col in enumerate(rows):
        up, down = theta.copy(), theta.copy()
        up[col] += step
        down[col] -= step
        H[:, j] = (objective.full(up)[1][rows] - objective.full(down)[1][rows]) / (2 * step)
    return 0.5 * (H + H.T)
