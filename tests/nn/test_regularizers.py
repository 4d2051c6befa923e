import math

import pytest
import torch

from skmtl.nn.regularizers import (
    REGULARIZERS,
    orthogonality_penalty,
    stable_rank,
    stable_rank_penalty,
    von_neumann_entropy,
)


def test_orthogonality_penalty_eq8():
    Q, _ = torch.linalg.qr(torch.randn(6, 6))
    assert float(orthogonality_penalty(Q)) == pytest.approx(0.0, abs=1e-8)
    S = torch.randn(5, 4)
    G = S.T @ S
    manual = sum((1 - G[i, i]) ** 2 for i in range(4)) + sum(
        G[i, j] ** 2 for i in range(4) for j in range(4) if i != j
    )
    assert float(orthogonality_penalty(S)) == pytest.approx(float(manual), rel=1e-5)


def test_stable_rank_eq9_eq10():
    assert float(stable_rank(torch.eye(5))) == pytest.approx(5.0)
    assert float(stable_rank(torch.outer(torch.arange(1.0, 4), torch.ones(3)))) == pytest.approx(
        1.0
    )
    S = torch.diag(torch.tensor([2.0, 1.0, 1.0]))
    assert float(stable_rank(S)) == pytest.approx(6 / 4)
    assert float(stable_rank_penalty(S)) == pytest.approx(3 - 1.5)


def test_von_neumann_entropy_bounds():
    assert float(von_neumann_entropy(torch.eye(4))) == pytest.approx(math.log(4), abs=1e-5)
    assert float(von_neumann_entropy(torch.ones(4, 4))) == pytest.approx(0.0, abs=1e-5)
    v = float(von_neumann_entropy(torch.randn(8, 8)))
    assert 0 < v < math.log(8)


@pytest.mark.parametrize("name", sorted(REGULARIZERS))
def test_gradient_descent_on_each_penalty_lowers_it(name):
    torch.manual_seed(0)
    S = torch.nn.Parameter(torch.randn(8, 8) + 2.0)  # correlated rows
    fn = REGULARIZERS[name]
    start = float(fn(S).detach())
    opt = torch.optim.Adam([S], lr=0.05)
    for _ in range(100):
        opt.zero_grad()
        fn(S).backward()
        opt.step()
    assert float(fn(S).detach()) < start - 0.1 * abs(start) - 1e-3
