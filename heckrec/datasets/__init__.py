"""Data: the shipped Mroz87 and Coat files, and simulators."""

from ._simulate import make_selection_mf

__all__ = ["make_selection_mf"]
