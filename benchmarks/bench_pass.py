"""Likelihood + gradient pass of the continuous model: pairs per second.

Compares heckrec's two-pass parallel kernel with its numpy twin and with a plain
one-loop numba kernel, on full user x item grids with 5% of pairs observed (the
share on recommendation data), for 1e5 to 1.5e7 pairs and k = 8, 16, 64.
In the same run, the sweep of ``unobserved="complement"`` over the same grid (the
unlisted pairs' log Phi(-g_o) and its gradient from the factors, issue 15), counted in
grid pairs per second.

Run: python benchmarks/bench_pass.py [--quick]
"""

import sys

import numpy as np
from _common import median_time, write
from _plain_kernel import plain_pass

from heckrec.models._complement import unobserved_term
from heckrec.models._layout import ParamLayout
from heckrec.models._likelihood import ContinuousHeckmanLikelihood
from heckrec.models._pairs import PairSet

# (users, items): 1e5, 1e6, 4e6 and Yahoo! R3's full 15,400 x 1,000 grid.
GRIDS = [(400, 250), (2000, 500), (8000, 500), (15400, 1000)]
QUICK = "--quick" in sys.argv
NUMPY_MAX_PAIRS = 1_000_000  # the twin materialises (pairs x k) arrays


def problem(n_users, n_items, k, seed=0):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), n_items)
    items = np.tile(np.arange(n_items), n_users)
    o = rng.random(users.size) < 0.05
    r = rng.normal(3.0, 1.0, users.size)
    pairs = PairSet(users, items, r, o, np.empty((users.size, 0)), n_users, n_items)
    layout = ParamLayout(n_users, n_items, k, 0)
    theta = rng.normal(0.0, 0.1, layout.size)
    theta[layout.index("mu_o")] = -1.6
    theta[layout.index("mu_r")] = 3.0
    return pairs, layout, theta


def main():
    lik = ContinuousHeckmanLikelihood()
    rows = []
    grids = GRIDS[:2] if QUICK else GRIDS
    for n_users, n_items in grids:
        for k in (8, 16, 64):
            pairs, layout, theta = problem(n_users, n_items, k)
            n = pairs.n_pairs
            p = layout.unpack(theta)
            kernel = median_time(lambda: lik.loglik_grad(theta, layout, pairs, "numba"))
            grads = [np.zeros_like(getattr(p, name)) for name in
                     ("bu_o", "bi_o", "P_o", "Q_o", "bu_r", "bi_r", "P_r", "Q_r")]
            plain = median_time(lambda: plain_pass(
                pairs.users, pairs.items, pairs.r, pairs.o, p.mu_o, p.bu_o, p.bi_o, p.P_o,
                p.Q_o, p.mu_r, p.bu_r, p.bi_r, p.P_r, p.Q_r, p.a, p.s, *grads), repeat=3)
            row = {"pairs": f"{n:,}", "k": k,
                   "heckrec M pairs/s": f"{n / kernel / 1e6:.1f}",
                   "plain loop M pairs/s": f"{n / plain / 1e6:.1f}",
                   "speed-up vs plain": f"{plain / kernel:.2f}"}
            if n <= NUMPY_MAX_PAIRS:
                twin = median_time(lambda: lik.loglik_grad(theta, layout, pairs, "numpy"),
                                   repeat=3)
                row["numpy twin M pairs/s"] = f"{n / twin / 1e6:.2f}"
                row["speed-up vs numpy"] = f"{twin / kernel:.0f}"
            else:
                row["numpy twin M pairs/s"] = "not run (memory)"
            log = PairSet(pairs.users[pairs.o], pairs.items[pairs.o], pairs.r[pairs.o],
                          pairs.o[pairs.o], pairs.F[pairs.o], n_users, n_items, complement=True)
            sweep = median_time(lambda: unobserved_term(theta, layout, log))
            row["complement sweep M pairs/s"] = f"{n / sweep / 1e6:.1f}"
            rows.append(row)
            print(row, flush=True)
    write("pass", rows, ["pairs", "k", "heckrec M pairs/s", "plain loop M pairs/s",
                         "speed-up vs plain", "numpy twin M pairs/s", "speed-up vs numpy",
                         "complement sweep M pairs/s"],
          note="Median of 5 (heckrec, the sweep) or 3 (others) timed runs after a warm-up, "
               "5% observed. The complement sweep computes the unobserved term alone, "
               "from the factors (grid pairs per second).")


if __name__ == "__main__":
    main()
