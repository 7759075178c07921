# ruff: noqa: E402  (imports follow the sys.path fix below)
"""Coverage of heckrec's intervals for rho on simulated data with known rho.

For each true rho in {-0.8, -0.4, 0, 0.4, 0.8} the script simulates data,
fits, and records whether each nominal 95% interval covers the truth, the
estimate, its standard error, and the LR test's rejection of rho = 0 at 5%.

Parts (each writes benchmarks/results/coverage_<part>.json and prints a table):

    classic   HeckmanSelection (tobit-2, n = 1000) and HeckmanProbit (n = 2000),
              make_tobit2 design: Wald (hessian, opg, robust), profile, and for
              HeckmanSelection the parametric bootstrap (percentile, basic)
    mf        HeckmanMFRegressor on a 200 x 150 grid (rank 1, 30% observed) and
              BivariateProbitMF on a 200 x 150 biases-only grid (30% observed):
              Wald (profiled Hessian) and profile intervals, LR test; --grid sets
              another size

Usage::

    python benchmarks/coverage.py classic --reps 200 --boot 99
    python benchmarks/coverage.py mf --reps 50
    python benchmarks/coverage.py mf --models BivariateProbitMF --profile-reps 20
    python benchmarks/coverage.py mf --models HeckmanMFRegressor --reps 20 --rhos -0.8 0.4 \
        --profile-reps 0 --mf-boot --boot 20 --tag _bootstrap
    python benchmarks/coverage.py mf --models BivariateProbitMF --grid 400 300 \
        --rhos -0.8 0 0.8 --profile-reps 0 --tag _binary_400x300
    python benchmarks/coverage.py mf --models HeckmanMFRegressor --reps 30 --rhos -0.8 0.4 \
        --profile-reps 0 --mf-robust --tag _robust
    python benchmarks/coverage.py mf --oracle --tag _oracle
    python benchmarks/coverage.py mf --models HeckmanMFRegressor --reps 100 --profile-reps 0 \
        --mf-boot --boot 2 --penalties 1 0.1 --tag _bc2_weak      # the two-refit correction
    python benchmarks/coverage.py mf --models BivariateProbitMF --reps 30 --grid 400 300 \
        --rhos -0.8 0 0.8 --rank 1 --penalties 1 0.1 --profile-reps 0 --mf-boot --boot 2 \
        --tag _bc2_binary_rank1_400x300   # 1 / 0.1: the binary defaults until 2026-12-06
    python benchmarks/coverage.py mf --models BivariateProbitMF --reps 30 --grid 400 300 \
        --rhos -0.8 0 0.8 --rank 1 --penalties 1 0.1 --profile-reps 0 --linear --boot 2 \
        --tag _linear_binary_rank1_400x300     # the two-point correction (bias_corrected_rho)
    python benchmarks/coverage.py mf --models HeckmanMFRegressor --reps 100 --grid 400 300 \
        --rhos 0.8 --profile-reps 0 --linear --boot 2 --penalties 1 0.1 --cov-type robust \
        --tag _linear_weak_400x300_robust      # the same with the sandwich SE
    python benchmarks/coverage.py mf --models HeckmanMFRegressor --rho-criterion evidence \
        --reps 30 --tag _evidence
    python benchmarks/coverage.py report    # every table so far, as markdown
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

# Run as a script, this file's folder heads sys.path, where its name would
# shadow the ``coverage`` package that numba imports: take the folder out.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone

from heckrec import (
    BivariateProbitMF,
    BivariateProbitMFCV,
    HeckmanMFRegressor,
    HeckmanMFRegressorCV,
)
from heckrec.classic import HeckmanProbit, HeckmanSelection
from heckrec.classic._covariance import ml_covariance
from heckrec.datasets import make_selection_mf, make_tobit2
from heckrec.inference import (
    bias_corrected_rho,
    bootstrap_rho,
    jackknife_rho,
    lr_statistic,
    lr_test_rho,
    profile_rho,
    wald_interval,
    wald_interval_rho,
)

RHOS = (-0.8, -0.4, 0.0, 0.4, 0.8)
RESULTS = Path(__file__).parent / "results"


def _classic_rep(kind, rho, seed, n_boot):
    y, X, s, Z = make_tobit2(1000 if kind == "HeckmanSelection" else 2000, rho=rho, sigma=1.0,
                             random_state=seed)
    out = {"seed": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "HeckmanSelection":
            model = HeckmanSelection(y, X, s, Z)
        else:
            model = HeckmanProbit((y > 0).astype(float), X, s, Z)
        start = time.perf_counter()
        res = model.fit()
        out["fit_s"] = time.perf_counter() - start
        out["rho_hat"], out["rho_se"] = res.rho, res.rho_se
        H, S = model.hessian(res.theta), model.score_obs(res.theta)
        for cov_type in ("hessian", "opg", "robust"):
            var = ml_covariance(H, S, cov_type)[-1, -1]
            se = np.sqrt(var) if var > 0 else np.nan
            out[f"wald_{cov_type}"] = wald_interval_rho(res.athrho, se)
        start = time.perf_counter()
        prof = res.profile_rho()
        out["profile_s"] = time.perf_counter() - start
        out["profile"] = prof.interval
        out["profile_moved"] = bool(prof.extra)
        out["lr_p"] = res.lr_test_rho[1]
        if n_boot:
            start = time.perf_counter()
            boot = res.bootstrap(n_boot=n_boot, random_state=seed)
            out["boot_s"] = time.perf_counter() - start
            out["boot_percentile"] = boot.rho_interval(method="percentile")
            out["boot_basic"] = boot.rho_interval(method="basic")
    return out


def _mf_rep(kind, rho, seed, with_profile=True, n_boot=0, grid=(200, 150), robust=False,
            jackknife=0, penalties=None, rho_criterion="penalised", rank=None, linear=False,
            cov_type="hessian", cv=False):
    outcome = "continuous" if kind == "HeckmanMFRegressor" else "binary"
    k = (1 if outcome == "continuous" else 0) if rank is None else rank
    X, r, o, _ = make_selection_mf(*grid, n_factors=k, rho=rho, density=0.3,
                                   outcome=outcome, random_state=seed)
    cls = HeckmanMFRegressor if outcome == "continuous" else BivariateProbitMF
    # the free fit's rho is what is studied, also where a small design leaves it to the
    # normal shape (the default if_not_identified='fix' would hold it at 0 there)
    est = cls(n_factors=k, random_state=0, rho_criterion=rho_criterion, cov_type=cov_type,
              if_not_identified="estimate")
    if penalties:
        est.set_params(reg_factors=penalties[0], reg_bias=penalties[1])
    out = {"seed": seed}
    if cv:
        # The user's path where the defaults' penalties do not suit the data: rank and
        # penalties chosen by the CV estimator at its defaults (grid, 3 folds), then the
        # rest of the study on its refit, best_estimator_ (what inference is given).
        cv_cls = HeckmanMFRegressorCV if outcome == "continuous" else BivariateProbitMFCV
        search = cv_cls(random_state=0, estimator_params={"if_not_identified": "estimate",
                                                          "cov_type": cov_type})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            search.fit(X, r, o)
            out["cv_s"] = time.perf_counter() - start
        chosen = search.best_params_
        out["cv_rank"], out["cv_reg_factors"] = chosen["n_factors"], chosen["reg_factors"]
        out["cv_reg_bias"] = chosen["reg_bias"]
        est = clone(search.best_estimator_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(X, r, o)
        out["fit_s"] = time.perf_counter() - start
        out["rho_hat"], out["rho_se"] = est.rho_, est.rho_se_
        out["degenerate"] = est.degenerate_ is not None
        out["criterion"] = est.rho_criterion_
        out["wald_hessian"] = wald_interval(est)
        if est.rho_criterion_ != "penalised":  # ("auto" resolved by the fit)
            # The LR test of rho = 0 on the marginal likelihood: rho = 0 is on the
            # search's grid, so laplace_profile_ usually holds log m(0) already; a later
            # search of the evidence's that started near its last rho may not have it,
            # and then a fit at rho = 0 under the chosen precisions gives it.
            rho_grid, log_m = est.laplace_profile_.T
            at_zero = log_m[rho_grid == 0.0]
            if at_zero.size == 0:
                null = clone(est).set_params(fixed_rho=0.0, rho_criterion="laplace",
                                             compute_se=False)
                null._prior_precisions = dict(est.prior_precisions_)
                at_zero = [null.fit(X, r, o).log_marginal_]
            out["lr_p"] = lr_statistic(np.nanmax(log_m), at_zero[0])[1]
            out["n_laplace_fits"] = est.n_laplace_fits_
            out["precision_factors_r"] = est.prior_precisions_["factors_r"]
            out["precision_bi_r"] = est.prior_precisions_["bi_r"]
        elif est.degenerate_ is None and not with_profile:
            out["profile"], out["profile_skipped"] = (np.nan, np.nan), True
            out["lr_p"] = lr_test_rho(est, X, r, o)[1]
        elif est.degenerate_ is None:
            start = time.perf_counter()
            # rho = 0 on the grid: the profile there is the LR test's restricted fit.
            prof = profile_rho(est, X, r, o, grid=[0.0])
            out["profile_s"] = time.perf_counter() - start
            out["profile"], out["profile_moved"] = prof.interval, bool(prof.extra)
            out["lr_p"] = lr_statistic(prof.loglik_max, prof.loglik[prof.rho == 0.0][0])[1]
        else:
            out["profile"], out["lr_p"] = (np.nan, np.nan), np.nan
        if n_boot:
            start = time.perf_counter()
            boot = bootstrap_rho(est, X, n_boot=n_boot, random_state=seed)
            out["boot_s"] = time.perf_counter() - start
            out["boot_percentile"] = boot.rho_interval(method="percentile")
            out["boot_basic"] = boot.rho_interval(method="basic")
            # Bias-corrected estimate: 2 rho_hat - mean of the replications.
            out["rho_bc"] = 2 * est.rho_ - float(boot.estimates["rho"].mean())
            # The same on the atanh scale, with two SEs: the full fit's (Hessian) and the
            # replications' spread; the intervals tanh(a_bc -+ z se) (issue 14).
            a_star = np.arctanh(np.clip(boot.estimates["rho"].to_numpy(float), -1 + 1e-12,
                                        1 - 1e-12))
            a_bc = 2 * np.arctanh(est.rho_) - float(np.nanmean(a_star))
            out["rho_bc_atanh"] = float(np.tanh(a_bc))
            se_a = est.rho_se_ / (1 - est.rho_**2)
            out["boot_corrected_hessian_se"] = wald_interval_rho(a_bc, se_a)
            out["boot_corrected_boot_se"] = wald_interval_rho(a_bc, float(np.nanstd(a_star,
                                                                                 ddof=1)))
            # What BootstrapResult.bias_corrected() returns: the same a_bc, its SE (the
            # fit's below 20 replications) inflated by sqrt(1 + 1/B) for the noise of
            # the replications' mean.
            out["boot_corrected"] = boot.bias_corrected().conf_int()
            # the correction's cost against the fit: (fit + refits) / fit
            out["cost_ratio"] = (out["fit_s"] + out["boot_s"]) / out["fit_s"]
        if linear:
            # The two-point (MacKinnon-Smith) correction, n_boot refits at each point.
            start = time.perf_counter()
            try:
                lin = bias_corrected_rho(est, X, n_boot=max(n_boot, 2), random_state=seed)
            except ValueError:  # a degenerate fit has no SE to correct
                lin = None
            out["linear_s"] = time.perf_counter() - start
            if lin is None:
                out["boot_linear"] = out["boot_linear_delta_se"] = (np.nan, np.nan)
                out["rho_linear"] = out["rho_one_step"] = out["linear_slope"] = np.nan
            else:
                out["boot_linear"] = lin.conf_int()
                # the same centre with the delta method's SE, divided by (1 + slope)
                # (the alternative linear_bias_correction's docstring argues against)
                out["boot_linear_delta_se"] = wald_interval_rho(
                    np.arctanh(lin.estimate), lin.se_atanh / (1 + lin.bias_slope))
                out["rho_linear"], out["rho_one_step"] = lin.estimate, lin.one_step_estimate
                out["linear_slope"] = lin.bias_slope
            out["cost_ratio_linear"] = (out["fit_s"] + out["linear_s"]) / out["fit_s"]
        if jackknife and est.degenerate_ is None:
            start = time.perf_counter()
            jk = jackknife_rho(est, X, r, o, n_partitions=jackknife, random_state=seed)
            out["jackknife_s"] = time.perf_counter() - start
            out["jackknife"], out["rho_jk"] = jk.conf_int(), jk.estimate
        elif jackknife:
            out["jackknife"], out["rho_jk"] = (np.nan, np.nan), np.nan
        if robust:
            # Last, since it refits in place: a warm start from the optimum, so only the
            # covariance changes (and the fit's final polish).
            est.set_params(cov_type="robust", warm_start=True).fit(X, r, o)
            out["rho_se_robust"] = est.rho_se_
            out["wald_robust"] = wald_interval(est)
    return out


def _oracle_rep(kind, rho, seed, grid=(200, 150)):
    """The MF design's data, fitted by the classic model on the true scores g_o, g_r.

    Only the two slopes (1 at the truth), sigma and rho are free: no incidental
    parameters and no penalty, so this is the inference the MF fit would have if it
    knew every embedding and bias.
    """
    outcome = "continuous" if kind == "HeckmanMFRegressor" else "binary"
    _, r, o, truth = make_selection_mf(*grid, n_factors=1 if outcome == "continuous" else 0,
                                       rho=rho, density=0.3, outcome=outcome,
                                       random_state=seed)
    y = np.where(o == 1, r, 0.0)
    X, Z = truth["g_r"].reshape(-1, 1), truth["g_o"].reshape(-1, 1)
    model = (HeckmanSelection if outcome == "continuous" else HeckmanProbit)(y, X, o, Z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit()
    return {"seed": seed, "rho_hat": res.rho, "rho_se": res.rho_se,
            "wald_hessian": wald_interval(res), "lr_p": res.lr_test_rho[1]}


def summarise(rows, rho):
    """Per-interval coverage and the estimator's bias, SE and SD for one true rho."""
    est = np.array([r["rho_hat"] for r in rows], dtype=float)
    se = np.array([r["rho_se"] for r in rows], dtype=float)
    out = {"rho": rho, "reps": len(rows), "bias": float(np.nanmean(est) - rho),
           "sd": float(np.nanstd(est, ddof=1)), "mean_se": float(np.nanmean(se)),
           "median_se": float(np.nanmedian(se)),
           "lr_reject": float(np.nanmean([r["lr_p"] < 0.05 for r in rows]))}
    for key in rows[0]:
        if key.startswith(("wald_", "profile", "boot_", "jackknife")) and isinstance(rows[0][key],
                                                                         (list, tuple)):
            # (rho_criterion "auto" mixes penalised rows, with a profile entry, and
            # evidence rows, without)
            used = [r for r in rows if key in r and not r.get(f"{key}_skipped")]
            if not used:
                continue
            ends = np.array([r[key] for r in used], dtype=float)
            # An interval that could not be formed (NaN: a degenerate fit) counts as a miss.
            out[f"cover_{key}"] = float(np.mean((ends[:, 0] <= rho) & (rho <= ends[:, 1])))
            if len(used) < len(rows):
                out[f"reps_{key}"] = len(used)
    if "criterion" in rows[0]:  # the criterion each fit used ("auto" resolves per fit)
        out["share_evidence"] = float(np.mean([r["criterion"] == "evidence" for r in rows]))
    if "rho_jk" in rows[0]:
        jk = np.array([r["rho_jk"] for r in rows], dtype=float)
        out["bias_jackknife"] = float(np.nanmean(jk) - rho)
        out["sd_jackknife"] = float(np.nanstd(jk, ddof=1))
    for key in ("fit_s", "profile_s", "boot_s", "jackknife_s", "cost_ratio", "linear_s",
                "cost_ratio_linear", "cv_s"):
        times = [r[key] for r in rows if key in r]
        if times:
            out[f"median_{key}"] = float(np.median(times))
    if "cv_rank" in rows[0]:  # what the CV chose: the most frequent setting, and how often
        chosen = [(r["cv_rank"], r["cv_reg_factors"], r["cv_reg_bias"]) for r in rows]
        values, counts = np.unique(np.array(chosen), axis=0, return_counts=True)
        out["cv_choice"] = "rank {:g} at {:g} / {:g}".format(*values[np.argmax(counts)])
        out["cv_choice_share"] = float(counts.max() / len(rows))
    for key in ("n_laplace_fits", "precision_factors_r", "precision_bi_r"):
        values = [r[key] for r in rows if key in r]  # (under "auto": the evidence's rows)
        if values:
            out[f"median_{key}"] = float(np.median(values))
    if "rho_se_robust" in rows[0]:
        out["mean_se_robust"] = float(np.nanmean([r["rho_se_robust"] for r in rows]))
    if "rho_bc" in rows[0]:
        bc = np.array([r["rho_bc"] for r in rows], dtype=float)
        out["bias_bootstrap_corrected"] = float(np.nanmean(bc) - rho)
    if "rho_bc_atanh" in rows[0]:
        bc = np.array([r["rho_bc_atanh"] for r in rows], dtype=float)
        out["bias_bootstrap_corrected_atanh"] = float(np.nanmean(bc) - rho)
        out["sd_bootstrap_corrected_atanh"] = float(np.nanstd(bc, ddof=1))
    for key in ("rho_linear", "rho_one_step"):
        if key in rows[0]:
            values = np.array([r[key] for r in rows], dtype=float)
            out[f"bias_{key}"] = float(np.nanmean(values) - rho)
            out[f"sd_{key}"] = float(np.nanstd(values, ddof=1))
    if "linear_slope" in rows[0]:
        out["median_linear_slope"] = float(np.nanmedian([r["linear_slope"] for r in rows]))
    if "degenerate" in rows[0]:
        out["degenerate"] = int(sum(r["degenerate"] for r in rows))
    return out


