"""Ranking metrics of the debiasing literature: global AUC, NDCG@K and Recall@K per user,
and the per-user AUC the RD / BRD authors' code reports as AUC.

The paper evaluates on MAR test pairs: AUC over all of them at once, NDCG@K and
Recall@K within each user's test items, averaged over users. Its code gives a user with
no positive test item NDCG = 1 and Recall = 0 (``recall = hits / max(1, n_pos)``); that
is ``convention="paper"``, for comparing with its tables. ``convention="corrected"``
leaves such users out: they have nothing to rank, and counting them as perfect (NDCG) or
as failures (Recall) only moves every method by the same share of users.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.utils import column_or_1d

CONVENTIONS = ("paper", "corrected")


def check_k(k):
    """Raise unless ``k`` is a positive integer."""
    if isinstance(k, bool) or not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k must be a positive integer, got {k!r}")


def check_convention(convention):
    """Raise unless ``convention`` is one of :data:`CONVENTIONS`."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")


def _check_inputs(users, y_true, y_score, k=None):
    users = column_or_1d(users)
    y_true = column_or_1d(y_true).astype(np.float64)
    y_score = column_or_1d(y_score).astype(np.float64)
    if not len(users) == len(y_true) == len(y_score):
        raise ValueError(f"users, y_true and y_score must have one entry per test pair; got "
                         f"lengths {len(users)}, {len(y_true)} and {len(y_score)}")
    if len(users) == 0:
        raise ValueError("no test pairs: users, y_true and y_score are empty")
    if not np.all(np.isfinite(y_score)):
        raise ValueError("y_score contains NaN or infinity")
    if not np.all(np.isfinite(y_true)) or np.any(y_true < 0):
        raise ValueError("y_true must hold non-negative relevances (0/1 labels or gains)")
    if pd.isna(users).any():
        raise ValueError("users contains missing values")
    if k is not None:
        check_k(k)
    return users, y_true, y_score


