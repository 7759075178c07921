"""HeckmanMFRegressor at 1/0.1, 100/10, 30/3 and 100/1 (the defaults) on simulated grids with known rho: rho, SE, penalty shift, RMSE of g_r.

Usage: python benchmarks/issue13/simulated_defaults.py
"""
import numpy as np, warnings, time
warnings.simplefilter("ignore")
from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
for (nu, ni, k, rho, dens) in [(200,150,1,0.6,0.3),(200,150,1,-0.8,0.3),(200,150,1,0.0,0.3),(600,400,4,0.6,0.2),(300,200,4,0.6,0.1)]:
    X, r, o, t = make_selection_mf(nu, ni, n_factors=k, rho=rho, density=dens, random_state=0)
    for kw in (dict(reg_factors=1.0, reg_bias=0.1), dict(reg_factors=100.0, reg_bias=10.0),
               dict(reg_factors=30.0, reg_bias=3.0), dict(reg_factors=100.0, reg_bias=1.0)):
        t0=time.time(); e = HeckmanMFRegressor(n_factors=k, random_state=0, **kw).fit(X, r, o)
        rmse = np.sqrt(np.mean((e.predict(X) - t["g_r"])**2))
        print(nu, ni, k, rho, kw, f"rho {e.rho_:+.3f}±{e.rho_se_:.3f} shift {e.rho_penalty_shift_:.2f} rmse(g_r) {rmse:.3f} {time.time()-t0:.1f}s", flush=True)
