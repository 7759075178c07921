"""The CuPy backend against the CPU kernel. Skipped, with the reason, without a GPU."""

import numpy as np
import pytest

from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.models._layout import ParamLayout
from heckrec.models._likelihood import ContinuousHeckmanLikelihood
from heckrec.models._pairs import PairSet

cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install heckrec[gpu])")
try:
    HAS_GPU = cupy.cuda.runtime.getDeviceCount() > 0
except cupy.cuda.runtime.CUDARuntimeError:
    HAS_GPU = False
pytestmark = pytest.mark.skipif(not HAS_GPU, reason="no CUDA device visible to CuPy")


def test_cupy_loglik_and_gradient_match_numba():
    rng = np.random.default_rng(0)
    users, items = np.repeat(np.arange(50), 40), np.tile(np.arange(40), 50)
    o = rng.random(users.size) < 0.3
    r = rng.normal(size=users.size)
    F = rng.standard_normal((users.size, 2))
    pairs = PairSet(users, items, r, o, F, 50, 40)
    layout = ParamLayout(50, 40, 3, 2)
    theta = rng.normal(0, 0.3, layout.size)
    lik = ContinuousHeckmanLikelihood()
    ll_cpu, g_cpu = lik.loglik_grad(theta, layout, pairs, "numba")
    ll_gpu, g_gpu = lik.loglik_grad(theta, layout, pairs, "cupy")
    assert ll_gpu == pytest.approx(ll_cpu, rel=1e-12)
    np.testing.assert_allclose(cupy.asnumpy(g_gpu), g_cpu, rtol=1e-10, atol=1e-10)


def test_cupy_fit_matches_cpu_fit():
    X, r, o, _ = make_selection_mf(60, 40, n_factors=2, rho=-0.5, density=0.3,
                                   bias_scale=1.0, random_state=3)
    kw = dict(n_factors=2, reg_factors=10.0, reg_bias=1.0, random_state=0, compute_se=False)
    cpu = HeckmanMFRegressor(backend="numba", **kw).fit(X, r, o)
    gpu = HeckmanMFRegressor(backend="cupy", **kw).fit(X, r, o)
    assert gpu.rho_ == pytest.approx(cpu.rho_, abs=1e-6)
