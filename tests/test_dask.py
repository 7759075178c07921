"""backend="dask" on a LocalCluster of 2 worker processes (issue 15).

The distributed fit runs the same numba kernels on the partitions and adds their sums in
partition order, so it must reach the numba fit's optimum: rho_ to 1e-6.
"""

import numpy as np
import pytest

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.models._distributed import partition_by_user
from heckrec.models._pairs import PairSet

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed "
                                  "(pip install heckrec[dask])")


def test_dask_without_a_client_says_so():
    """(First in the file: the module's cluster fixture does not exist yet.)"""
    X, y, o = _data()
    with pytest.raises(ValueError, match="no(ne)?.*Client|Client.*none"):
        HeckmanMFRegressor(n_factors=0, backend="dask").fit(X, y, o)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _data(outcome="continuous", k=1):
    return make_selection_mf(60, 40, n_factors=k, rho=0.5, density=0.25, outcome=outcome,
                             random_state=4)[:3]


@pytest.mark.parametrize("unobserved", ["listed", "complement", "sampled"])
def test_dask_fit_equals_the_numba_fit(client, unobserved):
    X, y, o = _data()
    if unobserved != "listed":
        X, y, o = X[o == 1], y[o == 1], None
    # "sampled" at ratio 0.5 draws 20 of a user's ~30 unlisted items (a sample, not all)
    fits = [HeckmanMFRegressor(n_factors=1, backend=b, unobserved=unobserved, tol=1e-12,
                               unobserved_ratio=0.5, random_state=0,
                               if_not_identified="estimate").fit(X, y, o)
            for b in ("numba", "dask")]
    assert fits[1].rho_ == pytest.approx(fits[0].rho_, abs=1e-6)
    assert fits[1].loglik_ == pytest.approx(fits[0].loglik_, rel=1e-10)
    assert fits[1].rho_se_ == pytest.approx(fits[0].rho_se_, rel=1e-3)


def test_dask_binary_fit_equals_the_numba_fit(client):
    # rank 0 and a weak bias penalty on 150 x 100 keep the binary optimum inside (-1, 1)
    X, y, o = make_selection_mf(150, 100, n_factors=0, rho=0.5, density=0.2,
                                outcome="binary", random_state=1)[:3]
    fits = [BivariateProbitMF(n_factors=0, backend=b, reg_bias=0.01, tol=1e-12,
                              rho_criterion="penalised",
                              compute_se=False, random_state=0,
                              if_not_identified="estimate").fit(X, y, o)
            for b in ("numba", "dask")]
    assert abs(fits[0].rho_) < 0.99
    # rho is barely identified here (SE 0.54), so the objective is flat in it: the
    # sums' last-bit differences move rho_ by ~1e-6 and loglik_ by ~2e-10 relative
    assert fits[1].loglik_ == pytest.approx(fits[0].loglik_, rel=1e-9)
    assert fits[1].rho_ == pytest.approx(fits[0].rho_, abs=1e-5)


def test_partitions_cover_every_pair_once():
    rng = np.random.default_rng(0)
    users, items = rng.integers(0, 50, 400), rng.integers(0, 30, 400)
    pairs = PairSet(users, items, np.zeros(400), np.ones(400, dtype=bool), np.empty((400, 0)),
                    50, 30)
    parts = partition_by_user(pairs, 3)
    assert len(parts) == 3 and sum(p.n_pairs for p in parts) == 400
    assert [p.sweep_users for p in parts][0][0] == 0 and parts[-1].sweep_users[1] == 50
    starts = [p.sweep_users[0] for p in parts[1:]]
    assert starts == [p.sweep_users[1] for p in parts[:-1]]  # contiguous, no gap
    assert max(p.n_pairs for p in parts) < 1.5 * 400 / 3


def test_dask_rejects_adam(client):
    X, y, o = _data()
    with pytest.raises(ValueError, match="solver='adam'"):
        HeckmanMFRegressor(n_factors=0, backend="dask", solver="adam").fit(X, y, o)
