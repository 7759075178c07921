"""Validation of (X, y, o) and encoding of user / item ids."""

import numpy as np
import pandas as pd
from sklearn.utils import column_or_1d
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_array,
    validate_data,
)


def validate_X(estimator, X, reset):
    """Split X into (user ids, item ids, side features).

    Arrays must be numeric (ids may be any numbers); a DataFrame's first two
    columns may hold any labels (strings, categories). Columns 2: are float
    side features and must be finite.
    """
    if isinstance(X, pd.DataFrame):
        _check_feature_names(estimator, X, reset=reset)
        _check_n_features(estimator, X, reset=reset)
        if X.shape[1] < 2:
            raise ValueError(_one_column_message(estimator, X.shape[1]))
        ids = [X.iloc[:, c].to_numpy() for c in (0, 1)]
        for c, col in enumerate(ids):
            if pd.isna(col).any():
                raise ValueError(f"X column {c} (the {('user', 'item')[c]} id) contains missing values")
        features = check_array(X.iloc[:, 2:].to_numpy(), dtype=np.float64, ensure_min_features=0,
                               input_name="X")
        if len(X) == 0:
            raise ValueError("Found array with 0 sample(s) (shape=(0, ...)) while a minimum of 1 is required.")
        return ids[0], ids[1], features
    X = validate_data(estimator, X, reset=reset, dtype=np.float64, ensure_min_features=1)
    if X.shape[1] < 2:
        raise ValueError(_one_column_message(estimator, X.shape[1]))
    return X[:, 0], X[:, 1], np.ascontiguousarray(X[:, 2:])


def _one_column_message(estimator, n):
    return (f"X has {n} feature(s) but {type(estimator).__name__} needs at least 2 columns: "
            "the user id and the item id (then optional side features).")


def validate_y_o(y, o, n_samples):
    """Outcome as float (NaN allowed where unobserved) and o as bool.

    With ``o=None`` the observed pairs are those where ``y`` is not NaN.
    """
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    y = column_or_1d(y, warn=True)
    try:
        y = y.astype(np.float64)  # numbers held as objects are fine
    except (TypeError, ValueError):
        raise ValueError(f"Unknown label type: y must hold numbers, got dtype {y.dtype}") from None
    if y.shape[0] != n_samples:
        raise ValueError(f"y has {y.shape[0]} rows but X has {n_samples}")
    if o is None:
        o = ~np.isnan(y)
    else:
        o = column_or_1d(o)
        if o.shape[0] != n_samples:
            raise ValueError(f"o has {o.shape[0]} rows but X has {n_samples}")
        if o.dtype.kind == "b":
            o = o.astype(bool)
        elif o.dtype.kind in "iuf" and np.all((o == 0) | (o == 1)):
            o = o.astype(bool)
        else:
            raise ValueError("o must be an observation indicator holding only 0/1 or False/True")
    if not o.any():
        raise ValueError("no observed pairs: o is 0 everywhere (or y is NaN everywhere), "
                         "so there is no outcome to model")
    if not np.all(np.isfinite(y[o])):
        bad = "NaN" if np.isnan(y[o]).any() else "infinity"
        raise ValueError(f"Input y contains {bad} at observed pairs (o == 1); y may hold "
                         "anything only where o == 0")
    return y, o


class IdEncoder:
    """Map arbitrary id labels to 0..n-1; ids unseen in fit map to -1."""

    def fit(self, values):
        codes, uniques = pd.factorize(values, sort=True)
        self.index_ = pd.Index(uniques)
        self.codes_ = codes.astype(np.int64)
        return self

    def transform(self, values):
        return self.index_.get_indexer(values).astype(np.int64)

    @property
    def n(self):
        return len(self.index_)
