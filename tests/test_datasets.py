"""Shipped data: Coat's counts as its SOURCE.md documents them."""

import numpy as np

from heckrec.datasets import load_coat


def test_coat_matches_its_documented_counts():
    coat = load_coat()
    # SOURCE.md: 6,960 training ratings (24 per user), 4,640 test ratings (16 per
    # user); share of ratings >= 3: 0.5204 (train), 0.4013 (test).
    assert coat.X_train.shape == (290 * 300, 2) and coat.o_train.sum() == 6960
    assert np.all(np.count_nonzero(coat.ratings_train, axis=1) == 24)
    assert len(coat.r_test) == 4640
    assert np.nanmean(coat.r_train) == np.float64(3622 / 6960)  # 1717 + 1275 + 630
    assert coat.r_test.mean() == np.float64(1862 / 4640)        # 1002 + 641 + 219
    assert np.all(np.isnan(coat.r_train[coat.o_train == 0]))
    assert coat.user_features.shape == (290, 14) and coat.item_features.shape == (300, 33)
    assert np.all(coat.user_features.sum(axis=1) == 4)
    assert "Schnabel" in coat.DESCR
    # A stricter threshold only removes positives.
    assert np.nansum(load_coat(threshold=4).r_train) == 1275 + 630
