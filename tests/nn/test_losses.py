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
