"""Mroz (1987) labour-supply data, shipped with the package."""

from importlib import resources

import pandas as pd


def load_mroz87():
    """Mroz's 753 married women (PSID 1975), as in R sampleSelection's ``Mroz87``.

    ``wage`` is 0, not missing, where ``lfp == 0``. Source: T. A. Mroz (1987),
    "The sensitivity of an empirical model of married women's hours of work
    to economic and statistical assumptions", Econometrica 55(4), 765-799;
    file from R sampleSelection (Toomet and Henningsen, GPL).

    Returns
    -------
    pandas.DataFrame of shape (753, 22)
    """
    with resources.files(__package__).joinpath("data/Mroz87.csv").open("r") as f:
        return pd.read_csv(f)
