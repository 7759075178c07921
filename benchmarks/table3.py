"""Table 3: the hidden-confounding estimators beside the MF selection models, 5 seeds.

The Res-DR paper's protocol (Li et al., NeurIPS 2023; ../shared/specs/hidden_confounding.md):
ratings >= 4 positive, a random 5% of the MAR test pairs is the slice that the methods
needing unbiased data train on (Res-IPS, Res-DR, the MF selection models' X_unbiased)
and that chooses every method's settings (AUC on the slice, from the small grids
below); AUC / NDCG@5 / Recall@5 on the other 95%, under the paper's convention for a
user without a positive (NDCG 1, Recall 0). Every weighting method uses the same
nominal propensity: its default, a logistic MF of o on the biased data.

Settings are chosen in stages to keep the grid small (2 CPU cores here): MF, IPS and
DR-JL choose reg_factors; RD / BRD / PUID / BPUID take their parent's (IPS or DR-JL)
choice and choose their gamma from grids around the authors' published values (RD-IPS
25, RD-DR 3, BRD-IPS 8-10, BRD-DR 2.5); BRD and BPUID use the fitted parent as their
benchmark; Res-IPS / Res-DR take IPS's choice and search the paper's beta / gamma grid
(a corner of it). The selection models rank pairs by g_r.

Usage: python benchmarks/table3.py run [--seeds 0 1 2 3 4] [--jobs 2]
                                       [--yahoo FOLDER] [--kuairec FOLDER]
       python benchmarks/table3.py run --rows PUID BPUID [--seeds ...]   # rerun these rows
       python benchmarks/table3.py report

A rerun's rows are appended to the runs file and replace the earlier rows of the same
dataset, estimator and seed in the report (the file keeps both).
"""

import argparse
import json
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from _common import mar_slice

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = RESULTS / "table3_runs.jsonl"

#: Published Table 1 of the Res-DR paper (AUC, NDCG@K, Recall@K), from the spec.
PUBLISHED = {
    "coat": {"MF": (0.747, 0.500, 0.546), "IPS": (0.761, 0.513, 0.566),
             "DR-JL": (0.766, 0.525, 0.552), "RD-IPS": (0.764, 0.514, 0.566),
             "BRD-IPS": (0.763, 0.511, 0.564), "BRD-DR": (0.770, 0.546, 0.577),
             "Res-IPS": (0.777, 0.575, 0.601), "Res-DR": (0.793, 0.588, 0.607)},
    "yahoo": {"MF": (0.721, 0.553, 0.716), "IPS": (0.722, 0.555, 0.733),
              "DR-JL": (0.725, 0.553, 0.727), "RD-IPS": (0.730, 0.571, 0.735),
              "BRD-IPS": (0.735, 0.582, 0.743), "BRD-DR": (0.735, 0.576, 0.737),
              "Res-IPS": (0.759, 0.639, 0.785), "Res-DR": (0.750, 0.654, 0.803)},
    "kuairec": {"MF": (0.820, 0.561, 0.816), "IPS": (0.826, 0.574, 0.849),
                "DR-JL": (0.824, 0.567, 0.838), "RD-IPS": (0.832, 0.585, 0.873),
                "BRD-IPS": (0.834, 0.588, 0.877), "BRD-DR": (0.831, 0.585, 0.883),
                "Res-IPS": (0.849, 0.601, 0.885), "Res-DR": (0.854, 0.595, 0.860)},
}
#: K of NDCG@K / Recall@K per dataset (the paper's).
TOP_K = {"coat": 5, "yahoo": 5, "kuairec": 50}

N_FACTORS = 8
BASE_REG = [30.0, 100.0]           # reg_factors of MF / IPS / DR-JL (100 is the default)
GAMMA_IPS = [2.5, 10.0, 25.0]      # RD-IPS / BRD-IPS
GAMMA_DR = [1.5, 3.0]              # RD-DR / BRD-DR
RES_IPS_GRID = [(1.0, 0.01), (1.0, 0.1), (10.0, 0.01), (10.0, 0.1)]  # (beta, gamma)
RES_DR_GRID = [(1.0, 0.1), (10.0, 0.1)]
SELECTION_REG = [10.0, 30.0, 100.0]  # 100: both selection models' default (since 2026-12-06)

