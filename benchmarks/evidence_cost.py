"""What the evidence's Newton steps cost on shipped data: BivariateProbitMF's default on Coat.

Coat (ratings >= 3 positive), without a MAR slice (where the design leaves rho to the
normal shape and the default holds it at 0 after the free fit) and with the 5% slice of
seed 0 (``_common.mar_slice``). Each fit is timed in both forms of
``evidence_coverage.form_of``: "exact" (the estimator as it is: Newton steps from MacKay's
fixed point to log m's maximum) and "mackay" (stopped at MacKay's point, as before
2026-12-07). Median of 3 fits after a warm-up fit, the forms alternating.

Run: python benchmarks/evidence_cost.py
"""

import time
import warnings

import numpy as np
from _common import mar_slice, write
from evidence_coverage import form_of

from heckrec import BivariateProbitMF
from heckrec.datasets import load_coat

FORMS = ("exact", "mackay")


def main():
    coat = load_coat()
    in_slice = mar_slice(len(coat.r_test), 0)
    cases = {"no slice": {},
             "5% slice": dict(X_unbiased=coat.X_test[in_slice],
                              y_unbiased=coat.r_test[in_slice])}
    rows = []
    for case, extra in cases.items():
        times = {form: [] for form in FORMS}
        fitted = {}
        for repeat in range(4):  # the first is the warm-up
            for form in FORMS:
                est = BivariateProbitMF(random_state=0)
                with form_of(form), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    est.fit(coat.X_train, coat.r_train, coat.o_train, **extra)
                    seconds = time.perf_counter() - start
                if repeat:
                    times[form].append(seconds)
                fitted[form] = est
        for form in FORMS:
            est = fitted[form]
            rows.append({"data": f"Coat, {case}", "form": form,
                         "median fit s": f"{np.median(times[form]):.2f}",
                         "fits (the last search)": est.n_laplace_fits_,
                         "rho_": "held at 0" if np.isnan(est.rho_) else f"{est.rho_:+.3f}",
                         "rho_free_": f"{est.rho_free_:+.3f}",
                         "rho_se_": "" if np.isnan(est.rho_se_) else f"{est.rho_se_:.3f}"})
            print(rows[-1], flush=True)
    write("evidence_cost", rows, list(rows[0]),
          note="BivariateProbitMF(random_state=0) on Coat (>= 3), median of 3 fits after a "
               "warm-up, forms alternating; 'fits' is n_laplace_fits_, which counts the "
               "last search only (without a slice: the refit with rho held at 0).")


if __name__ == "__main__":
    main()
