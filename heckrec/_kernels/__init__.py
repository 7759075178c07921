"""Numba kernels: log-likelihood and gradient per model family.

Each module is self-contained (a cached numba kernel keeps a stale copy of any
helper imported from another module after an edit), and each kernel has a
pure array twin in :mod:`heckrec._array` that the tests use as the oracle.
"""
