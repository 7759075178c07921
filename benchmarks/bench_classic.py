"""Classic HeckmanSelection ML fit time from n = 1e3 to 1e6.

Simulated tobit-2 data: 3 selection and 3 outcome regressors (with intercepts),
rho = 0.5, about 60% selected. Time of fit(method="ml") (two-step start, Newton,
Hessian and covariance included), median of 3 runs.

Run: python benchmarks/bench_classic.py
"""

from _common import median_time, write

from heckrec.classic import HeckmanSelection
from heckrec.datasets import make_tobit2


def simulate(n=20000, rho=0.5, sigma=2.0, seed=0):
    return make_tobit2(n, rho=rho, sigma=sigma, random_state=seed)

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
