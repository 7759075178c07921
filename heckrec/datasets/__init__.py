"""Data: the shipped Mroz87 and Coat files, and simulators."""

from ._coat import load_coat
from ._mroz import load_mroz87
from ._simulate import make_selection_mf, make_tobit2

__all__ = ["load_coat", "load_mroz87", "make_selection_mf", "make_tobit2"]
