"""Classic HeckmanSelection ML fit time from n = 1e3 to 1e6.

Simulated tobit-2 data: 3 selection and 3 outcome regressors (with intercepts),
rho = 0.5, about 60% selected. Time of fit(method="ml") (two-step start, Newton,
Hessian and covariance included), median of 3 runs.

Run: python benchmarks/bench_classic.py
"""

import numpy as np

from _common import median_time, write
from heckrec.classic import HeckmanSelection


def simulate(n, seed=0, rho=0.5, sigma=2.0):
    rng = np.random.default_rng(seed)
    z1, z2, x1 = rng.standard_normal((3, n))
    Z = np.column_stack([np.ones(n), z1, z2])
    X = np.column_stack([np.ones(n), x1, z1])
    u_s = rng.standard_normal(n)
    u_o = rho * u_s + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    s = (Z @ [0.3, 1.0, -0.8] + u_s > 0).astype(int)
    y = np.where(s == 1, X @ [1.0, 0.5, -1.0] + sigma * u_o, np.nan)
    return y, X, s, Z


def main():
    rows = []
    for n in (1_000, 10_000, 100_000, 1_000_000):
        y, X, s, Z = simulate(n)
        model = HeckmanSelection(y, X, s, Z)
        seconds = median_time(lambda: model.fit(), repeat=3)
        res = model.fit()
        rows.append({"n": f"{n:,}", "ML fit s": f"{seconds:.3f}", "Newton iterations": res.n_iter,
                     "rho (truth 0.5)": f"{res.rho:.4f}", "rho SE": f"{res.rho_se:.4f}"})
        print(rows[-1], flush=True)
    write("classic", rows, list(rows[0]), note="Median of 3 fits after a warm-up.")


if __name__ == "__main__":
    main()