ROWS = ["MF", "IPS", "DR-JL", "RD-IPS", "RD-DR", "BRD-IPS", "BRD-DR", "Res-IPS", "Res-DR",
        "PUID", "BPUID", "BivariateProbitMF + slice", "HeckmanMF + slice",
        "BivariateProbitMF + slice, defaults", "HeckmanMF + slice, defaults"]


def _load(name, folder):
    from heckrec.datasets import load_coat, load_kuairec, load_yahoo_r3

    if name == "coat":
        data = load_coat(threshold=4)
        users, items = data.X_test["user"].to_numpy(), data.X_test["item"].to_numpy()
        return data, data.ratings_train.ravel().astype(float), data.ratings_test[users, items]
    data = load_yahoo_r3(folder, threshold=4) if name == "yahoo" else load_kuairec(folder)
    value = next(k[:-6] for k in data if k.endswith("_train") and k not in
                 ("X_train", "r_train", "o_train"))
    return data, data[f"{value}_train"], data[f"{value}_test"]


def _metrics(users, y, score, k):
    from heckrec.metrics import global_auc, ndcg_at_k, recall_at_k, user_auc

    # uauc: the per-user AUC the RD / BRD authors' code reports as AUC (heckrec.metrics)
    return {"auc": global_auc(y, score), "uauc": user_auc(users, y, score),
            "ndcg": ndcg_at_k(users, y, score, k, "paper"),
            "recall": recall_at_k(users, y, score, k, "paper")}


def _score(est, X):
    if hasattr(est, "decision_scores"):
        return est.decision_scores(X)[1]  # g_r: the debiased preference's index
    return est.predict(X)


class _Seed:
    """One seed's data, slice and fits."""

    def __init__(self, name, folder, seed):
        self.data, self.raw_train, self.raw_test = _load(name, folder)
        self.k, self.seed = TOP_K[name], seed
        self.valid = mar_slice(len(self.data.r_test), seed)
        self.users = self.data.X_test["user"].to_numpy()
        self.X_slice = self.data.X_test[self.valid]

    def fit(self, est, slice_outcome=None, propensity=None):
        from heckrec.metrics import global_auc

        data = self.data
        y = data.r_train
        kwargs = {} if propensity is None else {"propensity": propensity}
        if type(est).__name__ == "HeckmanMFRegressor":
            y = np.where(data.o_train == 1, self.raw_train, np.nan)  # the raw ratings
            slice_outcome = self.raw_test[self.valid] if slice_outcome is not None else None
        if slice_outcome is not None:
            kwargs |= {"X_unbiased": self.X_slice, "y_unbiased": slice_outcome}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(data.X_train, y, data.o_train, **kwargs)
        score = _score(est, data.X_test)
        # pooled AUC only: on a 5% slice few users have two pairs, so the per-user
        # metrics may have no user to average (a simulated KuaiRec-shaped folder had none)
        slice_auc = global_auc(data.r_test[self.valid], score[self.valid])
        return {"est": est, "score": score, "slice_auc": slice_auc,
                "warnings": sorted({type(w.message).__name__ for w in caught})}

    def best(self, candidates, uses_slice=False, propensity=None):
        outcome = self.data.r_test[self.valid] if uses_slice else None
        tried = [self.fit(est, outcome, propensity) for est in candidates]
        return max(tried, key=lambda t: t["slice_auc"]) | {"fits": len(tried)}

    def choose(self, name, candidates, keys, uses_slice=False, propensity=None, record=True):
        """The best of ``candidates`` by slice AUC, and (with ``record``) its row: the
        settings named in ``keys``, the seconds all the candidates' fits took, metrics."""
        start = time.perf_counter()
        fit = self.best(candidates, uses_slice, propensity)
        seconds = time.perf_counter() - start
        params = {k: v for k, v in fit["est"].get_params().items() if k in keys}
        return fit["est"], (self.row(name, fit, params, seconds) if record else None)

    def row(self, name, fit, params, seconds):
        valid = self.valid
        out = {"estimator": name, "seed": self.seed, "validation_auc": fit["slice_auc"],
               "chosen": params, "fits": fit["fits"], "seconds": seconds,
               "warnings": fit["warnings"], "rho_hat": float(getattr(fit["est"], "rho_", np.nan)),
               **_metrics(self.users[~valid], self.data.r_test[~valid], fit["score"][~valid],
                          self.k)}
        print(json.dumps(out), flush=True)
        return out


