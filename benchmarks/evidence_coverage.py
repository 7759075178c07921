"""Coverage of the evidence's rho interval, by how log m and its maximum are taken
(issue 15: "the evidence's interval misses the truth, always towards 0").

Designs (make_selection_mf, a new seed per replication, each true rho of the design):

- ``rank2`` (default): 150 x 100, rank 2, density 0.2, rho -0.5 / 0 / 0.5, the grids of
  benchmarks/laplace_cross_terms.py, fitted by ``HeckmanMFRegressor(2,
  rho_criterion="evidence")`` (``--binary``: BivariateProbitMF(2) on its binary outcome);
- ``biases``: BivariateProbitMF's default design in docs/inference.md, 400 x 300, biases
  only, density 0.3, binary, rho -0.8 / 0 / 0.8, fitted by ``BivariateProbitMF()`` (its
  default, the evidence on biases only).

Every replication is fitted once per form (``--forms``):

- "exact": the estimators as they are: log det H_rows whole
  (heckrec.models._laplace_exact) and the evidence's maximum over rho and the precisions
  (heckrec.models._evidence) on biases only; with factors the estimators stop at MacKay's
  point since 2026-12-07 (``EVIDENCE_NEWTON_FACTORS``), so on the ``rank2`` design "exact"
  is now "mackay" (``results/evidence_coverage_joint.md`` was run before, with the steps);
- "blocks": the block-diagonal log det, forced by setting ``_laplace_exact.MAX_KEPT`` to 0;
- "mackay": log det whole, but the precisions left at MacKay's fixed point (the Newton
  steps to the evidence's maximum skipped) and rho_ from the search at them; rho_se_ from
  the profile's curvature at those precisions. This is the evidence before 2026-12-07 but
  for that last search, which it did not make where the last MacKay round moved the
  precisions a little (its rho_ then came from the search before that round's move).

Reported per (rho, form): the mean bias of rho_, its SE and SD over replications, the mean
rho_se_, the share of Wald intervals tanh(atanh(rho_) -+ 1.96 se(atanh)) that hold the
truth, the median fit time and number of penalised fits, and the mean log m at the
estimate and outcome item-bias precision; for a continuous outcome also sigma_'s mean
(truth 1) and SD, mean sigma_se_ and the share of its intervals exp(log sigma_ -+ 1.96
se / sigma_) that hold 1.

Run: python benchmarks/evidence_coverage.py [--reps N] [--binary] [--forms F ...]
     python benchmarks/evidence_coverage.py --design biases [--reps N] [--forms F ...]
     (--first-seed S: seeds S to S + N - 1, default 1000; --rhos: a subset of the design's;
     --tag: appended to the results' name)
"""

import argparse
import contextlib
import time
import warnings

import numpy as np
from _common import write

from heckrec import BivariateProbitMF, HeckmanMFRegressor
from heckrec.datasets import make_selection_mf
from heckrec.models import _laplace_exact
from heckrec.models._base import SelectionMFBase

DESIGNS = {"rank2": dict(rhos=(-0.5, 0.0, 0.5), shape=(150, 100), rank=2, density=0.2),
           "biases": dict(rhos=(-0.8, 0.0, 0.8), shape=(400, 300), rank=0, density=0.3)}
KEPT = _laplace_exact.MAX_KEPT


@contextlib.contextmanager
def form_of(form):
    """The estimators as they are, or with one part swapped for its former version."""
    maximise = SelectionMFBase.__dict__["_maximise_evidence"]
    _laplace_exact.MAX_KEPT = 0 if form == "blocks" else KEPT
    if form == "mackay":
        SelectionMFBase._maximise_evidence = staticmethod(
            lambda inner, fit_at, a_hat, free: (a_hat, None))
    try:
        yield
    finally:
        _laplace_exact.MAX_KEPT = KEPT
        SelectionMFBase._maximise_evidence = maximise


