"""Tests of skmtl.nn._gather."""

import torch

from skmtl.nn._gather import take_rows


def test_take_rows_matches_indexing_and_its_gradient_is_reproducible():
    gen = torch.Generator().manual_seed(0)
    source = torch.randn(20, 33, 32, generator=gen, requires_grad=True)
    index = torch.randint(0, 20, (4, 64), generator=gen)  # repeats, 2-D index
    weight = torch.randn(4, 64, 33, 32, generator=gen)
    assert torch.equal(take_rows(source, index), source[index])

    def grad():
        source.grad = None
        (take_rows(source, index) * weight).sum().backward()
        return source.grad.clone()

    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        first = grad()
        assert all(torch.equal(first, grad()) for _ in range(20))
    finally:
        torch.set_num_threads(threads)
    source.grad = None
    (source[index] * weight).sum().backward()
    torch.testing.assert_close(first, source.grad)
