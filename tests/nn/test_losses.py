import torch

from skmtl.nn.losses import MaskedCrossEntropy, MaskedSquaredHinge, TaskMSE


def test_cross_entropy_ignores_other_tasks_columns():
    crit = MaskedCrossEntropy([2, 3])
    out = torch.tensor([[2.0, 0.0, 50.0]])
    expected = torch.nn.functional.cross_entropy(out[:, :2], torch.tensor([0]))
    assert torch.isclose(crit(out, torch.tensor([0]), torch.tensor([0])), expected)


def test_squared_hinge_matches_definition():
    crit = MaskedSquaredHinge([3])
    out = torch.tensor([[0.5, -2.0, 0.0]])
    # targets +1, -1, -1 -> (1-0.5)^2, 0, (1-0)^2, averaged over 3 classes
    assert torch.isclose(crit(out, torch.tensor([0]), torch.tensor([0])), torch.tensor(1.25 / 3))


def test_task_mse_on_task_columns():
    crit = TaskMSE([2])
    out = torch.tensor([[1.0, 2.0, 100.0]])
    assert torch.isclose(
        crit(out, torch.tensor([[0.0, 0.0]]), torch.tensor([0])), torch.tensor(2.5)
    )


def test_task_mse_averages_over_each_rows_own_columns():
    # task 0 has 1 target column, task 1 has 3: the loss is the mean over the 1 + 3 + 3
    # real (row, column) entries, the padded columns of the task-0 row count for nothing
    crit = TaskMSE([1, 3])
    out = torch.tensor([[1.0, 7.0, 7.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    target = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    task = torch.tensor([0, 1, 1])
    # squared errors: row 0: 1; row 1: 1, 4, 4; row 2: 1, 1, 1 -> 13 / 7
    assert torch.isclose(crit(out, target, task), torch.tensor(13.0 / 7.0))
