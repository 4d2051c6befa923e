"""Tests of load_hypernet_tasks on the authors' published files (skmtl.datasets.hypernet)."""

import numpy as np
import pytest

from skmtl.datasets import load_hypernet_tasks


@pytest.fixture(scope="module")
def hypernet_home(data_home):
    if not (data_home / "hypernet" / "cubic").is_dir():
        pytest.skip("hypernet data not in the data home")
    return data_home


def test_cubic_file_matches_its_metadata(hypernet_home):
    tasks, meta = load_hypernet_tasks("cubic", n_tasks=20)
    assert tasks.n_tasks == 20 and tasks.sizes.tolist() == [500] * 20
    assert list(meta.columns) == ["a", "b", "c", "d"] and meta.shape == (20, 4)
    assert tasks.metadata_names == ["a", "b", "c", "d"]
    np.testing.assert_allclose(tasks.metadata, meta.to_numpy())
    assert tasks.names[0] == "0.1x3 + 0.43x2 + 0.21x + 0.09" == meta.index[0]
    # the labels are the cubic of the metadata plus noise of standard deviation 0.1
    resid = [y - np.polyval(m, X[:, 0]) for X, y, m in zip(tasks.Xs, tasks.ys, meta.to_numpy())]
    assert abs(np.std(np.concatenate(resid)) - 0.1) < 0.005
    assert load_hypernet_tasks("cubic")[0].n_tasks == 100


def test_robot_arm_drops_blank_rows_and_has_three_targets(hypernet_home):
    tasks, meta = load_hypernet_tasks("robot_arm")
    assert tasks.n_tasks == 50 and len(tasks) == 25_000  # the 24,353 blank rows are gone
    assert tasks.ys[0].shape == (500, 3) and tasks.n_features == [2] * 50
    assert list(meta.columns) == ["l1", "l2", "l3"]
    # forward kinematics of the angles with the task's lengths gives the inputs
    from skmtl.datasets.synthetic import robot_arm_forward_kinematics

    X, y = tasks.task(3)
    np.testing.assert_allclose(robot_arm_forward_kinematics(y, meta.iloc[3]), X, atol=1e-6)


def test_algorithms_and_chlorophyll(hypernet_home):
    alg, alg_meta = load_hypernet_tasks("algorithms")
    assert alg.n_tasks == 24 and alg.sizes.tolist() == [22] * 24
    assert alg.n_features[0] == 20 and alg.names[:2] == ["Ac2", "IndCART"]
    assert alg_meta.shape == (24, 8) and set(np.unique(alg_meta.to_numpy())) == {0.0, 1.0}
    chl, chl_meta = load_hypernet_tasks("chlorophyll")
    assert chl.n_tasks == 88 and len(chl) == 2439
    assert chl.sizes.min() == 5 and chl.sizes.max() == 510 and chl.n_features[0] == 16
    assert chl_meta.shape == (88, 11)
    assert not any(c.startswith("_") for c in chl_meta.columns)  # identifiers dropped
    assert "depth" in chl_meta.columns and "_task_count" not in chl_meta.columns


def test_bad_names_and_missing_files(tmp_path, hypernet_home):
    with pytest.raises(ValueError, match="unknown hypernet dataset 'cubes'.*chlorophyll"):
        load_hypernet_tasks("cubes")
    with pytest.raises(FileNotFoundError, match=r"looked for .*hypernet.cubic.cubic_data.csv"):
        load_hypernet_tasks("cubic", data_home=tmp_path)
    with pytest.raises(ValueError, match="n_tasks"):
        load_hypernet_tasks("cubic", n_tasks=0)
    with pytest.raises(ValueError, match="24 tasks with data"):
        load_hypernet_tasks("algorithms", n_tasks=30)