def pool_summaries(parts):
    """One summary from summaries of the same cell over disjoint datasets: coverages and
    rejection rates weighted by replications, each bias / SD pair combined exactly (the
    pooled mean, and the pooled SD from the parts' sums of squares), medians and
    mean SEs weighted as means (for medians an approximation, said in the key)."""
    n = np.array([p["reps"] for p in parts], dtype=float)
    out = {"rho": parts[0]["rho"], "reps": int(n.sum())}
    for key in parts[0]:
        if key in ("rho", "reps") or not all(key in p for p in parts):
            continue
        values = np.array([p[key] for p in parts], dtype=float)
        if key.startswith("sd"):
            continue  # with its bias, below
        if key.startswith("bias"):
            sd_key = "sd" + key[len("bias"):]
            mean = values + parts[0]["rho"]  # the parts' means of the estimate
            pooled = float(np.sum(n * mean) / n.sum())
            out[key] = pooled - parts[0]["rho"]
            if all(sd_key in p for p in parts):
                sd = np.array([p[sd_key] for p in parts], dtype=float)
                ss = np.sum((n - 1) * sd**2 + n * (mean - pooled) ** 2)
                out[sd_key] = float(np.sqrt(ss / (n.sum() - 1)))
        elif key.startswith("median_"):
            out[key + "_weighted"] = float(np.sum(n * values) / n.sum())
        elif key == "degenerate":
            out[key] = int(values.sum())
        else:
            out[key] = float(np.sum(n * values) / n.sum())
    return out


