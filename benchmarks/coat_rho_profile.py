"""Profile the BivariateProbitMF log-likelihood in rho on Coat (a diagnostic).

For each rho on a grid, fit every other parameter with rho held fixed and
print the exact log-likelihood, the penalised objective and the test AUC.
A subclass freezes atanh(rho); the public estimator has no such option yet.

Run: python benchmarks/coat_rho_profile.py [n_factors reg_factors reg_bias]
"""

import sys
import warnings

import numpy as np
from sklearn.metrics import roc_auc_score

from heckrec import BivariateProbitMF
from heckrec.datasets import load_coat


class FixedRho(BivariateProbitMF):
    """BivariateProbitMF with rho held at ``fixed_rho`` (class attribute)."""

    fixed_rho = 0.0

    def _init_scalars(self, r_observed):
        return {**super()._init_scalars(r_observed), "a": float(np.arctanh(self.fixed_rho))}

    def _solve(self, objective, theta0, scaling):
        frozen = np.zeros(theta0.size, dtype=bool)
        frozen[objective.layout.index("a")] = True
        objective.frozen = frozen
        return super()._solve(objective, theta0, scaling)


def main(n_factors=0, reg_factors=1.0, reg_bias=1.0):
    coat = load_coat()
    print(f"n_factors={n_factors} reg_factors={reg_factors} reg_bias={reg_bias}")
    print(f"{'rho':>6} {'loglik':>11} {'objective':>11} {'iters':>6} {'test AUC':>9}")
    for rho in (-0.99, -0.9, -0.5, 0.0, 0.5, 0.9, 0.99):
        FixedRho.fixed_rho = rho
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # boundary values are the point here
            est = FixedRho(n_factors=n_factors, reg_factors=reg_factors, reg_bias=reg_bias,
                           compute_se=False, random_state=0)
            est.fit(coat.X_train, coat.r_train, coat.o_train)
        auc = roc_auc_score(coat.r_test, est.predict_proba(coat.X_test)[:, 1])
        print(f"{rho:6.2f} {est.loglik_:11.2f} {est.objective_:11.2f} {est.n_iter_:6d} {auc:9.4f}",
              flush=True)


if __name__ == "__main__":
    main(*(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])) if len(sys.argv) > 3 else ())
