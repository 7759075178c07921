"""Genz's BVND against the log-space tail integral: accuracy by band, time per call.

Over 2e5 random arguments (h, k uniform on [-6, 4], rho uniform on
(-0.999, 0.999)), the log of Genz's Phi2 is compared with the tail integral
(itself checked against 30-digit mpmath in tests/test_kernels_binary.py),
by how small Phi2 is. This is what sets GENZ_FLOOR in
heckrec/_kernels/bivariate_normal.py.

Run: python benchmarks/bvn_accuracy.py
"""

import math
import time

import numpy as np
from _common import write
from numba import njit

from heckrec._kernels.bivariate_normal import genz_upper, log_bvn_tail_array


@njit(cache=True)
def genz_log_array(h, k, a):
    out = np.empty(h.shape[0])
    for j in range(h.shape[0]):
        out[j] = math.log(genz_upper(-h[j], -k[j], math.tanh(a[j]), math.cosh(a[j])))
    return out


def main(n=200_000):
    rng = np.random.default_rng(0)
    h, k = rng.uniform(-6, 4, n), rng.uniform(-6, 4, n)
    a = np.arctanh(rng.uniform(-0.999, 0.999, n))
    genz_log_array(h[:10], k[:10], a[:10])
    log_bvn_tail_array(h[:10], k[:10], a[:10])
    start = time.perf_counter()
    genz = genz_log_array(h, k, a)
    t_genz = time.perf_counter() - start
    start = time.perf_counter()
    tail = log_bvn_tail_array(h, k, a)
    t_tail = time.perf_counter() - start
    with np.errstate(invalid="ignore"):
        err = np.abs(genz - tail)
    rows = []
    for lower in (-30, -20, -14, -10, -7, -5, -3, -1):
        band = tail > lower
        rows.append({"log Phi2 >": lower, "share of arguments": f"{band.mean():.3f}",
                     "max abs(log Genz - log tail)": f"{np.nanmax(err[band]):.2e}"})
    write("bvn_accuracy", rows, list(rows[0]),
          note=f"{n} random arguments, one thread each call in a serial loop: Genz "
               f"{1e9 * t_genz / n:.0f} ns per call, tail integral {1e9 * t_tail / n:.0f} ns.")


if __name__ == "__main__":
    main()