def pool_runs(tags, models, out_tag):
    """Combine the mf runs ``coverage_mf<tag>.json`` of each model, cell by cell, into
    ``coverage_mf<out_tag>.json``; refuses runs whose settings differ beyond the seeds or
    whose seeds overlap."""
    if not tags or len(tags) < 2 or not out_tag:
        raise SystemExit("pool needs --tags with two or more runs and a --tag for the result")
    reports = [json.loads((RESULTS / f"coverage_mf{tag}.json").read_text()) for tag in tags]
    kinds = models or sorted(set.intersection(*(set(r["results"]) for r in reports)))
    pooled = {"part": "mf", "results": {}, "settings": {}, "pooled_from": list(tags)}
    for kind in kinds:
        settings = [dict(r["settings"][kind]) for r in reports]
        cells = {}  # rho -> the seed spans of the runs that have it
        for report, s in zip(reports, settings):
            first = s.get("first_rep", 0)
            for row in report["results"][kind]["summary"]:
                cells.setdefault(row["rho"], []).append((first, first + s["reps"]))
        for rho, spans in cells.items():
            spans.sort()
            if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
                raise SystemExit(f"{kind}: the runs' seeds overlap at rho {rho} ({spans})")
        # what may differ: the seeds, and --boot where no bootstrap ran (the two-point
        # correction then takes 2 refits); runs from before --cov-type and --cv used the
        # Hessian and no search
        same = [{k: v for k, v in dict({"cov_type": "hessian", "cv": False}, **s).items()
                 if k not in ("reps", "first_rep") and (k != "boot" or s["mf_boot"])}
                for s in settings]
        if any(s != same[0] for s in same[1:]):
            raise SystemExit(f"{kind}: the runs' settings differ: {same}")
        summaries = []
        for rho in sorted({row["rho"] for r in reports for row in r["results"][kind]["summary"]}):
            parts = [row for r in reports for row in r["results"][kind]["summary"]
                     if row["rho"] == rho]
            summaries.append(pool_summaries(parts))
        pooled["results"][kind] = {"summary": summaries, "seconds": sum(
            r["results"][kind]["seconds"] for r in reports)}
        counts = sorted({row["reps"] for row in summaries})
        reps = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        pooled["settings"][kind] = dict(settings[0], reps=f"{reps} (pooled)", first_rep=None,
                                        spans={str(rho): v for rho, v in cells.items()})
        print(f"\n{kind}, pooled from {', '.join(tags)} (replications per cell in 'reps')\n"
              f"{table(summaries)}\n")
    path = RESULTS / f"coverage_mf{out_tag}.json"
    path.write_text(json.dumps(pooled, indent=1))
    print(f"wrote {path}")