def run_seed(job):
    from heckrec import BivariateProbitMF, HeckmanMFRegressor
    from heckrec.debias import (BPUIDMF, BRDDRMF, BRDIPSMF, DRJLMF, IPSMF, PUIDMF, RDDRMF,
                                RDIPSMF, NaiveMF, ResDRMF, ResIPSMF)

    name, folder, seed, wanted = job
    wanted = set(wanted or ROWS)
    # the rows the wanted ones take their settings or benchmark from
    parents = {"IPS": {"RD-IPS", "BRD-IPS", "Res-IPS", "Res-DR", "PUID", "BPUID"},
               "DR-JL": {"RD-DR", "BRD-DR"}}
    needed = wanted | {p for p, children in parents.items() if wanted & children}
    s = _Seed(name, folder, seed)
    common = dict(n_factors=N_FACTORS, loss="logistic", random_state=seed)
    rows, parent = [], {}

    def stage(row_name, candidates, keys, uses_slice=False):
        if row_name not in needed:
            return None
        est, row = s.choose(row_name, candidates, keys, uses_slice, record=row_name in wanted)
        if row is not None:
            rows.append(row)
        return est

    for row_name, cls in (("MF", NaiveMF), ("IPS", IPSMF), ("DR-JL", DRJLMF)):
        parent[row_name] = stage(row_name, [cls(**common, reg_factors=reg) for reg in BASE_REG],
                                 {"reg_factors"})
    ips_reg = getattr(parent["IPS"], "reg_factors", None)
    dr_reg = getattr(parent["DR-JL"], "reg_factors", None)
    stage("RD-IPS", [RDIPSMF(**common, reg_factors=ips_reg, gamma=g) for g in GAMMA_IPS],
          {"reg_factors", "gamma"})
    stage("RD-DR", [RDDRMF(**common, reg_factors=dr_reg, gamma=g) for g in GAMMA_DR],
          {"reg_factors", "gamma"})
    stage("BRD-IPS", [BRDIPSMF(**common, reg_factors=ips_reg, gamma=g, benchmark=parent["IPS"],
                               benchmark_prefit=True) for g in GAMMA_IPS],
          {"reg_factors", "gamma"})
    stage("BRD-DR", [BRDDRMF(**common, reg_factors=dr_reg, gamma=g, benchmark=parent["DR-JL"],
                             benchmark_prefit=True) for g in GAMMA_DR],
          {"reg_factors", "gamma"})
    res_keys = {"reg_factors", "res_weight", "consistency_weight"}
    stage("Res-IPS", [ResIPSMF(**common, reg_factors=ips_reg, res_weight=b,
                               consistency_weight=g) for b, g in RES_IPS_GRID],
          res_keys, uses_slice=True)
    stage("Res-DR", [ResDRMF(**common, reg_factors=ips_reg, res_weight=b,
                             consistency_weight=g) for b, g in RES_DR_GRID],
          res_keys, uses_slice=True)
    stage("PUID", [PUIDMF(**common, reg_factors=ips_reg)], {"reg_factors", "gamma_max"})
    stage("BPUID", [BPUIDMF(**common, reg_factors=ips_reg, benchmark=parent["IPS"],
                            benchmark_prefit=True)], {"reg_factors", "gamma_max"})
    selection = dict(n_factors=N_FACTORS, compute_se=False, random_state=seed)
    stage("BivariateProbitMF + slice",
          [BivariateProbitMF(**selection, reg_factors=reg) for reg in SELECTION_REG],
          {"reg_factors"}, uses_slice=True)
    stage("HeckmanMF + slice",
          [HeckmanMFRegressor(**selection, reg_factors=reg) for reg in SELECTION_REG],
          {"reg_factors"}, uses_slice=True)
    # what a user gets who does not choose: the defaults, one fit each, the same slice
    for row_name, cls in (("BivariateProbitMF + slice, defaults", BivariateProbitMF),
                          ("HeckmanMF + slice, defaults", HeckmanMFRegressor)):
        stage(row_name, [cls(compute_se=False, random_state=seed)], set(), uses_slice=True)
    return [dict(r, dataset=name) for r in rows]


