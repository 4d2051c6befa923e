import numpy as np
import pytest

from skmtl import Tasks, TaskStratifiedKFold, task_train_test_split


def _tasks(rng):
    return Tasks(
        [rng.normal(size=(30, 2)), rng.normal(size=(12, 3)), rng.normal(size=(20, 1))],
        [np.array([0, 1, 2] * 10), np.array(["x", "y"] * 6), rng.normal(size=20)],
        names=["a", "b", "c"],
    )


def test_stratified_folds_hold_every_task_and_class(rng):
    T = _tasks(rng)
    seen = np.zeros(len(T), dtype=int)
    for train, test in TaskStratifiedKFold(3, random_state=0).split(T):
        assert not set(train) & set(test)
        seen[test] += 1
        fold = T[test]
        assert np.all(fold.sizes > 0)
        assert set(fold.ys[0]) == {0, 1, 2} and set(fold.ys[1]) == {"x", "y"}
    assert np.all(seen == 1)  # every row is tested exactly once


def test_groups_and_y_form(rng):
    groups = np.repeat([0, 1], 10)
    y = np.tile([0, 1], 10)
    folds = list(TaskStratifiedKFold(2, random_state=0).split(np.zeros(20), y, groups))
    for _, test in folds:
        assert len(set(zip(groups[test], y[test]))) == 4
    with pytest.raises(ValueError, match="needs a Tasks as X, or groups"):
        next(TaskStratifiedKFold(2).split(np.zeros(4)))


def test_train_test_split_within_tasks(rng):
    T = _tasks(rng)
    train, test = task_train_test_split(T, test_size=0.2, random_state=0)
    assert train.sizes.tolist() == [24, 10, 16] and test.sizes.tolist() == [6, 2, 4]
    assert sorted(test.ys[0].tolist()) == [0, 0, 1, 1, 2, 2]
    again = task_train_test_split(T, test_size=0.2, random_state=0)[1]
    np.testing.assert_array_equal(again.Xs[2], test.Xs[2])
    with pytest.raises(ValueError, match="test_size must be in"):
        task_train_test_split(T, test_size=1.5)


def test_hypernet_paper_split_gives_the_authors_row_counts():
    from skmtl.model_selection import hypernet_paper_split

    def tasks_of(sizes):
        return [
            (np.arange(n, dtype=float)[:, None] + 1000 * t, np.zeros(n))
            for t, n in enumerate(sizes)
        ]

    # Cubic: 8 train, 2 validation, 490 test; Robot Arm: 15 + 5, 480 test
    for n, counts in ((10, (8, 2, 490)), (20, (15, 5, 480))):
        parts = hypernet_paper_split(
            tasks_of([500] * 3), n_per_task=n, return_validation=True, random_state=0
        )
        assert [p.sizes.tolist() for p in parts] == [[c] * 3 for c in counts]
        rows = np.concatenate([p.Xs[1][:, 0] for p in parts])
        assert sorted(rows.tolist()) == list(range(1000, 1500))  # a partition of the task
    # 60/20/20 (Algorithms: 22 rows -> 14/4/4; a Chlorophyll lake of 5 -> 3/1/1)
    parts = hypernet_paper_split(tasks_of([22, 5, 510]), return_validation=True, random_state=0)
    assert [p.sizes.tolist() for p in parts] == [[14, 3, 306], [4, 1, 102], [4, 1, 102]]
    fit, test = hypernet_paper_split(tasks_of([22, 5]), random_state=0)
    assert fit.sizes.tolist() == [18, 4] and test.sizes.tolist() == [4, 1]
    # seeded: the same seed, the same rows; another seed, other rows
    a = hypernet_paper_split(tasks_of([500]), n_per_task=10, random_state=1)[0].Xs[0]
    b = hypernet_paper_split(tasks_of([500]), n_per_task=10, random_state=1)[0].Xs[0]
    c = hypernet_paper_split(tasks_of([500]), n_per_task=10, random_state=2)[0].Xs[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert hypernet_paper_split(tasks_of([6]), n_per_task=10)[1].sizes.tolist() == [0]
    with pytest.raises(ValueError, match="n_per_task"):
        hypernet_paper_split(tasks_of([6]), n_per_task=0)
