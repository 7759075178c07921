"""Assemble docs/benchmarks.md from the tables the benchmark scripts wrote.

Run after bench_pass.py, bench_fit.py [--largest] and bench_classic.py:
    python benchmarks/report.py
"""

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"

SECTIONS = [
    ("pass", "Likelihood + gradient pass (continuous model)",
     "`benchmarks/bench_pass.py`. heckrec's two-pass parallel kernel against its numpy twin "
     "(the test oracle) and a plain one-loop numba kernel (serial, `math.erfc`; a parallel "
     "version of that loop races). Target: 25 M pairs/s at k = 16."),
    ("fit", "HeckmanMFRegressor fit",
     "`benchmarks/bench_fit.py`. Time to fit (L-BFGS to convergence) and, separately, to "
     "compute the profiled standard errors; rho's error against the truth."),
    ("fit_largest", "HeckmanMFRegressor fit at Yahoo! R3's full-grid size",
     "`benchmarks/bench_fit.py --largest`. Target: under 2 minutes for 1.5e7 pairs."),
    ("classic", "Classic HeckmanSelection ML fit",
     "`benchmarks/bench_classic.py`. Target: under 10 s at n = 1e6."),
]


def main():
    parts = ["# Benchmarks", "",
             "Measured by the scripts under `benchmarks/` on this project's 2-core machine; "
             "each writes its table to `benchmarks/results/`, and `benchmarks/report.py` "
             "collects them here. These machines are noisy: compare figures within one table.",
             ""]
    for name, title, text in SECTIONS:
        path = RESULTS / f"{name}.md"
        if path.exists():
            parts += [f"## {title}", "", text, "", path.read_text().strip(), ""]
    DOCS.write_text("\n".join(parts))
    print(f"wrote {DOCS}")


if __name__ == "__main__":
    main()
