"""Helpers shared by the benchmark scripts: timing and writing result tables."""

import json
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def median_time(fn, repeat=5):
    """Median wall time of ``fn()`` over ``repeat`` runs (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


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
