"""Shared test fixtures: the ../shared reference cases, skipped when absent."""

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFCASES = SHARED / "refcases"


@pytest.fixture
def refcase():
    """Load ``../shared/refcases/<name>.json``; skip with a reason when it is absent."""

    def load(name):
        path = REFCASES / f"{name}.json"
        if not path.exists():
            pytest.skip(f"reference case {path} not available (../shared is absent)")
        return json.loads(path.read_text())["results"]

    return load


@pytest.fixture
def refdata():
    import pandas as pd

    def load(name):
        path = REFCASES / "data" / name
        if not path.exists():
            pytest.skip(f"reference data {path} not available (../shared is absent)")
        return pd.read_csv(path)

    return load
