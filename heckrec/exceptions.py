"""Warnings raised by heckrec estimators."""


class DegenerateEstimateWarning(UserWarning):
    """A fit ended at a boundary (|rho| -> 1, sigma -> 0 or infinity) or rho is not identified.

    The reported values are then not estimates and their standard errors are NaN.
    """


class NotIdentifiedWarning(DegenerateEstimateWarning):
    """rho moves with the penalties by more than its standard error: the data do not pin it.

    The fit converged and rho_ is finite, but it reflects the prior (the L2 penalties)
    more than the data, so rho_se_ understates its uncertainty. A few randomly exposed
    pairs (``X_unbiased``, ``y_unbiased``) or an exclusion restriction identify it.
    """
