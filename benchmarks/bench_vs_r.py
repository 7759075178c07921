"""Classic ML fits against R sampleSelection, on the same CSV in the same run (issue 17).

R is not part of heckrec: this needs Rscript and sampleSelection built from
../shared/rbench (its README says how; pass the library folder with --rlib). Without
Rscript it says so and exits 0 having measured nothing. For each (model, n): R writes the
data (make_data.R), R's selection() is timed by fit_r.R (its own system.time, the library
load excluded), then heckrec reads the same CSV and times from_formula + fit (after a
small warm-up fit, so numba's compile is not counted), median of --repeat runs; R runs
once per row (74 s at heckprobit 1e5). The ratio is R's time over heckrec's median.

Usage: python benchmarks/bench_vs_r.py [--rlib ~/rlib] [--repeat 3]
           [--rows tobit2:1e5 tobit2:1e6 binary:1e5]
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _common import write

from heckrec.classic import HeckmanProbit, HeckmanSelection

RBENCH = Path(__file__).resolve().parents[2] / "shared" / "rbench"
#: Issue 17's aims: tobit-2 at least 10x R at 1e5 and 1e6, heckprobit 100x at 1e5.
AIMS = {"tobit2": 10.0, "binary": 100.0}


def _heckrec_fit(kind, data):
    cls, outcome = (HeckmanSelection, "y") if kind == "tobit2" else (HeckmanProbit, "yb")
    data = data.copy()
    data[outcome] = np.where(data["s"] == 1, data[outcome], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls.from_formula("s ~ z + x1", f"{outcome} ~ x1 + x2", data).fit()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rlib", default=str(Path.home() / "rlib"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", nargs="+", default=["tobit2:1e5", "tobit2:1e6", "binary:1e5"])
    args = parser.parse_args()
    if shutil.which("Rscript") is None:
        print("bench_vs_r: Rscript not found, so nothing was measured. Install R and "
              "sampleSelection as ../shared/rbench/README.md says, then run this again.")
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for spec in args.rows:
            kind, n_text = spec.split(":")
            n = int(float(n_text))
            subprocess.run(["Rscript", str(RBENCH / "make_data.R"), str(n)], cwd=scratch,
                           check=True, capture_output=True)
            # R names it with %g: d10000.csv, d1e+05.csv
            csv = next(p for p in Path(scratch).glob("d*.csv") if float(p.stem[1:]) == n)
            line = subprocess.run(["Rscript", str(RBENCH / "fit_r.R"), f"{n:g}", kind,
                                   args.rlib], cwd=scratch, check=True, capture_output=True,
                                  text=True).stdout.strip()
            found = re.search(r"n=\S+ ([\d.]+)s rho=(\S+) loglik=(\S+)", line)
            if found is None:
                raise RuntimeError(f"unexpected output of fit_r.R: {line!r}")
            r_seconds, r_rho, r_llf = (float(v) for v in found.groups())
            data = pd.read_csv(csv)
            _heckrec_fit(kind, data.iloc[:2000])  # warm-up: numba compile, imports
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                res = _heckrec_fit(kind, data)
                times.append(time.perf_counter() - start)
            seconds = float(np.median(times))
            ratio = r_seconds / seconds
            rows.append({"model": "tobit-2 ML" if kind == "tobit2" else "heckprobit ML",
                         "n": f"{n:.0e}", "R s": f"{r_seconds:.2f}",
                         "heckrec s (median)": f"{seconds:.3f}", "ratio": f"{ratio:.1f}x",
                         "aim": f"{AIMS[kind]:.0f}x", "met": "yes" if ratio >= AIMS[kind] else "NO",
                         "R rho": f"{r_rho:.5f}", "heckrec rho": f"{res.rho:.5f}",
                         "R loglik": f"{r_llf:.4f}", "heckrec loglik": f"{res.llf:.4f}"})
            print(rows[-1], flush=True)
            csv.unlink()
    write("bench_vs_r", rows, list(rows[0]),
          note=f"One run of R per row, heckrec the median of {args.repeat} (from_formula + "
               "fit, after a warm-up), the same CSV; 2-core machine.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
