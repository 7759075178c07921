"""The CuPy backend against the numba kernel: pass throughput and the largest fit.

Part ``pass``: the likelihood + gradient pass in pairs per second on the grids of
``bench_pass.py`` at k = 16, numba (all the machine's threads) beside CuPy (the GPU
timed with a synchronise after each pass, the gradient copied back to the host as the
fit does). Part ``fit``: ``bench_fit.py``'s 1.54e7-pair problem fitted with
``backend="cupy"`` and ``backend="numba"``, one after the other on the same machine.

Needs CuPy and a CUDA GPU (pip install heckrec[gpu]).

Run: python benchmarks/bench_gpu.py [pass] [fit]
"""

import sys

import cupy
import numba
from _common import median_time, timed_fit, write
from bench_pass import GRIDS, problem

from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.models._likelihood import ContinuousHeckmanLikelihood


def passes():
    lik = ContinuousHeckmanLikelihood()
    rows = []
    for n_users, n_items in GRIDS:
        pairs, layout, theta = problem(n_users, n_items, 16)
        cpu = median_time(lambda: lik.loglik_grad(theta, layout, pairs, "numba"))

        def on_gpu():
            _, grad = lik.loglik_grad(theta, layout, pairs, "cupy")
            cupy.asnumpy(grad)  # the fit copies the gradient back every pass

        gpu = median_time(on_gpu)
        n = pairs.n_pairs
        rows.append({"pairs": f"{n:,}", "k": 16, "numba M pairs/s": f"{n / cpu / 1e6:.1f}",
                     "cupy M pairs/s": f"{n / gpu / 1e6:.1f}", "cupy / numba": f"{cpu / gpu:.2f}"})
        print(rows[-1], flush=True)
    write("gpu_pass", rows, list(rows[0]),
          note=f"{cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}; numba with "
               f"{numba.get_num_threads()} threads. Median of 5 passes after a warm-up.")


def fits():
    X, r, o, _ = make_selection_mf(15400, 1000, n_factors=4, rho=0.6, sigma=1.0, density=0.1,
                                   bias_scale=0.8, random_state=0)
    rows = []
    for backend in ("cupy", "numba"):
        est = HeckmanMFRegressor(n_factors=4, reg_factors=5.0, reg_bias=1.0, random_state=0,
                                 backend=backend)
        fit_seconds, se_seconds, caught = timed_fit(est, X, r, o)
        rows.append({"backend": backend, "pairs": f"{X.shape[0]:,}",
                     "fit s": f"{fit_seconds:.1f}", "L-BFGS iterations": est.n_iter_,
                     "SE s": f"{se_seconds:.1f}", "rho (truth 0.6)": f"{est.rho_:.4f}",
                     "rho SE": f"{est.rho_se_:.4f}",
                     "warnings": caught})
        print(rows[-1], flush=True)
    write("gpu_fit", rows, list(rows[0]),
          note=f"numba with {numba.get_num_threads()} threads; rank 4, reg_factors 5, reg_bias 1.")


if __name__ == "__main__":
    parts = sys.argv[1:] or ["pass", "fit"]
    if "pass" in parts:
        passes()
    if "fit" in parts:
        fits()
