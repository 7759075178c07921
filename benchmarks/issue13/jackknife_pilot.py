"""jackknife_rho against the full fit on simulated rank-1 grids: mean, SD and coverage over seeds (issue 14 pilot; the full study is benchmarks/coverage.py --jackknife).

Usage: python benchmarks/issue13/jackknife_pilot.py N_USERS N_ITEMS RHO REPS ["dict(reg_factors=1.0, reg_bias=0.1)"]
"""
import numpy as np, warnings, time, sys
warnings.simplefilter("ignore")
from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.inference import jackknife_rho
nu, ni, rho, reps = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
kw = eval(sys.argv[5]) if len(sys.argv) > 5 else {}
rows = []
for s in range(reps):
    X, r, o, t = make_selection_mf(nu, ni, n_factors=1, rho=rho, density=0.3, random_state=100+s)
    t0 = time.time(); e = HeckmanMFRegressor(n_factors=1, random_state=0, **kw).fit(X, r, o); tf = time.time()-t0
    t0 = time.time(); j = jackknife_rho(e, X, r, o, random_state=s); tj = time.time()-t0
    lo, hi = j.conf_int(); wl = np.tanh(np.arctanh(e.rho_) - 1.96*j.se_atanh); wh = np.tanh(np.arctanh(e.rho_) + 1.96*j.se_atanh)
    rows.append((e.rho_, j.estimate, lo <= rho <= hi, wl <= rho <= wh, tf, tj, e.rho_se_))
a = np.array(rows, float)
print(nu, ni, rho, kw, f"mean rho_ {a[:,0].mean():.3f} sd {a[:,0].std():.3f} | corrected {a[:,1].mean():.3f} sd {a[:,1].std():.3f} | SE {a[:,6].mean():.3f} | cover wald {a[:,3].mean():.2f} corrected {a[:,2].mean():.2f} | fit {np.median(a[:,4]):.2f}s jk {np.median(a[:,5]):.2f}s")
