"""rho_structural_se_ of the binary 200 x 150 biases-only coverage design (docs/inference.md).

Four datasets at each of rho -0.8, 0 and 0.8 (seeds 0-3), BivariateProbitMF(n_factors=0)
with the free fit kept: whether the default (if_not_identified="fix") would hold rho at 0
on this design (it does where the structural SE is above 1).

Usage: python benchmarks/issue13/structural_se_coverage_designs.py
"""
import warnings

from heckrec import BivariateProbitMF
from heckrec.datasets import make_selection_mf

warnings.simplefilter("ignore")
values = []
for rho in (-0.8, 0.0, 0.8):
    for seed in range(4):
        X, r, o, _ = make_selection_mf(200, 150, n_factors=0, rho=rho, density=0.3,
                                       outcome="binary", random_state=seed)
        est = BivariateProbitMF(n_factors=0, random_state=0, compute_se=False,
                                rho_criterion="penalised",
                                if_not_identified="estimate").fit(X, r, o)
        values.append(est.rho_structural_se_)
        print(f"rho {rho:+.1f} seed {seed}: structural SE {est.rho_structural_se_:.3f}")
print(f"range {min(values):.2f} to {max(values):.2f}")
