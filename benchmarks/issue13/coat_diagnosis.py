"""Coat: items by times chosen (observed vs MAR means) and biases-only rho at reg_bias 10 / 1 / 0.001 (docs/model.md).

Usage: python benchmarks/issue13/coat_diagnosis.py
"""
import numpy as np, warnings
warnings.simplefilter("ignore")
from heckrec import HeckmanMFRegressor
from heckrec.datasets import load_coat
c = load_coat()
R = c.ratings_train.astype(float); T = c.ratings_test.astype(float)
r = R.ravel().copy(); o = (r > 0).astype(int); r[o == 0] = np.nan
X = c.X_train.to_numpy()
n_i = (R > 0).sum(0); obs_mean = np.where(n_i>0, np.nansum(np.where(R>0,R,np.nan),0)/np.maximum(n_i,1), np.nan)
mar_n = (T>0).sum(0); mar_mean = np.where(mar_n>0, (T*(T>0)).sum(0)/np.maximum(mar_n,1), np.nan)
q = np.quantile(n_i, [0, .25, .5, .75, 1])
print("items by times chosen (quartiles):", q)
bins = np.digitize(n_i, q[1:-1])
for b in range(4):
    m = bins == b
    print(f"quartile {b+1}: items {m.sum()}, chosen {n_i[m].mean():.1f} times, observed mean {np.nanmean(obs_mean[m]):.2f}, MAR mean {np.nanmean(mar_mean[m]):.2f}")
for rb in (10, 1, 0.001):
    e0 = HeckmanMFRegressor(n_factors=0, reg_bias=rb, fixed_rho=0.0, random_state=0).fit(X, r, o)
    e = HeckmanMFRegressor(n_factors=0, reg_bias=rb, random_state=0).fit(X, r, o)
    g_o, g_r = e0.decision_scores(X)
    res = (r - g_r)[o == 1]; items = X[o == 1, 1]
    item_res = np.bincount(items, weights=res, minlength=300) / np.maximum(n_i, 1)
    lam = np.exp(-0.5*g_o**2)/np.sqrt(2*np.pi)/ (1-0.5*(1+__import__('scipy').special.erf(-g_o/np.sqrt(2))))
    print(f"reg_bias {rb}: rho_ {e.rho_:+.3f}+-{e.rho_se_:.3f}; at rho=0: corr(item chosen-count, item mean residual) {np.corrcoef(n_i[n_i>0], item_res[n_i>0])[0,1]:+.2f}; corr(lambda(g_o), residual) over observed pairs {np.corrcoef(lam[o==1], res)[0,1]:+.3f}")