def _read():
    rows, seen = [], set()
    if RUNS.exists():
        for row in map(json.loads, RUNS.read_text().splitlines()):
            key = (row["dataset"], row["estimator"], row["seed"])
            if key in seen:  # a row rerun (run --rows) replaces the earlier one
                rows = [r for r in rows
                        if (r["dataset"], r["estimator"], r["seed"]) != key]
            seen.add(key)
            rows.append(row)
    return rows


def run(args):
    unknown = set(args.rows or ()) - set(ROWS)
    if unknown:
        raise SystemExit(f"unknown rows {sorted(unknown)}; the rows are {ROWS}")
    done = set() if args.rows else {(r["dataset"], r["seed"]) for r in _read()}
    jobs = [("coat", None, s, args.rows) for s in args.seeds]
    jobs += [("yahoo", args.yahoo, s, args.rows) for s in args.seeds if args.yahoo]
    jobs += [("kuairec", args.kuairec, s, args.rows) for s in args.seeds if args.kuairec]
    jobs = [j for j in jobs if (j[0], j[2]) not in done]
    with ProcessPoolExecutor(args.jobs) as pool:
        for rows in pool.map(run_seed, jobs):
            with RUNS.open("a") as f:
                f.writelines(json.dumps(row) + "\n" for row in rows)


def report(args):
    rows = _read()
    lines = []
    for dataset in ("coat", "yahoo", "kuairec"):
        mine = [r for r in rows if r["dataset"] == dataset]
        if not mine:
            continue
        k = TOP_K[dataset]
        lines += [f"### {dataset}: 95% of the MAR test pairs (5% per seed trained and chose "
                  f"the settings), mean +- sd over seeds", "",
                  f"| estimator | AUC | NDCG@{k} | Recall@{k} | published AUC / NDCG / Recall "
                  "| AUC - published | per-user AUC (seeds) | per-user AUC - published "
                  "| seconds (its fits) | rho_hat | seeds |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for name in ROWS:
            these = [r for r in mine if r["estimator"] == name]
            if not these:
                continue
            cells = [f"{np.mean([r[m] for r in these]):.3f} +- "
                     f"{np.std([r[m] for r in these], ddof=1) if len(these) > 1 else 0:.3f}"
                     for m in ("auc", "ndcg", "recall")]
            published = PUBLISHED[dataset].get(name)
            pub = " / ".join(f"{v:.3f}" for v in published) if published else ""
            gap = f"{np.mean([r['auc'] for r in these]) - published[0]:+.3f}" if published else ""
            rho = [r["rho_hat"] for r in these]
            # rows run before the per-user AUC was recorded lack it
            uauc = [r["uauc"] for r in these if "uauc" in r]
            ucell = f"{np.mean(uauc):.3f} ({len(uauc)})" if uauc else ""
            ugap = f"{np.mean(uauc) - published[0]:+.3f}" if uauc and published else ""
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {pub} | {gap} | {ucell} | "
                         f"{ugap} | "
                         f"{np.median([r['seconds'] for r in these]):.0f} | "
                         + (f"{np.mean(rho):+.3f}" if np.all(np.isfinite(rho)) else "")
                         + f" | {len(these)} |")
        lines += ["", "Chosen settings (seeds):", ""]
        for name in ROWS:
            chosen = [json.dumps(r["chosen"], sort_keys=True) for r in mine
                      if r["estimator"] == name]
            warned = sorted({w for r in mine if r["estimator"] == name for w in r["warnings"]})
            if chosen:
                lines.append(f"- {name}: " + "; ".join(sorted(set(chosen)))
                             + (f" (warnings: {', '.join(warned)})" if warned else ""))
        lines.append("")
    text = "\n".join(lines)
    print(text)
    (RESULTS / "table3.md").write_text(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["run", "report"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=int, default=1, help="seeds fitted in parallel")
    parser.add_argument("--yahoo", help="folder with Yahoo! R3's train / test files")
    parser.add_argument("--kuairec", help="folder with KuaiRec's matrices")
    parser.add_argument("--rows", nargs="+", default=None, metavar="ROW",
                        help="run: (re)compute only these rows for the seeds (and the rows "
                             "they take settings from, unrecorded)")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    {"run": run, "report": report}[args.part](args)


if __name__ == "__main__":
    main()
