"""One likelihood + gradient pass: numba in-process against backend="dask" (issue 15).

The same PairSet (a 2e6-pair grid, k = 16, 5% observed; and its log with the complement
sweep) passed by the numba kernel in this process, and by DaskLikelihood on a LocalCluster
of 1 and of 2 worker processes (one thread each), in the same run. The dask time includes
sending theta and receiving the gradients; the scatter of the parts is done once, before.

Run: python benchmarks/bench_dask.py
"""

import sys
from pathlib import Path

import numpy as np

# the workers are spawned processes that re-import this file: they need its folder
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_time, write  # noqa: E402
from bench_pass import problem  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from heckrec.models._complement import WithComplement  # noqa: E402
from heckrec.models._distributed import DaskLikelihood  # noqa: E402
from heckrec.models._likelihood import ContinuousHeckmanLikelihood  # noqa: E402
from heckrec.models._pairs import PairSet  # noqa: E402


def main():
    pairs, layout, theta = problem(4000, 500, 16)
    log = PairSet(pairs.users[pairs.o], pairs.items[pairs.o], pairs.r[pairs.o],
                  pairs.o[pairs.o], pairs.F[pairs.o], pairs.n_users, pairs.n_items,
                  complement=True)
    cases = {"listed": (ContinuousHeckmanLikelihood(), pairs),
             "complement": (WithComplement(ContinuousHeckmanLikelihood()), log)}
    rows = []
    for name, (lik, data) in cases.items():
        local = median_time(lambda: lik.loglik_grad(theta, layout, data, "numba"))
        row = {"X lists": name, "grid pairs": f"{pairs.n_pairs:,}", "k": 16,
               "numba in-process ms": f"{1e3 * local:.1f}",
               "MB sent per pass": f"{2 * 8 * layout.size / 1e6:.2f} per worker"}
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster):
                data.__dict__.pop("_dask_parts", None)
                dist = DaskLikelihood(lik, data)
                ll = dist.loglik_grad(theta, layout, data)[0]
                assert np.isclose(ll, lik.loglik_grad(theta, layout, data, "numba")[0],
                                  rtol=1e-12)
                seconds = median_time(lambda: dist.loglik_grad(theta, layout, data))
                row[f"dask {workers} worker{'s' if workers > 1 else ''} ms"] = \
                    f"{1e3 * seconds:.1f}"
        rows.append(row)
        print(row, flush=True)
    write("dask_pass", rows, ["X lists", "grid pairs", "k", "numba in-process ms",
                              "dask 1 worker ms", "dask 2 workers ms", "MB sent per pass"],
          note="Median of 5 passes after a warm-up. The in-process numba pass uses both "
               "cores (2 threads); each dask worker runs numba on one thread.")


if __name__ == "__main__":
    main()
