"""Warnings raised by heckrec estimators."""


class DegenerateEstimateWarning(UserWarning):
    """A fit ended at a boundary (|rho| -> 1, sigma -> 0 or infinity) or rho is not identified.

    The reported values are then not estimates and their standard errors are NaN.
    """
