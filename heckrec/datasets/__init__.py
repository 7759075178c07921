"""Data: the shipped Mroz87 and Coat files, loaders for Yahoo! R3 and KuaiRec, simulators."""

from ._coat import load_coat
from ._logs import load_kuairec, load_yahoo_r3
from ._mroz import load_mroz87
from ._semisynthetic import make_semisynthetic
from ._simulate import make_selection_log, make_selection_mf, make_tobit2

__all__ = ["load_coat", "load_kuairec", "load_mroz87", "load_yahoo_r3", "make_selection_log",
           "make_selection_mf",
           "make_semisynthetic", "make_tobit2"]
