"""Yahoo! R3 and KuaiRec loaders on small files of the original formats, written here."""

from pathlib import Path

import numpy as np
import pytest

from heckrec.datasets import load_coat, load_kuairec, load_yahoo_r3
from heckrec.datasets._logs import KUAIREC_FILES, YAHOO_FILES

SHARED_KUAIREC = Path(__file__).resolve().parents[2] / "shared" / "data" / "kuairec"


def _write(folder, names, train, test, sep):
    folder.mkdir(exist_ok=True)
    for name, rows in zip(names, (train, test)):
        (folder / name).write_text("".join(sep.join(map(str, row)) + "\n" for row in rows))
    return folder


YAHOO_TRAIN = [(1, 1, 5), (1, 3, 2), (2, 2, 3), (3, 1, 1)]
YAHOO_TEST = [(1, 2, 4), (2, 1, 1), (2, 4, 3)]


def test_yahoo_grid_outcome_and_test_pairs(tmp_path):
    data = load_yahoo_r3(_write(tmp_path / "yahoo", YAHOO_FILES, YAHOO_TRAIN, YAHOO_TEST, "\t"))
    # Grid over users {1, 2, 3} x items {1, 2, 3, 4} (item 4 only in the test file).
    assert data.X_train.shape == (12, 2)
    assert list(data.X_train.iloc[1]) == [1, 2]
    cell = {(u, i): k for k, (u, i) in enumerate(data.X_train.itertuples(index=False))}
    assert data.o_train.sum() == 4
    for u, i, rating in YAHOO_TRAIN:
        k = cell[(u, i)]
        assert data.o_train[k] == 1 and data.rating_train[k] == rating
        assert data.r_train[k] == float(rating >= 3)
    assert np.isnan(data.r_train[data.o_train == 0]).all()
    assert [tuple(row) for row in data.X_test.itertuples(index=False)] == [(1, 2), (2, 1), (2, 4)]
    np.testing.assert_array_equal(data.r_test, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(data.rating_test, [4, 1, 3])


def test_yahoo_as_log_keeps_the_rows_of_the_file(tmp_path):
    """as_log: the training log as it is (issue 15), the test pairs unchanged."""
    folder = _write(tmp_path / "yahoo", YAHOO_FILES, YAHOO_TRAIN, YAHOO_TEST, "\t")
    log, grid = load_yahoo_r3(folder, as_log=True), load_yahoo_r3(folder)
    assert [tuple(row) for row in log.X_train.itertuples(index=False)] == \
        [(u, i) for u, i, _ in YAHOO_TRAIN]
    np.testing.assert_array_equal(log.rating_train, [r for _, _, r in YAHOO_TRAIN])
    np.testing.assert_array_equal(log.r_train, [1.0, 0.0, 1.0, 0.0])
    assert log.o_train.tolist() == [1, 1, 1, 1]
    assert "unobserved='complement'" in log.DESCR
    for key in ("X_test", "r_test", "rating_test"):
        np.testing.assert_array_equal(np.asarray(log[key]), np.asarray(grid[key]))


def test_kuairec_threshold_is_a_parameter(tmp_path):
    train = [(14, 133, 0.5), (14, 140, 2.0), (20, 133, 3.1)]
    test = [(14, 150, 2.5), (20, 140, 0.0)]
    folder = _write(tmp_path / "kuai", KUAIREC_FILES, train, test, ",")
    data = load_kuairec(folder)
    assert data.X_train.shape == (2 * 3, 2)
    np.testing.assert_array_equal(data.r_test, [1.0, 0.0])
    observed = data.o_train == 1
    np.testing.assert_array_equal(data.r_train[observed], [0.0, 1.0, 1.0])
    strict = load_kuairec(folder, threshold=3.0)
    np.testing.assert_array_equal(strict.r_train[observed], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(data.watch_ratio_test, [2.5, 0.0])


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_yahoo_r3(tmp_path / "nowhere")
    (tmp_path / "kuai").mkdir()
    (tmp_path / "kuai" / "random.txt").write_text("1,2,0.5\n")
    with pytest.raises(FileNotFoundError, match=r"user\.txt not found in .*KuaiRec"):
        load_kuairec(tmp_path / "kuai")


@pytest.mark.parametrize("bad_train, match", [
    ([(1, 1, 5, 0)], "expected 3 columns"),
    ([(1, 1, 5), (1, "x", 3)], r"line 2: item 'x' is not a number"),
    ([(1, 1.5, 5)], "ids must be integers"),
    ([(1, 1, 5), (1, 1, 3)], r"pair \(user 1, item 1\) appears more than once"),
])
def test_malformed_files_raise_clear_errors(tmp_path, bad_train, match):
    folder = _write(tmp_path / "yahoo", YAHOO_FILES, bad_train, YAHOO_TEST, "\t")
    with pytest.raises(ValueError, match=match):
        load_yahoo_r3(folder)


def test_empty_file_is_named(tmp_path):
    folder = _write(tmp_path / "yahoo", YAHOO_FILES, [], YAHOO_TEST, "\t")
    with pytest.raises(ValueError, match="train.txt is empty"):
        load_yahoo_r3(folder)


def test_same_structure_as_coat(tmp_path):
    coat = load_coat()
    yahoo = load_yahoo_r3(_write(tmp_path / "y", YAHOO_FILES, YAHOO_TRAIN, YAHOO_TEST, "\t"))
    for key in ("X_train", "r_train", "o_train", "X_test", "r_test"):
        assert type(coat[key]) is type(yahoo[key])
    assert list(coat.X_train.columns) == list(yahoo.X_train.columns) == ["user", "item"]


@pytest.mark.skipif(not (SHARED_KUAIREC / "random.txt").is_file(),
                    reason="../shared/data/kuairec/random.txt is not beside the checkout")
def test_kuairec_test_file_as_shipped_by_the_paper(tmp_path):
    # Only the MAR test file is at hand; pair it with a one-row training file.
    folder = tmp_path / "kuai"
    folder.mkdir()
    (folder / "random.txt").write_bytes((SHARED_KUAIREC / "random.txt").read_bytes())
    (folder / "user.txt").write_text("14,133,1.0\n")
    data = load_kuairec(folder)
    # SOURCE.md: 117,113 rows, 1,411 users with 83 each, 4.95% with watch_ratio >= 2.
    assert len(data.X_test) == 117_113
    assert data.X_test["user"].nunique() == 1_411
    assert data.r_test.mean() == pytest.approx(0.0495, abs=5e-5)
