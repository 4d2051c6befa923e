import numpy as np
import torch

from skmtl._batching import TaskBatchLoader, TaskDataset, split_task_rows


def _dataset(rng):
    Xs = [rng.normal(size=(7, 2)), rng.normal(size=(5, 4)), rng.normal(size=(3, 1))]
    ys = [np.zeros(7, int), np.ones(5, int), np.full(3, 2)]
    return Xs, TaskDataset(Xs, ys)


def test_gather_pads_and_masks(rng):
    Xs, ds = _dataset(rng)
    Xi, yi = ds.gather(np.array([0, 8, 12]))
    assert Xi["X"].shape == (3, 4)
    assert Xi["mask"].sum(1).tolist() == [2, 4, 1]
    np.testing.assert_allclose(Xi["X"][1].numpy(), Xs[1][1], rtol=1e-6)
    np.testing.assert_allclose(Xi["X"][2, 1:].numpy(), 0)
    assert Xi["task"].tolist() == [0, 1, 2] and yi.tolist() == [0, 1, 2]


def test_task_mode_one_task_per_step_covers_rows(rng):
    _, ds = _dataset(rng)
    loader = TaskBatchLoader(ds, batch_size=3, shuffle=True, random_state=0)
    seen = []
    for Xi, _ in loader:
        assert len(torch.unique(Xi["task"])) == 1
        seen.append(len(Xi["task"]))
    assert sum(seen) == 15 and len(seen) == len(loader) == 3 + 2 + 1


def test_mixed_mode_packs_tasks(rng):
    _, ds = _dataset(rng)
    batches = list(
        TaskBatchLoader(ds, batch_size=8, shuffle=True, batching="mixed", random_state=0)
    )
    assert len(batches) == 2 and any(len(torch.unique(Xi["task"])) > 1 for Xi, _ in batches)
    uniform = list(
        TaskBatchLoader(
            ds,
            batch_size=300,
            shuffle=True,
            batching="mixed",
            task_sampling="uniform",
            random_state=0,
        )
    )[0][0]["task"]
    counts = np.bincount(uniform.numpy(), minlength=3)
    assert counts.min() > 70  # uniform over tasks, not over rows (3-row task ~ 1/3)


def test_uniform_sampling_revisits_small_tasks(rng):
    _, ds = _dataset(rng)
    loader = TaskBatchLoader(
        ds, batch_size=1, shuffle=True, task_sampling="uniform", random_state=0
    )
    tasks = [int(Xi["task"][0]) for _ in range(20) for Xi, _ in loader]
    assert abs(np.mean(np.array(tasks) == 2) - 1 / 3) < 0.05


def test_split_keeps_training_rows_per_class(rng):
    ys = [np.array([0] * 10 + [1] * 2 + [2]), np.array([5.0])]
    train, valid = split_task_rows(ys, 0.3, stratify=True, rng=np.random.default_rng(0))
    assert sorted(ys[0][valid[0]].tolist()) == [0, 0, 0]
    assert set(ys[0][train[0]]) == {0, 1, 2}
    assert len(train[1]) == 1 and len(valid[1]) == 0