def fit(est, X, r, o, form):
    with form_of(form), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(X, r, o)
        seconds = time.perf_counter() - start
    assert est.rho_criterion_ == "evidence"
    assert est.laplace_hessian_ == ("block-diagonal" if form == "blocks" else "exact")
    return (est.rho_, est.rho_se_, seconds, est.n_laplace_fits_, est.log_marginal_,
            est.prior_precisions_["bi_r"], getattr(est, "sigma_", np.nan),
            getattr(est, "sigma_se_", np.nan))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--design", choices=sorted(DESIGNS), default="rank2")
    parser.add_argument("--reps", type=int, default=60)
    parser.add_argument("--binary", action="store_true")
    parser.add_argument("--forms", nargs="+", choices=("exact", "blocks", "mackay"),
                        default=["exact", "blocks"])
    parser.add_argument("--tag", default="")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--rhos", type=float, nargs="+", help="a subset of the design's")
    args = parser.parse_args()
    design = DESIGNS[args.design]
    binary = args.binary or args.design == "biases"
    rows = []
    for rho in args.rhos or design["rhos"]:
        results = {form: [] for form in args.forms}
        for rep in range(args.reps):
            X, r, o, _ = make_selection_mf(*design["shape"], n_factors=design["rank"], rho=rho,
                                           density=design["density"],
                                           outcome="binary" if binary else "continuous",
                                           random_state=args.first_seed + rep)
            for form in args.forms:
                if args.design == "biases":
                    est = BivariateProbitMF(random_state=0, if_not_identified="estimate")
                else:
                    est = (BivariateProbitMF if binary else HeckmanMFRegressor)(
                        design["rank"], rho_criterion="evidence", random_state=0,
                        if_not_identified="estimate")
                results[form].append(fit(est, X, r, o, form))
            print(rho, rep, {f: np.round(v[-1], 4).tolist() for f, v in results.items()},
                  flush=True)
        for form, values in results.items():
            est, se, seconds, fits, log_m, precision, sigma, sigma_se = np.array(values).T
            a_se = se / (1 - est**2)
            covered = np.abs(np.arctanh(est) - np.arctanh(rho)) <= 1.96 * a_se
            sigma_covered = np.abs(np.log(sigma)) <= 1.96 * sigma_se / sigma
            rows.append({"true rho": f"{rho:+.1f}", "form": form, "reps": len(values),
                         "bias": f"{est.mean() - rho:+.4f}",
                         "SE of the bias": f"{est.std(ddof=1) / np.sqrt(len(est)):.4f}",
                         "sd": f"{est.std(ddof=1):.4f}", "mean rho_se_": f"{se.mean():.4f}",
                         "Wald covers": f"{covered.mean():.3f}",
                         "median fit s": f"{np.median(seconds):.2f}",
                         "median fits": f"{np.median(fits):.0f}",
                         "mean log m": f"{log_m.mean():.3f}",
                         "mean bi_r precision": f"{precision.mean():.2f}",
                         **({} if binary else {
                             "mean sigma_ (truth 1)": f"{sigma.mean():.4f}",
                             "sd of sigma_": f"{sigma.std(ddof=1):.4f}",
                             "mean sigma_se_": f"{sigma_se.mean():.4f}",
                             "sigma covers": f"{sigma_covered.mean():.3f}"})})
    name = ("evidence_coverage" + ("_biases" if args.design == "biases" else "")
            + ("_binary" if args.binary else "") + args.tag)
    shape = design["shape"]
    model = ("BivariateProbitMF() (its default)" if args.design == "biases" else
             f"{'BivariateProbitMF' if binary else 'HeckmanMFRegressor'}({design['rank']}, "
             "rho_criterion='evidence')")
    write(name, rows, list(rows[0]),
          note=f"{model} on make_selection_mf({shape[0]}, {shape[1]}, rank {design['rank']}, "
               f"density {design['density']}{', binary' if binary else ''}), seeds "
               f"{args.first_seed}-{args.first_seed + args.reps - 1}; each data set fitted by "
               "each form: "
               + ", ".join(args.forms) + " (the script's docstring).")


if __name__ == "__main__":
    main()
