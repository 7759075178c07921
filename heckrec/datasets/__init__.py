"""Data: the shipped Mroz87 file and simulators."""

from ._mroz import load_mroz87
from ._simulate import make_selection_mf, make_tobit2

__all__ = ["load_mroz87", "make_selection_mf", "make_tobit2"]