def per_user_ranking(users, y_true, y_score, k=5):
    """NDCG@K and Recall@K of every user, before any averaging.

    Within a user, pairs are ranked by ``y_score`` from high to low; tied scores keep
    the order in which the pairs are given (the paper's code ranks ties arbitrarily).

    Parameters
    ----------
    users : array-like of shape (n_pairs,)
        User id of each test pair (any labels).
    y_true : array-like of shape (n_pairs,)
        Relevance: 0/1 labels, or non-negative gains (NDCG uses them as gains; Recall
        counts the pairs with ``y_true > 0`` as positives).
    y_score : array-like of shape (n_pairs,)
        The model's score; higher ranks first.
    k : int, default=5
        Cut-off.

    Returns
    -------
    pandas.DataFrame
        Indexed by user: ``ndcg`` (NaN where the user has no positive), ``recall``
        (NaN likewise), ``n_positive``, ``n_items``.
    """
    users, y_true, y_score = _check_inputs(users, y_true, y_score, k)
    codes, uniques = pd.factorize(users, sort=True)
    # Pairs grouped by user, each user's ranked by score (lexsort is stable).
    order = np.lexsort((-y_score, codes))
    group, gain = codes[order], y_true[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    n_items = np.diff(np.r_[starts, len(group)])
    rank = np.arange(len(group)) - np.repeat(starts, n_items)
    discount = np.where(rank < k, 1.0 / np.log2(rank + 2.0), 0.0)
    dcg = np.add.reduceat(gain * discount, starts)
    # The ideal ranking: the same users, each user's gains sorted from high to low.
    ideal_gain = gain[np.lexsort((-gain, group))]
    idcg = np.add.reduceat(ideal_gain * discount, starts)
    positive = (gain > 0).astype(np.float64)
    hits = np.add.reduceat(positive * (rank < k), starts)
    n_positive = np.add.reduceat(positive, starts).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ndcg = np.where(n_positive > 0, dcg / idcg, np.nan)
        recall = np.where(n_positive > 0, hits / n_positive, np.nan)
    return pd.DataFrame({"ndcg": ndcg, "recall": recall, "n_positive": n_positive,
                         "n_items": n_items}, index=pd.Index(uniques, name="user"))


def _average(values, convention, fill):
    check_convention(convention)
    if convention == "paper":
        return float(np.mean(np.where(np.isnan(values), fill, values)))
    if np.all(np.isnan(values)):
        raise ValueError("no user has a positive test item, so the corrected convention "
                         "has no user to average over")
    return float(np.nanmean(values))


def ndcg_at_k(users, y_true, y_score, k=5, convention="paper"):
    """Mean over users of NDCG@K within each user's test items.

    ``DCG@K = sum over the top K of gain / log2(rank + 1)`` (rank from 1), divided by
    the DCG of the user's ideal ranking.

    Parameters
    ----------
    users, y_true, y_score, k
        As in :func:`per_user_ranking`.
    convention : {"paper", "corrected"}, default="paper"
        ``"paper"``: a user with no positive test item scores 1. ``"corrected"``: such
        users are left out of the mean.

    Returns
    -------
    float
    """
    return _average(per_user_ranking(users, y_true, y_score, k)["ndcg"].to_numpy(),
                    convention, fill=1.0)


def recall_at_k(users, y_true, y_score, k=5, convention="paper"):
    """Mean over users of Recall@K: the share of a user's positives ranked in the top K.

    Parameters
    ----------
    users, y_true, y_score, k
        As in :func:`per_user_ranking`.
    convention : {"paper", "corrected"}, default="paper"
        ``"paper"``: a user with no positive test item scores 0 (the paper's code divides
        by ``max(1, n_positive)``). ``"corrected"``: such users are left out of the mean.

    Returns
    -------
    float
    """
    return _average(per_user_ranking(users, y_true, y_score, k)["recall"].to_numpy(),
                    convention, fill=0.0)


def global_auc(y_true, y_score):
    """AUC over all test pairs at once (not per user), as the paper reports it.

    ``sklearn.metrics.roc_auc_score`` of ``y_true > 0`` against ``y_score``.
    """
    _, y_true, y_score = _check_inputs(np.zeros(len(y_true)), y_true, y_score)
    return float(roc_auc_score(y_true > 0, y_score))


def user_auc(users, y_true, y_score):
    """Mean over users of the AUC within each user's test pairs ("UAUC").

    What the RD / BRD authors' code (Ding et al., KDD 2022; GitHub
    Dingseewhole/Robust_Deconfounder_master, ``utils/metrics.py``, ``uauc``) reports as
    AUC: a user counts only if their test pairs hold both a positive and a negative, and
    every such user weighs the same. :func:`global_auc` pools all pairs instead, so it also
    rewards ranking users against each other; the two are different numbers (on Coat's
    MAR pairs they differ by more than the gaps between methods). The Res-DR paper's
    Coat table matches the pooled one: the authors' backbone, rebuilt, gives IPS a pooled
    AUC of 0.761, the published figure, and a per-user AUC of 0.67
    (``benchmarks/authors_backbone.py``, docs/results.md).

    Within a user, tied scores count one half, as in ``sklearn.metrics.roc_auc_score``
    (the authors' rank-based code breaks ties by sort order).

    Parameters
    ----------
    users, y_true, y_score
        As in :func:`per_user_ranking`; ``y_true > 0`` is a positive.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When no user has both a positive and a negative test pair.
    """
    users, y_true, y_score = _check_inputs(users, y_true, y_score)
    frame = pd.DataFrame({"user": pd.factorize(users)[0], "positive": y_true > 0,
                          "score": y_score})
    # Mann-Whitney within each user: mid-ranks of the scores, summed over the positives.
    frame["rank"] = frame.groupby("user")["score"].rank(method="average")
    by_user = frame.groupby("user").agg(n=("positive", "size"), n_pos=("positive", "sum"))
    by_user["rank_sum"] = frame[frame["positive"]].groupby("user")["rank"].sum()
    both = by_user[(by_user["n_pos"] > 0) & (by_user["n_pos"] < by_user["n"])]
    if both.empty:
        raise ValueError("no user has both a positive and a negative test pair, so no "
                         "per-user AUC can be formed")
    n_pos, n_neg = both["n_pos"], both["n"] - both["n_pos"]
    auc = (both["rank_sum"] - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(auc.mean())
