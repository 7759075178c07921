"""Coat (Schnabel et al., 2016), shipped with the package."""

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

CITATION = ("T. Schnabel, A. Swaminathan, A. Singh, N. Chandak, T. Joachims (2016). "
            "Recommendations as Treatments: Debiasing Learning and Evaluation. ICML, "
            "PMLR 48:1670-1679.")


def _read(name):
    with resources.files(__package__).joinpath(f"data/coat/{name}").open("r") as f:
        return f.read()


def _matrix(name, dtype):
    return np.loadtxt(resources.files(__package__).joinpath(f"data/coat/{name}"), dtype=dtype)


def load_coat(threshold=3):
    """Coat shopping ratings: 290 users x 300 coats, MNAR training and MAR test ratings.

    Each user rated 24 coats they chose (the MNAR training set, 6,960
    ratings) and 16 coats drawn at random (the MAR test set, 4,640 ratings),
    on a 1-5 scale. As in the paper's code, a rating >= ``threshold`` is a
    positive outcome. Cite: {citation}

    Parameters
    ----------
    threshold : int, default=3
        Ratings at or above it are positive (r = 1).

    Returns
    -------
    Bunch with
        X_train : DataFrame (87,000 x 2), every (user, item) cell of the grid;
        r_train : float array, 1.0 / 0.0 where rated, NaN elsewhere;
        o_train : int array, 1 where the user rated the coat (self-selected);
        X_test, r_test : the 4,640 randomly assigned (user, item) pairs and
        their binarised ratings; ratings_train, ratings_test : the raw 290 x 300
        matrices (0 = not rated); user_features (290 x 14), item_features
        (300 x 33) one-hot DataFrames; DESCR.
    """
    train = _matrix("train.ascii", np.int64)
    test = _matrix("test.ascii", np.int64)
    users, items = np.meshgrid(np.arange(train.shape[0]), np.arange(train.shape[1]),
                               indexing="ij")
    X_train = pd.DataFrame({"user": users.ravel(), "item": items.ravel()})
    rated = train.ravel() > 0
    r_train = np.where(rated, (train.ravel() >= threshold).astype(float), np.nan)
    tu, ti = np.nonzero(test)
    X_test = pd.DataFrame({"user": tu, "item": ti})
    r_test = (test[tu, ti] >= threshold).astype(float)
    features = {}
    for who in ("user", "item"):
        names = _read(f"{who}_features_map.txt").strip().splitlines()
        features[who] = pd.DataFrame(_matrix(f"{who}_features.ascii", np.int64), columns=names)
    return Bunch(X_train=X_train, r_train=r_train, o_train=rated.astype(int), X_test=X_test,
                 r_test=r_test, ratings_train=train, ratings_test=test,
                 user_features=features["user"], item_features=features["item"],
                 DESCR=_read("README.txt") + "\nCitation: " + CITATION)


load_coat.__doc__ = load_coat.__doc__.format(citation=CITATION)
