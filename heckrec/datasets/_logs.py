"""Interaction logs read from a user's files: Yahoo! R3 and KuaiRec.

Their licences forbid shipping them, so the loaders read the original files from a
path and return the structure ``load_coat`` returns: every (user, item) pair of the
training grid with the observed outcome and the observation indicator, and the MAR
test pairs with their outcomes. ``as_log=True`` keeps the training log as it is, for
``unobserved="complement"`` (issue 15).
"""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

YAHOO_FILES = ("ydata-ymusic-rating-study-v1_0-train.txt",
               "ydata-ymusic-rating-study-v1_0-test.txt")
KUAIREC_FILES = ("user.txt", "random.txt")


def _read_triples(path, sep, value_name):
    """(user, item, value) rows of a header-less text file, checked."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    try:
        frame = pd.read_csv(path, sep=sep, header=None, dtype=str, skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty") from None
    except pd.errors.ParserError as error:
        # pandas names the line but not the file (../shared/reliability F24)
        raise ValueError(f"{path}: expected 3 columns (user, item, {value_name}) separated "
                         f"by {sep!r} on every line: {error}".rstrip()) from None
    if frame.shape[1] != 3:
        raise ValueError(f"{path}: expected 3 columns (user, item, {value_name}) separated by "
                         f"{sep!r}, found {frame.shape[1]}")
    frame.columns = ["user", "item", value_name]
    out = {}
    for column, kind in (("user", "integer"), ("item", "integer"), (value_name, "float")):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy())
        if bad.size:
            raise ValueError(f"{path}, line {bad[0] + 1}: {column} {frame[column].iloc[bad[0]]!r} "
                             f"is not a number")
        if kind == "integer":
            out[column] = _integer_ids(path, column, frame[column])
            continue
        infinite = np.flatnonzero(~np.isfinite(values.to_numpy(np.float64)))
        if infinite.size:
            raise ValueError(f"{path}, line {infinite[0] + 1}: {column} "
                             f"{frame[column].iloc[infinite[0]]!r} is not finite")
        out[column] = values.to_numpy(np.float64)
    triples = pd.DataFrame(out)
    duplicated = triples.duplicated(["user", "item"]).to_numpy()
    if duplicated.any():
        k = np.flatnonzero(duplicated)[0]
        raise ValueError(f"{path}: the pair (user {out['user'][k]}, item {out['item'][k]}) "
                         "appears more than once")
    return triples


def _integer_ids(path, column, text):
    """Id column as int64, parsed from the text itself: a float would lose ids past
    2**53, and 2**70 became -2**63 (../shared/reliability F26)."""
    limit = np.iinfo(np.int64)
    values = np.empty(len(text), dtype=np.int64)
    for line, token in enumerate(text.str.strip(), start=1):
        try:
            value = int(token)
        except ValueError:
            number = float(token)  # "12.0" is an integer id too; "1.5" or "nan" is not
            if not (np.isfinite(number) and number.is_integer()):
                raise ValueError(f"{path}, line {line}: {column} ids must be integers, "
                                 f"got {token!r}") from None
            value = int(number)
        if not limit.min <= value <= limit.max:
            raise ValueError(f"{path}, line {line}: {column} id {value} does not fit a 64-bit "
                             "integer")
        values[line - 1] = value
    return values


def _check_threshold(threshold):
    """threshold a finite real number (F27: NaN made every label 0, "3" a numpy error)."""
    if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, (int, float, np.number)):
        raise TypeError(f"threshold must be a number, got {threshold!r}")
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold!r}")


def _grid_bunch(train, test, value_name, threshold, descr):
    """The selection-data structure: the training grid over every user and item seen."""
    users = np.union1d(train["user"], test["user"])
    items = np.union1d(train["item"], test["item"])
    cell = (np.searchsorted(users, train["user"].to_numpy()) * len(items)
            + np.searchsorted(items, train["item"].to_numpy()))
    value = np.full(len(users) * len(items), np.nan)
    value[cell] = train[value_name].to_numpy()
    observed = ~np.isnan(value)
    grid_users, grid_items = np.meshgrid(users, items, indexing="ij")
    test_value = test[value_name].to_numpy()
    return Bunch(
        X_train=pd.DataFrame({"user": grid_users.ravel(), "item": grid_items.ravel()}),
        r_train=np.where(observed, (value >= threshold).astype(float), np.nan),
        o_train=observed.astype(int),
        X_test=test[["user", "item"]].reset_index(drop=True),
        r_test=(test_value >= threshold).astype(float),
        **{f"{value_name}_train": value, f"{value_name}_test": test_value},
        DESCR=descr)


def _log_bunch(train, test, value_name, threshold, descr):
    """The structure of :func:`_grid_bunch` with only the logged training pairs (``as_log``)."""
    value = train[value_name].to_numpy()
    test_value = test[value_name].to_numpy()
    return Bunch(
        X_train=train[["user", "item"]].reset_index(drop=True),
        r_train=(value >= threshold).astype(float),
        o_train=np.ones(len(train), dtype=int),
        X_test=test[["user", "item"]].reset_index(drop=True),
        r_test=(test_value >= threshold).astype(float),
        **{f"{value_name}_train": value, f"{value_name}_test": test_value},
        DESCR=descr + " The training part is the log alone: fit it with "
                      "unobserved='complement'.")


def _load_log(path, names, sep, value_name, threshold, dataset, where, as_log=False):
    """Check the folder, read its (train, test) files and build the grid structure
    (or, with ``as_log``, keep the training log as it is)."""
    _check_threshold(threshold)
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder; pass the folder that holds the "
                                f"{dataset} files {', '.join(names)}")
    missing = [name for name in names if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{dataset}: {', '.join(missing)} not found in {path}. {where}")
    train, test = (_read_triples(path / name, sep, value_name) for name in names)
    build = _log_bunch if as_log else _grid_bunch
    return build(train, test, value_name, threshold, f"{dataset} read from {path}.")


def load_yahoo_r3(path, threshold=3, as_log=False):
    """Yahoo! R3 music ratings read from the original Webscope files.

    Training: 311,704 ratings that 15,400 users chose to give to 1,000 songs (MNAR).
    Test: 54,000 ratings of 10 songs drawn at random for each of 5,400 of those users
    (MAR). Yahoo's terms forbid redistribution: obtain the files through Yahoo!
    Webscope (dataset R3) under its data sharing agreement.

    Parameters
    ----------
    path : str or Path
        Folder holding ``ydata-ymusic-rating-study-v1_0-train.txt`` and
        ``ydata-ymusic-rating-study-v1_0-test.txt`` (``user<TAB>song<TAB>rating``,
        1-based ids, no header).
    threshold : float, default=3
        Ratings at or above it are positive (r = 1), as in the paper's code.
    as_log : bool, default=False
        Return the training log as it is (311,704 rows, every one observed) instead of
        the grid, for a fit with ``unobserved="complement"``: the grid's 1.54e7 pairs
        are then never built. That fit's grid is the users x songs of the log.

    Returns
    -------
    Bunch with
        X_train : DataFrame, every (user, item) pair of the grid over the users and
        songs in either file (15,400 x 1,000 = 1.54e7 rows for the full data; about
        250 MB), ids as in the files; r_train : 1.0 / 0.0 where rated, NaN elsewhere;
        o_train : 1 where rated; X_test, r_test : the MAR pairs and their binarised
        ratings; rating_train (NaN where unrated), rating_test : the raw ratings; DESCR.
        With ``as_log``, X_train, r_train, o_train and rating_train hold the log's rows.
    """
    return _load_log(path, YAHOO_FILES, "\t", "rating", threshold, "Yahoo! R3",
                     "Obtain them from Yahoo! Webscope (dataset R3).", as_log)


def load_kuairec(path, threshold=2.0, as_log=False):
    """KuaiRec short-video watch ratios, in the split the paper's code uses.

    Training: ``user.txt``, the users' own viewing log (MNAR). Test: ``random.txt``,
    83 videos per user from KuaiRec's fully observed small matrix (MAR). Both are
    CSV without a header, ``user_id,video_id,watch_ratio``, as the paper's code
    reads them. KuaiRec is CC BY-SA 4.0 (Gao et al., CIKM 2022); get it from the
    KuaiRec project (github.com/chongminggao/KuaiRec).

    Parameters
    ----------
    path : str or Path
        Folder holding ``user.txt`` and ``random.txt``.
    threshold : float, default=2.0
        A watch ratio at or above it is positive (r = 1), as in the paper's code.
    as_log : bool, default=False
        As in :func:`load_yahoo_r3`: the viewing log alone, for
        ``unobserved="complement"``.

    Returns
    -------
    Bunch
        As :func:`load_yahoo_r3`, with ``watch_ratio_train`` and ``watch_ratio_test``
        for the raw values.
    """
    return _load_log(path, KUAIREC_FILES, ",", "watch_ratio", threshold, "KuaiRec",
                     "Get KuaiRec from github.com/chongminggao/KuaiRec.", as_log)
