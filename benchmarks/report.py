"""Assemble docs/benchmarks.md from the tables the benchmark scripts wrote.

Run after bench_pass.py, bench_fit.py [--largest], bench_classic.py and bench_binary.py:
    python benchmarks/report.py
"""

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"

SECTIONS = [
    ("pass", "Likelihood + gradient pass (continuous model)",
     "`benchmarks/bench_pass.py`. heckrec's two-pass parallel kernel against its numpy twin "
     "(the test oracle) and a plain one-loop numba kernel (serial, `math.erfc`; a parallel "
     "version of that loop races). Target: 25 M pairs/s at k = 16."),
    ("fit", "HeckmanMFRegressor fit",
     "`benchmarks/bench_fit.py`. Time to fit and, separately, to compute the profiled "
     "standard errors; rho's error against the truth. Each size is fitted by both solvers: "
     "`lbfgs` (L-BFGS alone) and `block-newton` (Newton sweeps over the user rows, the item "
     "rows and the globals, accelerated by SQUAREM, handing over to the same L-BFGS with "
     "the same tolerances once a cycle of three sweeps gains less than 100 tol)."),
    ("fit_largest", "HeckmanMFRegressor fit at Yahoo! R3's full-grid size",
     "`benchmarks/bench_fit.py --largest`. Target: under 2 minutes for 1.5e7 pairs. One "
     "likelihood + gradient pass takes about 0.49 s here; L-BFGS alone needs some 360 "
     "iterations (707 before the spectral start and the block scaling). "
     "`solver=\"block-newton\"` needs far fewer passes: a sweep costs about five and "
     "replaces dozens of L-BFGS iterations on the row blocks, whose curvatures differ by "
     "the pair counts. The machine is noisy: the run before this one, with the same fit "
     "code (the SEs then differenced the gradient), measured 224.9 s for L-BFGS alone and "
     "68.6 s for block-newton (SEs 56.3 and 57.6 s); before fit ran BLAS on one thread "
     "(2026-11-23), 227.9 s and 87.3 s (SEs 60.9 and 62.9 s)."),
    ("classic", "Classic HeckmanSelection ML fit",
     "`benchmarks/bench_classic.py`. Target: under 10 s at n = 1e6."),
    ("bench_vs_r", "Classic fits against R sampleSelection",
     "`benchmarks/bench_vs_r.py`, R sampleSelection 1.2-12 built from ../shared/rbench, the "
     "same CSV (R's make_data.R) for both, one run. R's time is its selection() call "
     "(system.time, library load excluded), heckrec's from_formula + fit. HeckmanSelection "
     "computes the log-likelihood, gradient and analytic Hessian in one numba pass "
     "(the MF model's per-pair second derivatives); HeckmanProbit its Hessian analytically "
     "from one log Phi2 evaluation. Before (2026-12-01, ../shared/rbench/README.md): 3.9x "
     "at tobit-2 1e5, 1.55x at 1e6, 58x at heckprobit 1e5."),
    ("bench_jackknife", "Bias corrections of rho: cost against the fit",
     "`benchmarks/bench_jackknife.py`. jackknife_rho (one partition: four half fits, each "
     "warm-started from the full fit's rows) and the parametric-bootstrap correction "
     "(30 warm-started refits of simulated data) beside the fit they correct, whose time "
     "includes its standard errors (the refits compute none). Issue 14's aim for the "
     "jackknife: at most 3 times the fit."),
    ("binary_pass", "Binary outcome: likelihood + gradient pass by method",
     "`benchmarks/bench_binary.py`. The exact likelihood uses Genz's quadrature where "
     "Phi2 >= 1e-2 and the slower log-space tail integral below it (next table). The "
     "simulators' error is against exact at the same parameters."),
    ("bvn_accuracy", "Bivariate normal CDF: Genz against the tail integral",
     "`benchmarks/bvn_accuracy.py`. Why the exact likelihood switches from Genz's "
     "formula to the tail integral below Phi2 = 1e-2 (log Phi2 = -4.6): Genz's absolute "
     "accuracy is a relative one only where Phi2 is not small."),
    ("binary_fit", "Binary outcome: fits by method",
     "`benchmarks/bench_binary.py`. BivariateProbitMF fitted by each likelihood on the "
     "same data; the exact log-likelihood at each estimate makes them comparable."),
    ("gpu_pass", "CuPy backend: likelihood + gradient pass (16-core H100 machine)",
     "`benchmarks/bench_gpu.py pass`, run on a lent machine (one H100, 16 CPU cores), not "
     "the 2-core one above: numba with all 16 threads beside the same array code as the "
     "numpy twin run by CuPy, gradient copied back to the host as the fit does. The "
     "array code is not a fused kernel (per-pair arrays, scatter-adds), so on the GPU it "
     "only matches 16 CPU cores from 4e6 pairs up; below that launch overheads dominate."),
    ("gpu_fit", "CuPy backend: the 1.54e7-pair fit (16-core H100 machine)",
     "`benchmarks/bench_gpu.py fit`: `bench_fit.py --largest`'s problem fitted with "
     "`backend=\"cupy\"` and `backend=\"numba\"` (16 threads) one after the other; the "
     "same estimate either way. Outside L-BFGS's passes the time goes to the scaling and "
     "the line search on the host."),
]


