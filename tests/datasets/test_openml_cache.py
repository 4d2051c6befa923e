"""OpenML loader on the shared test-server cache: read-only homes, errors, raw tables."""

import os
import stat
import time

import numpy as np
import pandas as pd
import pytest

from skmtl.datasets import load_openml_tasks
from skmtl.datasets.openml import TEST_SERVER


def _snapshot(root):
    return sorted(
        (str(p.relative_to(root)), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()
    )


def _set_read_only(root, read_only):
    for p in [root, *root.rglob("*")]:
        mode = p.stat().st_mode
        if read_only:
            p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        else:
            p.chmod(mode | stat.S_IWUSR)


def test_read_only_home_is_never_written(data_home, tmp_path):
    import shutil

    shutil.copytree(data_home / "openml", tmp_path / "openml")
    _set_read_only(tmp_path, True)
    try:
        before = _snapshot(tmp_path)
        tasks, _ = load_openml_tasks([2], data_home=tmp_path, server=TEST_SERVER)
        assert tasks.names == ["anneal"] and tasks.sizes.tolist() == [898]
        assert _snapshot(tmp_path) == before  # no parsed-data pickle beside the ARFF
    finally:
        _set_read_only(tmp_path, False)


def test_shared_cache_read_in_place_without_writes(data_home):
    before = _snapshot(data_home / "openml")
    tasks, info = load_openml_tasks([2], data_home=data_home, server=TEST_SERVER, categorical="raw")
    assert _snapshot(data_home / "openml") == before
    assert info["categorical"] == "raw" and tasks.names == ["anneal"]


def test_offline_error_names_the_test_server(data_home, tmp_path):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"TEST server: pass server=TEST_SERVER") as err:
        load_openml_tasks([2], data_home=data_home)
    assert "'test': [2, 30]" in str(err.value) and time.perf_counter() - start < 120


def test_anneal_raw_keeps_categories_and_missing_values(data_home):
    tasks, _ = load_openml_tasks([2], data_home=data_home, server=TEST_SERVER, categorical="raw")
    frame = tasks.frames[0]
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    assert len(frame.columns) == 38 and len(cats) >= 20  # anneal: mostly nominal columns
    assert frame.isna().to_numpy().sum() > 1000  # and many missing entries
    assert tasks.Xs[0].dtype == object and tasks.input_columns[0] == list(frame.columns)
    assert os.fspath(data_home)  # the shared cache, read in place
    numeric = [c for c in frame.columns if c not in cats]
    assert np.issubdtype(frame[numeric].to_numpy().dtype, np.floating)
