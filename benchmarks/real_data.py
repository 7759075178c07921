"""Selection models on real data against the random-exposure (MAR) truth (issue 13).

Coat (shipped): every user rated 24 coats of their choice (the MNAR log the models fit)
and 16 coats drawn at random (the MAR ratings, the truth the field debiases towards).
For each estimator, without and with a 5% MAR slice passed as ``X_unbiased,
y_unbiased`` (seeds 0-4; the metrics are on the other 95%), the table reports rho_ +- SE,
the NotIdentifiedWarning's penalty shift (``rho_penalty_shift_``: how many SEs a tenfold
change of the penalties would move atanh(rho)) and the design's structural SE of rho
(``rho_structural_se_``; both warn NotIdentifiedWarning, counted), the mean prediction on the MAR pairs
against their mean, RMSE on the 1-5 scale (continuous models) or AUC of rating >= 3
(binary models), and NDCG@5 per user (the paper code's convention). Beside them:
NaiveMF, IPSMF and DRJLMF with their defaults, and the classic linear-index
HeckmanSelection / HeckmanProbit on Coat's one-hot user and item features, whose rho
is what a statistician would compare with the MF models'.

Yahoo! R3 is read from the user's copy with ``--yahoo PATH`` (its licence forbids
shipping it); KuaiRec's training log is not public, so it is not run.

Usage: python benchmarks/real_data.py [--seeds 0 1 2 3 4] [--yahoo DIR] [--out FILE]
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from _common import mar_slice

RESULTS = Path(__file__).resolve().parent / "results"

#: The MF settings measured: the package defaults, and biases only (rank 0), and
#: strong penalties (in the standardised outcome's units).
MF_SETTINGS = {
    "defaults": {},
    "biases, reg_bias=1": {"n_factors": 0, "reg_bias": 1.0, "rho_criterion": "penalised"},
    "k=8, reg 100/10": {"n_factors": 8, "reg_factors": 100.0, "reg_bias": 10.0,
                        "rho_criterion": "penalised"},
}


def _coat():
    from heckrec.datasets import load_coat

    coat = load_coat()
    ratings = coat.ratings_train.ravel().astype(float)
    o = (ratings > 0).astype(int)
    X = coat.X_train.to_numpy()
    Xt = coat.X_test.to_numpy()
    yt = coat.ratings_test[Xt[:, 0], Xt[:, 1]].astype(float)
    return dict(name="Coat", X=X, r=np.where(o == 1, ratings, np.nan), o=o, X_mar=Xt,
                y_mar=yt, threshold=3, coat=coat)


def _yahoo(path):
    from heckrec.datasets import load_yahoo_r3

    data = load_yahoo_r3(path)  # the whole grid: about 15.4 million pairs (issue 15)
    X = data.X_train.to_numpy()
    Xt = data.X_test.to_numpy()
    return dict(name="Yahoo! R3", X=X, r=np.asarray(data.rating_train, dtype=float),
                o=np.asarray(data.o_train), X_mar=Xt,
                y_mar=np.asarray(data.rating_test, dtype=float), threshold=3)


def _metrics(data, held, prediction, binary):
    from heckrec.metrics import global_auc, ndcg_at_k

    y = data["y_mar"][held]
    positive = (y >= data["threshold"]).astype(float)
    users = data["X_mar"][held, 0]
    out = {"mean_prediction": float(np.mean(prediction)), "mar_mean": float(
        np.mean(positive if binary else y)),
        "auc": float(global_auc(positive, prediction)),
        "ndcg5": float(ndcg_at_k(users, positive, prediction, k=5))}
    if not binary:
        out["rmse"] = float(np.sqrt(np.mean((prediction - y) ** 2)))
    return out


def _fit_selection(data, model, settings, seed, use_slice):
    from heckrec import BivariateProbitMF, HeckmanMFRegressor
    from heckrec.exceptions import DegenerateEstimateWarning

    binary = model == "BivariateProbitMF"
    in_slice = mar_slice(len(data["y_mar"]), seed) if use_slice else np.zeros(len(data["y_mar"]),
                                                                           dtype=bool)
    r = data["r"]
    y_slice = data["y_mar"][in_slice]
    if binary:
        r = np.where(data["o"] == 1, (r >= data["threshold"]).astype(float), np.nan)
        y_slice = (y_slice >= data["threshold"]).astype(float)
    cls = BivariateProbitMF if binary else HeckmanMFRegressor
    extra = dict(X_unbiased=data["X_mar"][in_slice], y_unbiased=y_slice) if use_slice else {}
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DegenerateEstimateWarning)
        est = cls(random_state=seed, **settings).fit(data["X"], r, data["o"], **extra)
    seconds = time.perf_counter() - start
    held = ~in_slice
    Xh = data["X_mar"][held]
    prediction = est.predict_proba(Xh)[:, 1] if binary else est.predict(Xh)
    row = dict(model=model, settings=settings, seed=seed, slice=use_slice, rho=est.rho_,
               rho_se=est.rho_se_, rho_free=est.rho_free_, penalty_shift=est.rho_penalty_shift_,
               structural_se=est.rho_structural_se_,
               rho_criterion=est.rho_criterion_, prior_precisions=est.prior_precisions_,
               degenerate=est.degenerate_,
               warnings=sorted({type(w.message).__name__ for w in caught}),
               seconds=seconds, **_metrics(data, held, prediction, binary))
    return row


def _fit_baseline(data, name, seed):
    from heckrec.debias import DRJLMF, IPSMF, NaiveMF

    cls = {"NaiveMF": NaiveMF, "IPSMF": IPSMF, "DRJLMF": DRJLMF}[name]
    held = ~mar_slice(len(data["y_mar"]), seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = cls(random_state=seed).fit(data["X"], data["r"], data["o"])
    prediction = est.predict(data["X_mar"][held])
    return dict(model=name, settings={}, seed=seed, slice=False, rho=float("nan"),
                rho_se=float("nan"), penalty_shift=float("nan"), degenerate=None, warnings=[],
                seconds=time.perf_counter() - start,
                **_metrics(data, held, prediction, binary=False))


def _classic_design(coat):
    """One-hot user and item features with one level of each group dropped, plus 1."""
    import pandas as pd

    parts = []
    for frame, ids in ((coat.user_features, coat.X_train["user"].to_numpy()),
                       (coat.item_features, coat.X_train["item"].to_numpy())):
        groups = {}
        for column in frame.columns:
            groups.setdefault(column.split(":")[0], []).append(column)
        keep = [c for cols in groups.values() for c in cols[1:]]  # drop each group's first
        parts.append(frame[keep].iloc[ids].reset_index(drop=True)
                     .add_prefix("item " if frame is coat.item_features else "user "))
    design = pd.concat(parts, axis=1).astype(float)
    design.insert(0, "const", 1.0)
    return design


def _fit_classic(data):
    """HeckmanSelection (1-5) and HeckmanProbit (>= 3) on the one-hot features of Coat."""
    from heckrec.classic import HeckmanProbit, HeckmanSelection

    design = _classic_design(data["coat"])
    rows = []
    for name, cls, y in (("HeckmanSelection", HeckmanSelection, data["r"]),
                         ("HeckmanProbit", HeckmanProbit,
                          np.where(data["o"] == 1, (data["r"] >= 3).astype(float), np.nan))):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = cls(y, design, data["o"], design).fit()
        rows.append(dict(model=name, settings={"features": "one-hot user + item"}, seed=0,
                         slice=False, rho=float(res.rho), rho_se=float(res.rho_se),
                         penalty_shift=float("nan"), degenerate=None, warnings=[],
                         seconds=time.perf_counter() - start, llf=float(res.llf)))
    return rows


def _fmt(x, spec=".3f"):
    return "" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)


def _table(rows):
    """Means over seeds of each (model, settings, slice)."""
    groups = {}
    for row in rows:
        key = (row["model"], json.dumps(row["settings"], sort_keys=True), row["slice"])
        groups.setdefault(key, []).append(row)
    head = ("| model | settings | MAR slice | seeds | rho_ +- SE | penalty shift (SE) | "
            "structural SE | NotIdentifiedWarning | degenerate fits | "
            "mean prediction (MAR mean) | RMSE | AUC | NDCG@5 |")
    lines = [head, "|" + "---|" * 13]
    for (model, settings, use_slice), group in groups.items():
        def mean(key):
            values = [g[key] for g in group if key in g and g[key] is not None]
            return float(np.nanmean(values)) if values else float("nan")

        n_degenerate = sum(g["degenerate"] is not None for g in group)
        n_warned = sum("NotIdentifiedWarning" in g["warnings"] for g in group)
        mean_pred = (f"{_fmt(mean('mean_prediction'))} ({_fmt(mean('mar_mean'))})"
                     if "mean_prediction" in group[0] else "")
        rho = f"{_fmt(mean('rho'), '+.3f')} +- {_fmt(mean('rho_se'))}"
        held = sum(np.isnan(g["rho"]) and not np.isnan(g.get("rho_free", np.nan))
                   for g in group)
        if held:  # the design did not identify rho: held at 0, the free fit's in brackets
            rho = f"held at 0 in {held}/{len(group)} (free fit {_fmt(mean('rho_free'), '+.3f')})"
        lines.append(
            f"| {model} | {settings} | {'5%' if use_slice else 'no'} | {len(group)} | "
            f"{rho} | "
            f"{_fmt(mean('penalty_shift'), '.2f')} | {_fmt(mean('structural_se'), '.3g')} | "
            f"{n_warned}/{len(group)} | {n_degenerate}/{len(group)} | {mean_pred} | "
            f"{_fmt(mean('rmse'))} | {_fmt(mean('auc'))} | {_fmt(mean('ndcg5'))} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--yahoo", help="folder of Yahoo! R3 (ydata-ymusic-rating-study-v1_0)")
    parser.add_argument("--out", default=str(RESULTS / "real_data.json"))
    args = parser.parse_args()
    datasets = [_coat()] + ([_yahoo(args.yahoo)] if args.yahoo else [])
    report = {}
    for data in datasets:
        rows = []
        for model in ("HeckmanMFRegressor", "BivariateProbitMF"):
            for settings in MF_SETTINGS.values():
                rows.append(_fit_selection(data, model, settings, args.seeds[0], False))
                for seed in args.seeds:
                    rows.append(_fit_selection(data, model, settings, seed, True))
                print(f"[{data['name']}] {model} {settings} done", flush=True)
        for name in ("NaiveMF", "IPSMF", "DRJLMF"):
            rows.append(_fit_baseline(data, name, args.seeds[0]))
        if "coat" in data:
            rows.extend(_fit_classic(data))
        table = _table(rows)
        print(f"\n## {data['name']}\n\n{table}\n", flush=True)
        report[data["name"]] = {"rows": rows, "table": table}
    Path(args.out).write_text(json.dumps(report, indent=1, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