def table(summaries):
    keys = [k for k in summaries[0] if k != "rho"]
    lines = ["| rho | " + " | ".join(keys) + " |", "|" + "---|" * (len(keys) + 1)]
    for s in summaries:
        cells = [f"{s[k]:.3f}" if isinstance(s[k], float) else str(s[k]) for k in keys]
        lines.append(f"| {s['rho']:+.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report_markdown():
    """Every coverage table written so far, as markdown (what docs/inference.md quotes)."""
    blocks = []
    for path in sorted(RESULTS.glob("coverage_*.json")):
        report = json.loads(path.read_text())
        for kind, result in report["results"].items():
            settings = report.get("settings", {}).get(kind, {})
            reps = settings.get("reps", report.get("reps"))
            grid = settings.get("grid")
            where = f", {grid[0]} x {grid[1]} grid" if grid else ""
            took = ("time not recorded" if result.get("seconds") is None
                    else f"{result['seconds'] / 60:.0f} min")  # a run stopped by hand
            blocks.append(f"**{kind}** (`{path.name}`, {reps} replications per rho{where}, "
                          f"{took})\n\n{table(result['summary'])}")
    return "\n\n".join(blocks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["classic", "mf", "report", "pool"],
                        help="report: print every results/coverage_*.json as markdown tables; "
                             "pool: combine the --tags' runs of one model (disjoint seeds)")
    parser.add_argument("--tags", nargs="+", default=None,
                        help="pool: the runs to combine, as their --tag (e.g. _a _b)")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--first-rep", type=int, default=0,
                        help="MF / classic: start at this replication's seed, so a second run "
                             "adds new datasets to an earlier one's (combine them with 'pool')")
    parser.add_argument("--boot", type=int, default=99, help="bootstrap replications (classic)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=None,
                        help="only these models of the part (results merge into its file)")
    parser.add_argument("--profile-reps", type=int, default=None,
                        help="MF: profile intervals for only the first N replications per rho")
    parser.add_argument("--mf-boot", action="store_true",
                        help="MF: also the parametric bootstrap (--boot replications)")
    parser.add_argument("--rhos", type=float, nargs="+", default=RHOS)
    parser.add_argument("--tag", default="", help="suffix of the results file")
    parser.add_argument("--mf-robust", action="store_true",
                        help="MF: also the Wald interval from cov_type='robust'")
    parser.add_argument("--oracle", action="store_true",
                        help="MF: fit the classic model on the true scores instead (the "
                             "results are filed as '<model> oracle')")
    parser.add_argument("--grid", type=int, nargs=2, default=(200, 150),
                        metavar=("N_USERS", "N_ITEMS"), help="MF: the simulated grid")
    parser.add_argument("--jackknife", type=int, default=0, metavar="N_PARTITIONS",
                        help="MF: also the split-panel jackknife (jackknife_rho) interval")
    parser.add_argument("--penalties", type=float, nargs=2, default=None,
                        metavar=("REG_FACTORS", "REG_BIAS"),
                        help="MF: these penalties instead of the estimator's defaults")
    parser.add_argument("--rank", type=int, default=None,
                        help="MF: rank of the simulated scores and of the fit (default 1 for "
                             "HeckmanMFRegressor, 0 for BivariateProbitMF)")
    parser.add_argument("--linear", action="store_true",
                        help="MF: also bias_corrected_rho, the two-point bootstrap correction "
                             "(max(--boot, 2) refits at each point when --mf-boot is given, "
                             "else 2)")
    parser.add_argument("--rho-criterion", choices=["penalised", "laplace", "evidence", "auto"],
                        default="penalised",
                        help="MF: the estimators' rho_criterion (laplace, evidence: Wald "
                             "interval from the marginal likelihood's curvature, LR test on "
                             "it; auto: BivariateProbitMF's default, resolved by the fit)")
    parser.add_argument("--cv", action="store_true",
                        help="MF: choose rank and penalties by HeckmanMFRegressorCV / "
                             "BivariateProbitMFCV at their defaults first, and study the "
                             "refit (the fit time then excludes the search: cv_s)")
    parser.add_argument("--cov-type", choices=["hessian", "robust"], default="hessian",
                        help="MF: the estimators' cov_type, so rho_se_ (and the SE the "
                             "corrections' intervals start from) is the Hessian's or the "
                             "sandwich")
    args = parser.parse_args()
    if args.part == "report":
        print(report_markdown())
        return
    if args.part == "pool":
        pool_runs(args.tags, args.models, args.tag)
        return
    if args.cv and args.penalties:
        raise SystemExit("--cv chooses the penalties; drop --penalties")
    reps = args.reps or (200 if args.part == "classic" else 50)
    kinds = args.models or (("HeckmanSelection", "HeckmanProbit") if args.part == "classic"
                            else ("HeckmanMFRegressor", "BivariateProbitMF"))
    path = RESULTS / f"coverage_{args.part}{args.tag}.json"
    report = json.loads(path.read_text()) if args.models and path.exists() else {
        "part": args.part, "results": {}}
    report.setdefault("settings", {})
    for kind in kinds:
        summaries, started = [], time.perf_counter()
        for j, rho in enumerate(args.rhos):
            seeds = [10_000 * RHOS.index(rho) + i if rho in RHOS else 10_000 * (9 + j) + i
                     for i in range(args.first_rep, args.first_rep + reps)]
            if args.part == "classic":
                n_boot = args.boot if kind == "HeckmanSelection" else 0
                rows = Parallel(n_jobs=args.n_jobs)(
                    delayed(_classic_rep)(kind, rho, seed, n_boot) for seed in seeds)
            elif args.oracle:
                rows = Parallel(n_jobs=args.n_jobs)(
                    delayed(_oracle_rep)(kind, rho, seed, tuple(args.grid)) for seed in seeds)
            else:  # numba already uses both cores
                n_prof = reps if args.profile_reps is None else args.profile_reps
                rows = [_mf_rep(kind, rho, seed, i < n_prof, args.boot if args.mf_boot else 0,
                                tuple(args.grid), args.mf_robust, args.jackknife,
                                args.penalties, args.rho_criterion, args.rank, args.linear,
                                args.cov_type, args.cv)
                        for i, seed in enumerate(seeds)]
            summaries.append(summarise(rows, rho))
            print(f"{kind} rho={rho:+.1f}: {summaries[-1]}", flush=True)
        name = f"{kind} oracle" if args.oracle else kind
        report["results"][name] = {"summary": summaries,
                                   "seconds": time.perf_counter() - started}
        report["settings"][name] = {"reps": reps, "first_rep": args.first_rep, "boot": args.boot,
                                    "profile_reps": args.profile_reps,
                                    "jackknife": args.jackknife, "penalties": args.penalties,
                                    "rho_criterion": args.rho_criterion, "rank": args.rank,
                                    "linear": args.linear, "mf_boot": args.mf_boot,
                                    "cov_type": args.cov_type, "cv": args.cv}
        if args.part == "mf":
            report["settings"][name]["grid"] = list(args.grid)
        print(f"\n{name} ({reps} replications per rho, nominal 95%)\n{table(summaries)}\n",
              flush=True)
        RESULTS.mkdir(exist_ok=True)
        path.write_text(json.dumps(report, indent=1))  # after each model: partial runs count
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
