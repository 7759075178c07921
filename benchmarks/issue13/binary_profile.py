"""BivariateProbitMF on a simulated 1000 x 600 rank-4 grid (true rho 0.5): the free fit and the penalised profile at rho 0.3-0.99, with the RMSE of g_r (docs/model.md).

Usage: python benchmarks/issue13/binary_profile.py
"""
import numpy as np, warnings, copy
warnings.simplefilter("ignore")
from heckrec import BivariateProbitMF
from heckrec.datasets import make_selection_mf
X, r, o, t = make_selection_mf(1000, 600, n_factors=4, rho=0.5, density=0.1, outcome="binary", random_state=0)
kw = dict(n_factors=4, reg_factors=10, reg_bias=1, random_state=0, compute_se=False)
e = BivariateProbitMF(**kw).fit(X, r, o); print("free", e.rho_, e.objective_, e.n_iter_, e.converged_, flush=True)
prev = None
for fr in (0.3, 0.5, 0.7, 0.9, 0.99):
    f = BivariateProbitMF(fixed_rho=fr, **kw)
    if prev is not None:
        f = copy.deepcopy(prev); f.set_params(fixed_rho=fr, warm_start=True)
    f.fit(X, r, o); prev = f
    g = f.decision_function(X); rm = np.sqrt(np.mean((g - t["g_r"])**2))
    print("fixed", fr, round(f.objective_,2), f.n_iter_, f.converged_, f"rmse {rm:.3f}", flush=True)
