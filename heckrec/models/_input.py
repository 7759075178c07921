"""Validation of (X, y, o) and encoding of user / item ids."""

import numpy as np
import pandas as pd
from sklearn.utils import column_or_1d
from sklearn.utils.validation import (
    _check_feature_names,
    _check_sample_weight,
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
    raw = X
    X = validate_data(estimator, X, reset=reset, dtype=np.float64, ensure_min_features=1)
    if X.shape[1] < 2:
        raise ValueError(_one_column_message(estimator, X.shape[1]))
    users, items = X[:, 0], X[:, 1]
    if isinstance(raw, np.ndarray) and raw.ndim == 2 and raw.dtype.kind in "iuO":
        # Integer ids past 2**53 do not survive float64 (../shared/reliability F5:
        # 2**62 + u merged 60 users into 1), so ids come from the array as given.
        users, items = _exact_ids(raw[:, 0]), _exact_ids(raw[:, 1])
    return users, items, np.ascontiguousarray(X[:, 2:])


def _exact_ids(column):
    """An id column as int64 where its values are integers that fit, else as given."""
    if column.dtype.kind in "iu":
        return column
    try:
        as_int = column.astype(np.int64)
    except (TypeError, ValueError, OverflowError):
        return column
    same = np.array([a == b for a, b in zip(as_int.tolist(), column.tolist())])
    return as_int if same.all() else column


def _one_column_message(estimator, n):
    return (f"X has {n} feature(s) but {type(estimator).__name__} needs at least 2 columns: "
            "the user id and the item id (then optional side features).")


def validate_y_o(y, o, n_samples):
    """Outcome as float (NaN where unobserved) and o as bool.

    With ``o=None`` the observed pairs are those where ``y`` is not NaN. With
    ``o`` given, ``y`` is read only where ``o == 1``: anything (NaN, None, a
    string) may stand elsewhere, as the estimators' docstrings say.
    """
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    y = column_or_1d(y, warn=True)
    if y.shape[0] != n_samples:
        raise ValueError(f"y has {y.shape[0]} rows but X has {n_samples}")
    if o is None:
        y = _as_float(y, "y")
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
        observed = _as_float(y[o], "y at the observed pairs (o == 1)")
        y = np.full(n_samples, np.nan)
        y[o] = observed
    if not o.any():
        raise ValueError("no observed pairs: o is 0 everywhere (or y is NaN everywhere), "
                         "so there is no outcome to model")
    if not np.all(np.isfinite(y[o])):
        bad = "NaN" if np.isnan(y[o]).any() else "infinity"
        raise ValueError(f"Input y contains {bad} at observed pairs (o == 1); y may hold "
                         "anything only where o == 0")
    return y, o


def _as_float(values, what):
    try:
        return values.astype(np.float64)  # numbers held as objects are fine
    except (TypeError, ValueError):
        raise ValueError(f"Unknown label type: {what} must hold numbers, "
                         f"got dtype {values.dtype}") from None


def reject_constant_outcome(values, where):
    """ValueError when the outcome is the same at every ``where`` (sigma would be 0;
    ../shared/reliability F5, F18: an ArpackError, or sigma 3e-15 returned)."""
    if np.all(values == values[0]):
        raise ValueError(f"y is constant ({float(values[0]):g}) at every {where}: its spread "
                         "sigma is 0, so there is no outcome equation to estimate")


def checked_weights(sample_weight, values):
    """sample_weight as floats, non-negative and not all zero (F12: a negative weight was
    accepted, weights summing to 0 a numpy ZeroDivisionError)."""
    return _check_sample_weight(sample_weight, values, ensure_non_negative=True)


def encode_unbiased_slice(estimator, X_unbiased, y_unbiased, outcome):
    """The MAR slice's (user codes, item codes, raw side features, outcome), or None.

    Ids are encoded with the fitted ``user_encoder_`` / ``item_encoder_``; an id the
    training X lacks is a ValueError (a randomly exposed pair informs only fitted ids).
    ``outcome`` maps ``y_unbiased`` to finite floats (or raises).
    """
    if X_unbiased is None and y_unbiased is None:
        return None
    if X_unbiased is None or y_unbiased is None:
        raise ValueError("pass both X_unbiased and y_unbiased (the randomly exposed pairs "
                         "and their outcomes), or neither")
    users_raw, items_raw, F = validate_X(estimator, X_unbiased, reset=False)
    y = outcome(y_unbiased)
    if y.shape[0] != F.shape[0]:
        raise ValueError(f"y_unbiased has {y.shape[0]} rows but X_unbiased has {F.shape[0]}")
    codes = []
    for who, raw, encoder in (("user", users_raw, estimator.user_encoder_),
                              ("item", items_raw, estimator.item_encoder_)):
        code = encoder.transform(raw, who)
        if (code < 0).any():
            unseen = pd.unique(np.asarray(raw)[code < 0])
            raise ValueError(f"X_unbiased holds {unseen.size} {who} id(s) that X does not, "
                             f"e.g. {unseen[:3].tolist()}: a randomly exposed pair only "
                             f"informs the {who}s and items fitted from X")
        codes.append(code)
    return codes[0], codes[1], F, y


def finite_unbiased_outcome(y_unbiased):
    """y_unbiased as finite floats, or a ValueError naming the problem."""
    y = column_or_1d(y_unbiased, warn=True)
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"y_unbiased must hold numbers, got dtype {y.dtype}") from None
    if not np.all(np.isfinite(y)):
        raise ValueError("y_unbiased contains NaN or infinity: every randomly exposed pair "
                         "needs its outcome")
    return y


