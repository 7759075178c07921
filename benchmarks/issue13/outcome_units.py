"""HeckmanMFRegressor on the same data in other units (x1e6, x1e-3, +1e3): rho, SE, sigma, predictions, loglik (docs/model.md).

Usage: python benchmarks/issue13/outcome_units.py
"""
import numpy as np
from heckrec import HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
X, r, o, t = make_selection_mf(60, 40, n_factors=1, n_features=1, rho=0.5, density=0.3, random_state=0)  # reliability r10
for c, sh in [(1,0),(1e6,0),(1e-3,0),(1,1e3)]:
    e = HeckmanMFRegressor(n_factors=1, reg_factors=10, random_state=0).fit(X, r*c+sh, o)
    print(c, sh, e.rho_, e.rho_se_, e.sigma_/c, e.sigma_se_/c, (e.predict(X[:3])-sh)/c, e.loglik_ + o.sum()*np.log(c), e.n_iter_)