def targets():
    """The issue's targets against the measured rows (read from the JSON results)."""
    lines = ["## Against the targets", "", "| target | measured | met |", "|---|---|---|"]

    def load(name):
        path = RESULTS / f"{name}.json"
        return json.loads(path.read_text()) if path.exists() else []

    for row in load("pass"):
        if row["k"] == 16 and row["pairs"] == "15,400,000":
            rate = float(row["heckrec M pairs/s"])
            lines.append(f"| pass >= 25 M pairs/s at k = 16 | {rate} M pairs/s at 1.54e7 pairs "
                         f"(plain loop {row['plain loop M pairs/s']}) | {'yes' if rate >= 25 else 'no'} |")
    for row in load("fit_largest"):
        seconds = float(row["fit s"])
        lines.append(f"| 1.5e7-pair fit < 120 s, solver={row['solver']} | {seconds:.0f} s fit "
                     f"({row['sweeps']} sweeps, {row['L-BFGS iterations']} L-BFGS iterations) "
                     f"+ {row['SE s']} s for the SEs | {'yes' if seconds < 120 else 'no'} |")
    for row in load("gpu_fit"):
        seconds = float(row["fit s"])
        lines.append(f"| (same, on the lent H100 machine, backend={row['backend']}) | "
                     f"{seconds:.0f} s fit ({row['L-BFGS iterations']} iterations) + "
                     f"{row['SE s']} s for the SEs | {'yes' if seconds < 120 else 'no'} "
                     f"(not the 2-core machine) |")
    for row in load("classic"):
        if row["n"] == "1,000,000":
            seconds = float(row["ML fit s"])
            lines.append(f"| classic ML fit at n = 1e6 < 10 s | {seconds:.1f} s | "
                         f"{'yes' if seconds < 10 else 'no'} |")
    for row in load("bench_vs_r"):
        lines.append(f"| {row['model']} at n = {row['n']} >= {row['aim']} R sampleSelection | "
                     f"{row['ratio']} (R {row['R s']} s, heckrec {row['heckrec s (median)']} s) "
                     f"| {row['met']} |")
    return lines + [""]


def main():
    parts = ["# Benchmarks", "",
             "Measured by the scripts under `benchmarks/` on this project's 2-core machine; "
             "each writes its table to `benchmarks/results/`, and `benchmarks/report.py` "
             "collects them here. These machines are noisy: compare figures within one table.",
             "", *targets()]
    for name, title, text in SECTIONS:
        path = RESULTS / f"{name}.md"
        if path.exists():
            parts += [f"## {title}", "", text, "", path.read_text().strip(), ""]
    DOCS.write_text("\n".join(parts))
    print(f"wrote {DOCS}")


if __name__ == "__main__":
    main()
