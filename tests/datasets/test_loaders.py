import shutil

import numpy as np
import pytest

from skmtl.datasets import get_data_home, load_openml_tasks, load_pmlb_tasks
from skmtl.datasets.openml import TEST_SERVER


def test_data_home_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SKMTL_DATA_HOME", str(tmp_path / "d"))
    assert get_data_home() == tmp_path / "d" and (tmp_path / "d").is_dir()
    assert get_data_home(tmp_path / "e") == tmp_path / "e"


def test_pmlb_named_datasets(data_home):
    tasks, info = load_pmlb_tasks(["iris", "analcatdata_aids"])
    assert tasks.names == ["iris", "analcatdata_aids"]
    assert tasks.Xs[0].shape == (150, 4) and len(np.unique(tasks.ys[0])) == 3
    assert tasks.feature_names[0][0] == "sepal-length"
    assert info["cache_dir"].endswith("pmlb")


def test_pmlb_filter_over_cache(data_home):
    tasks, info = load_pmlb_tasks(None, max_rows=200, max_features=10)
    summary_rows = tasks.sizes
    assert tasks.n_tasks > 5 and np.all(summary_rows < 200)
    assert all(n < 10 for n in tasks.n_features)
    assert info["filter"]["max_rows"] == 200 and info["dropped"]


def test_pmlb_unknown_name_lists_local(data_home):
    with pytest.raises(
        ValueError, match=r"unknown PMLB dataset\(s\) \['no_such_set'\]. Available locally"
    ):
        load_pmlb_tasks(["no_such_set"])


def test_openml_anneal_from_cache(data_home, tmp_path):
    # work on a copy: the OpenML client writes its parsed-data cache beside the files
    shutil.copytree(data_home / "openml", tmp_path / "openml")
    tasks, info = load_openml_tasks([2], data_home=tmp_path, server=TEST_SERVER)
    assert tasks.names == ["anneal"] and tasks.Xs[0].shape[0] == 898
    assert np.isfinite(tasks.Xs[0]).all() and info["targets"] == ["class"]
    assert set(np.unique(tasks.ys[0])) >= {"3", "2"}
    with pytest.raises(ValueError, match=r"Datasets available locally: \[2, 30\]"):
        load_openml_tasks([987654], data_home=tmp_path, server=TEST_SERVER)
