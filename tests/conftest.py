"""Shared test fixtures: the offline data folder and seeded random data."""

import os
from pathlib import Path

import numpy as np
import pytest

_REPO = Path(__file__).resolve().parents[1]
_SHARED_DATA = _REPO.parent / "shared" / "data"

if "SKMTL_DATA_HOME" not in os.environ and _SHARED_DATA.is_dir():
    os.environ["SKMTL_DATA_HOME"] = str(_SHARED_DATA)


@pytest.fixture(scope="session")
def data_home():
    """The data folder (SKMTL_DATA_HOME); tests needing real data skip when it is absent."""
    home = os.environ.get("SKMTL_DATA_HOME")
    if not home or not (Path(home) / "pmlb").is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI must find the real data cache: set SKMTL_DATA_HOME")
        pytest.skip("real data cache not found: set SKMTL_DATA_HOME")
    return Path(home)


@pytest.fixture
def one_torch_thread():
    """Run a test on one torch thread (tiny networks only contend for shared cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def fitted_tiny():
    """``get(name) -> (estimator, tasks, metadata)``: a tiny estimator fitted once per session.

    For tests that only read a fitted model (predict, pickle, save); a test that changes
    the estimator must clone it first.
    """
    from estimators import multitask_data, tiny_estimators
    from sklearn.base import clone

    cache = {}

    def get(name):
        if name not in cache:
            est = clone(tiny_estimators()[name]).set_params(max_epochs=3)
            tasks, meta = multitask_data(est, np.random.default_rng(0))
            cache[name] = (est.fit(tasks, metadata=meta), tasks, meta)
        return cache[name]

    return get