class FeatureStandardiser:
    """Centre and scale each side-feature column; the fit runs on the result.

    The feature weights and the means are unpenalised, so this is a
    reparametrisation that leaves the optimum unchanged: it only conditions the
    fit (../shared/reliability F1-F3: one entry of 1e20 or 1e300 broke the start
    values, the Cholesky of the scaling or the probit kernels). The spread is
    taken of the column divided by its largest magnitude, so squaring 1e300
    cannot overflow. A constant column keeps scale 1 (it is only centred).
    """

    def fit(self, F):
        peak = np.max(np.abs(F), axis=0) if F.shape[0] else np.ones(F.shape[1])
        peak = np.where(peak > 0, peak, 1.0)
        unit = F / peak
        spread = unit.std(axis=0) if F.shape[0] else np.ones(F.shape[1])
        self.loc_ = unit.mean(axis=0) * peak if F.shape[0] else np.zeros(F.shape[1])
        self.scale_ = np.where(spread > 0, spread, 1.0) * peak
        return self

    def transform(self, F):
        return np.ascontiguousarray((F - self.loc_) / self.scale_)

    def weights_in_user_units(self, mu, w):
        """(mu, w) of a score on the raw features, from those on the standardised ones."""
        w_user = w / self.scale_
        return mu - float(w_user @ self.loc_), w_user


def _id_kind(values):
    """'number' or 'string' for ids of one kind, None for anything else (mixed, empty)."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "number"
    if kind == "string":
        return "string"
    return None


class IdEncoder:
    """Map arbitrary id labels to 0..n-1; ids unseen in fit map to -1."""

    def fit(self, values):
        codes, uniques = pd.factorize(values, sort=True)
        self.index_ = pd.Index(uniques)
        self.codes_ = codes.astype(np.int64)
        return self

    def transform(self, values, what="user or item"):
        """Codes of ``values``; -1 for ids not seen in fit.

        Ids of another kind than fit's (the strings '3' where fit saw the number 3)
        would all be "unseen" and silently predicted as new ids
        (../shared/reliability F11), so a kind mismatch is an error.
        """
        seen, given = _id_kind(self.index_), _id_kind(values)
        if seen and given and seen != given:
            raise ValueError(f"the {what} ids given are {given}s, but fit saw {seen}s: pass "
                             "each id with the type it had in fit (e.g. 3, not '3')")
        return self.index_.get_indexer(values).astype(np.int64)

    @property
    def n(self):
        return len(self.index_)
