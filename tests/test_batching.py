import numpy as np
import pytest
import torch

from skmtl._batching import TaskBatchLoader, TaskDataset
from skmtl.model_selection import split_within_tasks


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


@pytest.mark.parametrize("task_sampling", ["uniform", "proportional", "sqrt"])
def test_tasks_per_step_packs_chunks_of_that_many_tasks(task_sampling):
    sizes = [40, 30, 20, 6, 3]
    ds = TaskDataset([np.zeros((n, 1)) for n in sizes], [np.zeros(n, int) for n in sizes])
    loader = TaskBatchLoader(
        ds,
        batch_size=20,
        shuffle=True,
        batching="mixed",
        task_sampling=task_sampling,
        tasks_per_step=2,
        random_state=0,
    )
    seen = np.zeros(len(sizes), int)
    for _ in range(100):
        for Xi, _ in loader:
            counts = np.bincount(Xi["task"].numpy(), minlength=len(sizes))
            assert (counts > 0).sum() == 2  # two distinct tasks in every step
            assert np.all(counts <= np.minimum(10, sizes))  # ceil(20 / 2) rows at most each
            seen += counts
    assert len(loader) == 5 and (seen > 0).all()
    if task_sampling == "uniform":  # tasks of >= 10 rows give equal 10-row chunks
        assert abs(seen[0] / seen[1] - 1) < 0.25
    else:  # by rows or their root: the 40-row task is drawn more often than the 20-row one
        assert seen[0] > 1.2 * seen[2]


def test_tasks_per_step_beyond_the_task_count_takes_every_task(rng):
    _, ds = _dataset(rng)
    loader = TaskBatchLoader(
        ds, batch_size=6, shuffle=True, batching="mixed", tasks_per_step=10, random_state=0
    )
    for Xi, _ in loader:  # every task in every step, 2 rows each (1 at a pass's end)
        assert set(np.bincount(Xi["task"].numpy(), minlength=3)) <= {1, 2}


def test_tasks_per_step_rejects_non_positive(rng):
    _, ds = _dataset(rng)
    with pytest.raises(ValueError, match="tasks_per_step must be >= 1"):
        TaskBatchLoader(ds, batching="mixed", tasks_per_step=0)


@pytest.mark.parametrize(
    "batching, task_sampling, tasks_per_step",
    [
        ("task", "proportional", None),
        ("task", "uniform", None),
        ("mixed", "proportional", None),
        ("mixed", "uniform", None),
        ("mixed", "uniform", 2),
    ],
)
@pytest.mark.parametrize("steps", [2, 11])
def test_steps_per_epoch_sets_the_epoch_length(rng, batching, task_sampling, tasks_per_step, steps):
    _, ds = _dataset(rng)
    loader = TaskBatchLoader(
        ds,
        batch_size=3,
        shuffle=True,
        batching=batching,
        task_sampling=task_sampling,
        tasks_per_step=tasks_per_step,
        steps_per_epoch=steps,
        random_state=0,
    )
    batches = [yi for _, yi in loader]
    assert len(batches) == len(loader) == steps
    rows = np.concatenate([y.numpy() for y in batches])
    per_step = 3 if tasks_per_step is None else 2 * 2  # two tasks of ceil(3 / 2) rows
    assert 0 < len(rows) <= per_step * steps
    if task_sampling == "proportional" and steps == 11:  # a pass and more: every task seen
        assert set(rows.tolist()) == {0, 1, 2}
    full = TaskBatchLoader(ds, batch_size=3, shuffle=True, batching=batching, random_state=0)
    assert len(full) == (6 if batching == "task" else 5)  # default: one pass over the rows


def test_steps_per_epoch_proportional_passes_visit_rows_equally(rng):
    ds = TaskDataset([np.arange(12.0)[:, None]], [np.zeros(12, int)])
    for batching in ("task", "mixed"):
        loader = TaskBatchLoader(
            ds, batch_size=4, shuffle=True, batching=batching, steps_per_epoch=6, random_state=0
        )  # two passes of three steps
        values = np.concatenate([Xi["X"][:, 0].numpy() for Xi, _ in loader])
        np.testing.assert_array_equal(np.bincount(values.astype(int)), np.full(12, 2))


def test_steps_per_epoch_rejects_non_positive(rng):
    _, ds = _dataset(rng)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        TaskBatchLoader(ds, steps_per_epoch=0)


def test_unshuffled_mixed_mode_packs_rows_in_order(rng):
    _, ds = _dataset(rng)
    loader = TaskBatchLoader(ds, batch_size=4, batching="mixed")
    tasks = [Xi["task"].tolist() for Xi, _ in loader]
    assert len(tasks) == len(loader) == 4
    assert sum(tasks, []) == [0] * 7 + [1] * 5 + [2] * 3  # every row once, in order
    assert tasks[1] == [0, 0, 0, 1]  # tasks share a batch


def test_uniform_sampling_revisits_small_tasks(rng):
    _, ds = _dataset(rng)
    loader = TaskBatchLoader(
        ds, batch_size=1, shuffle=True, task_sampling="uniform", random_state=0
    )
    tasks = [int(Xi["task"][0]) for _ in range(20) for Xi, _ in loader]
    assert abs(np.mean(np.array(tasks) == 2) - 1 / 3) < 0.05


@pytest.mark.parametrize("batching", ["task", "mixed"])
def test_sqrt_sampling_visits_tasks_by_root_of_rows(batching):
    sizes = [400, 100, 25]
    ds = TaskDataset([np.zeros((n, 1)) for n in sizes], [np.zeros(n, int) for n in sizes])
    loader = TaskBatchLoader(
        ds, batch_size=5, shuffle=True, batching=batching, task_sampling="sqrt", random_state=0
    )
    tasks = np.concatenate([Xi["task"].numpy() for _ in range(10) for Xi, _ in loader])
    share = np.bincount(tasks, minlength=3) / len(tasks)
    # sqrt(400) : sqrt(100) : sqrt(25) = 20 : 10 : 5, against 16 : 4 : 1 by rows
    np.testing.assert_allclose(share, [20 / 35, 10 / 35, 5 / 35], atol=0.03)


def test_split_keeps_training_rows_per_class(rng):
    ys = [np.array([0] * 10 + [1] * 2 + [2]), np.array([5.0])]
    train, valid = split_within_tasks(ys, 0.3, stratify=True, rng=np.random.default_rng(0))
    assert sorted(ys[0][valid[0]].tolist()) == [0, 0, 0]
    assert set(ys[0][train[0]]) == {0, 1, 2}
    assert len(train[1]) == 1 and len(valid[1]) == 0


def test_fast_paths_match_the_padded_gather(rng):
    # one task per batch and tasks of one width take shortcuts; both must equal the
    # general padded gather
    Xs, ds = _dataset(rng)
    same = TaskDataset([Xs[0], rng.normal(size=(4, 2))], [np.zeros(7, int), np.ones(4, int)])
    for data, rows in [(ds, np.array([8, 9, 11])), (same, np.array([1, 8, 3, 10]))]:
        fast, y_fast = data.gather(rows)
        general, y_general = data.gather(torch.as_tensor(rows))
        if data is same:  # the matrix path serves tensors too: compare with the definition
            want = np.vstack(
                [data.Xs[data.row_task_np[r]][r - data.offsets[data.row_task_np[r]]] for r in rows]
            )
            np.testing.assert_allclose(fast["X"].numpy(), want.astype(np.float32))
        for key in ("X", "task", "mask"):
            assert torch.equal(fast[key], general[key]), key
        assert torch.equal(y_fast, y_general)
