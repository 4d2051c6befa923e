"""Tests of the Cubic and Robot Arm task generators (paper Appendix E)."""

import numpy as np
import pytest

from skmtl.datasets.synthetic import (
    make_cubic_tasks,
    make_robot_arm_tasks,
    robot_arm_forward_kinematics,
)


def test_cubic_follows_the_coefficients():
    tasks, meta = make_cubic_tasks(n_tasks=50, n_samples=40, noise=0, random_state=0)
    assert len(tasks) == 50 and meta.shape == (50, 4)
    assert list(meta.columns) == ["a", "b", "c", "d"]
    assert meta.to_numpy().min() >= -1 and meta.to_numpy().max() <= 1
    for (X, y), (a, b, c, d) in zip(tasks, meta.to_numpy()):
        x = X[:, 0]
        assert X.shape == (40, 1) and y.shape == (40,)
        assert x.min() >= -1 and x.max() <= 1
        np.testing.assert_allclose(y, a * x**3 + b * x**2 + c * x + d)
    # coefficients roughly uniform on [-1, 1]: variance 1/3
    assert abs(meta.to_numpy().var() - 1 / 3) < 0.05


def test_cubic_sizes_seed_and_noise():
    t1, m1 = make_cubic_tasks(3, [2, 5, 7], noise=0, random_state=1)
    t2, m2 = make_cubic_tasks(3, [2, 5, 7], noise=0, random_state=1)
    assert [len(y) for _, y in t1] == [2, 5, 7]
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(t1[2][1], t2[2][1])
    noisy, _ = make_cubic_tasks(3, [2, 5, 7], noise=0.1, random_state=1)
    assert not np.allclose(noisy[2][1], t1[2][1])
    with pytest.raises(ValueError, match="one size per task"):
        make_cubic_tasks(3, [2, 5])
    with pytest.raises(ValueError, match="n_tasks"):
        make_cubic_tasks(0)


def test_forward_kinematics_known_poses():
    L = [1.0, 0.5, 0.25]
    np.testing.assert_allclose(robot_arm_forward_kinematics([[0, 0, 0]], L), [[1.75, 0.0]])
    # straight down, then the second link turns back up
    pos = robot_arm_forward_kinematics([[-np.pi / 2, np.pi, 0.0]], L)
    np.testing.assert_allclose(pos, [[0.0, -1.0 + 0.75]], atol=1e-12)


def test_robot_arm_ranges_and_consistency():
    tasks, meta = make_robot_arm_tasks(n_tasks=10, n_samples=300, random_state=0)
    assert list(meta.columns) == ["length_1", "length_2", "length_3"]
    lengths = meta.to_numpy()
    assert lengths.min() > 0 and lengths.max() <= 1
    for (X, theta), lens in zip(tasks, lengths):
        assert X.shape == (300, 2) and theta.shape == (300, 3)
        assert theta[:, :2].min() >= -np.pi and theta[:, :2].max() <= 0
        assert theta[:, 2].min() >= -np.pi / 2 and theta[:, 2].max() <= np.pi / 2
        np.testing.assert_allclose(X, robot_arm_forward_kinematics(theta, lens))
        assert np.all(np.linalg.norm(X, axis=1) <= lens.sum() + 1e-12)


def test_cubic_noise_default_is_the_authors():
    noisy, meta = make_cubic_tasks(n_tasks=40, n_samples=200, random_state=3)
    clean, meta0 = make_cubic_tasks(n_tasks=40, n_samples=200, noise=0, random_state=3)
    np.testing.assert_array_equal(meta, meta0)
    resid = np.concatenate([yn - yc for (_, yn), (_, yc) in zip(noisy, clean)])
    np.testing.assert_array_equal(noisy[5][0], clean[5][0])  # same inputs
    assert abs(resid.std() - 0.1) < 0.005 and abs(resid.mean()) < 0.01
    with pytest.raises(ValueError, match="noise"):
        make_cubic_tasks(2, noise=-1)
