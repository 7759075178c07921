"""Ranking metrics against hand computation, scikit-learn, and the paper's per-user loop."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score, roc_auc_score

from heckrec.metrics import (
    global_auc,
    make_ranking_scorer,
    ndcg_at_k,
    per_user_ranking,
    recall_at_k,
    user_auc,
)


def _random_test_set(seed, n_users=40, max_items=12):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_items + 1, n_users)
    users = np.repeat(np.arange(n_users), sizes)
    y = (rng.random(len(users)) < 0.3).astype(float)
    scores = rng.standard_normal(len(users))  # continuous: no ties
    order = rng.permutation(len(users))       # users' pairs interleaved
    return users[order], y[order], scores[order]


def _paper_loop(users, y, scores, k):
    """The paper code's per-user loop, written out: NDCG 1 and recall hits / max(1, n_pos)."""
    ndcgs, recalls = [], []
    for u in np.unique(users):
        y_u, s_u = y[users == u], scores[users == u]
        top = np.argsort(-s_u)[:k]
        discount = 1.0 / np.log2(np.arange(2, len(top) + 2))
        best = np.sort(y_u)[::-1][:k]
        ndcgs.append(1.0 if best.sum() == 0 else (y_u[top] * discount).sum()
                     / (best * discount[:len(best)]).sum())
        recalls.append(y_u[top].sum() / max(1, y_u.sum()))
    return np.mean(ndcgs), np.mean(recalls)


def test_hand_computed_example():
    # User a: scores rank items (x, y, z) with relevances (0, 1, 1); user b has no positive.
    users = ["a", "a", "a", "b", "b"]
    y = [0, 1, 1, 0, 0]
    scores = [0.9, 0.8, 0.1, 0.5, 0.4]
    ndcg_a = (1 / np.log2(3)) / (1 + 1 / np.log2(3))   # 0.3869
    table = per_user_ranking(users, y, scores, k=2)
    assert table.loc["a", "ndcg"] == pytest.approx(ndcg_a, abs=1e-12)
    assert table.loc["a", "recall"] == pytest.approx(0.5, abs=1e-12)
    assert np.isnan(table.loc["b", "ndcg"]) and table.loc["b", "n_positive"] == 0
    assert ndcg_at_k(users, y, scores, k=2) == pytest.approx((ndcg_a + 1) / 2, abs=1e-12)
    assert ndcg_at_k(users, y, scores, k=2, convention="corrected") == pytest.approx(ndcg_a)
    assert recall_at_k(users, y, scores, k=2) == pytest.approx(0.25, abs=1e-12)
    assert recall_at_k(users, y, scores, k=2, convention="corrected") == pytest.approx(0.5)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_matches_the_paper_loop(k):
    users, y, scores = _random_test_set(seed=k)
    ndcg, recall = _paper_loop(users, y, scores, k)
    assert ndcg_at_k(users, y, scores, k) == pytest.approx(ndcg, abs=1e-12)
    assert recall_at_k(users, y, scores, k) == pytest.approx(recall, abs=1e-12)


def test_ndcg_per_user_matches_sklearn_with_gains():
    users, _, scores = _random_test_set(seed=3)
    gains = np.random.default_rng(4).integers(0, 4, len(users)).astype(float)
    table = per_user_ranking(users, gains, scores, k=5)
    for u, row in table.iterrows():
        mask = users == u
        if row["n_positive"] == 0 or mask.sum() == 1:
            continue  # sklearn needs 2+ items per query and defines no-positive NDCG as 0
        expected = ndcg_score(gains[mask][None], scores[mask][None], k=5)
        assert row["ndcg"] == pytest.approx(expected, abs=1e-12)


def test_global_auc_is_sklearns():
    users, y, scores = _random_test_set(seed=5)
    assert global_auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-15)


def test_user_auc_is_the_mean_of_sklearns_per_user_auc():
    users, y, scores = _random_test_set(seed=6)
    scores = np.round(scores, 1)  # ties within users: sklearn counts them one half
    expected = [roc_auc_score(y[users == u], scores[users == u]) for u in np.unique(users)
                if 0 < y[users == u].sum() < (users == u).sum()]
    assert len(expected) > 10
    assert user_auc(users, y, scores) == pytest.approx(np.mean(expected), abs=1e-12)


def test_user_auc_by_hand():
    # user 0: positive above both negatives (1); user 1: the positive between its two
    # negatives (1/2); user 2 has no negative and is left out; mean 3/4.
    users = [0, 0, 0, 1, 1, 1, 2]
    y = [1, 0, 0, 0, 1, 0, 1]
    scores = [0.9, 0.1, 0.2, 0.3, 0.5, 0.7, 0.0]
    assert user_auc(users, y, scores) == pytest.approx(0.75, abs=1e-15)
    # a user ranked perfectly weighs as much as one with many pairs: not the global AUC
    assert global_auc(y, scores) != pytest.approx(0.75)


def test_user_auc_needs_a_user_with_both_classes():
    with pytest.raises(ValueError, match="no user has both a positive and a negative"):
        user_auc([0, 0, 1], [1, 1, 0], [0.1, 0.2, 0.3])


def test_ties_keep_the_given_order():
    # All scores equal: the first pair given ranks first.
    assert ndcg_at_k([0, 0, 0], [1, 0, 0], [0.0, 0.0, 0.0], k=1) == 1.0
    assert ndcg_at_k([0, 0, 0], [0, 0, 1], [0.0, 0.0, 0.0], k=1) == 0.0


@pytest.mark.parametrize("args, kwargs, match", [
    (([0, 1], [1, 0], [0.1]), {}, "one entry per test pair"),
    (([0, 1], [1, 0], [0.1, np.nan]), {}, "y_score contains NaN"),
    (([0, 1], [1, -1], [0.1, 0.2]), {}, "non-negative"),
    (([0, 1], [1, 0], [0.1, 0.2]), {"k": 0}, "k must be a positive integer"),
    (([0, 1], [1, 0], [0.1, 0.2]), {"convention": "stata"}, "convention must be one of"),
    (([0, 1], [0, 0], [0.1, 0.2]), {"convention": "corrected"}, "no user has a positive"),
    (([], [], []), {}, "no test pairs"),
])
def test_bad_input_raises(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ndcg_at_k(*args, **kwargs)


class _FeatureRanker:
    """Ranks by X's third column: enough to test the scorer's plumbing."""

    def predict(self, X):
        return np.asarray(X, dtype=float)[:, 2]


def test_ranking_scorer_uses_observed_pairs_and_threshold():
    users, rating, scores = _random_test_set(seed=6)
    rating = np.random.default_rng(7).integers(1, 6, len(users)).astype(float)
    X = np.column_stack([users, np.arange(len(users)), scores])
    o = np.random.default_rng(8).random(len(users)) < 0.7
    y = np.where(o, rating, np.nan)
    relevant = (rating[o] >= 4).astype(float)
    for metric, expected in [
        ("ndcg", ndcg_at_k(users[o], relevant, scores[o], 5, "corrected")),
        ("recall", recall_at_k(users[o], relevant, scores[o], 5, "corrected")),
        ("auc", roc_auc_score(relevant, scores[o])),
    ]:
        scorer = make_ranking_scorer(metric, k=5, convention="corrected", threshold=4)
        assert scorer(_FeatureRanker(), X, y, o) == pytest.approx(expected, abs=1e-12)
        # A DataFrame's first column holds the user ids just the same.
        frame = pd.DataFrame(X, columns=["user", "item", "x"])
        assert scorer(_FeatureRanker(), frame, y, o) == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="metric must be one of"):
        make_ranking_scorer("map")
