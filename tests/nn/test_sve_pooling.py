"""Mean pooling of the shared variable embeddings network, checked against the sum.

With ``aggregation="mean"`` the pooled set representation (the input of the core ``g1``) must
be the ``"sum"`` pooling of the same parameters divided by the number of observed variables
of the row: the task width on a dense batch, the count of unmasked variables on a padded or
NaN-masked batch.
"""

import torch

from skmtl.nn.sve import SharedVariableEmbeddingNet

SMALL = dict(
    embedding_dim=8, hidden_dim=16, n_encoder_layers=2, n_core_layers=1, n_decoder_layers=2
)


def _pair(n_features, n_outputs):
    """A mean-pooling and a sum-pooling net with identical random parameters."""
    torch.manual_seed(0)
    mean = SharedVariableEmbeddingNet(n_features, n_outputs, aggregation="mean", **SMALL)
    total = SharedVariableEmbeddingNet(n_features, n_outputs, aggregation="sum", **SMALL)
    total.load_state_dict(mean.state_dict())
    mean.eval(), total.eval()
    return mean, total


def _pooled(net, X, task, mask):
    """The pooled vector that enters ``net.core``, shape (B, H)."""
    seen = []
    handle = net.core.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    try:
        with torch.no_grad():
            net.encode(X, task, mask)
    finally:
        handle.remove()
    return seen[0]


def test_mean_pool_is_sum_over_width_on_a_dense_batch():
    mean, total = _pair([4], [3])
    X = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    task = torch.zeros(5, dtype=torch.long)
    mask = torch.ones(5, 4, dtype=torch.bool)
    s = _pooled(total, X, task, mask)
    assert s.abs().max() > 0.1  # a non-trivial sum, so that sum / 4 differs from it
    torch.testing.assert_close(_pooled(mean, X, task, mask), s / 4)


def test_mean_pool_divides_by_the_observed_count_of_each_row():
    mean, total = _pair([2, 5], [2, 3])
    X = torch.randn(4, 5, generator=torch.Generator().manual_seed(2))
    task = torch.tensor([0, 1, 1, 1])
    mask = torch.tensor(
        [
            [1, 1, 0, 0, 0],  # task 0: width 2
            [1, 1, 1, 1, 1],  # task 1: all 5 observed
            [1, 0, 1, 0, 1],  # task 1: two missing values (3 observed)
            [0, 0, 0, 1, 0],  # task 1: one observed variable
        ],
        dtype=torch.bool,
    )
    X = X.masked_fill(~mask, float("nan"))  # what is not observed never enters the pool
    s = _pooled(total, X, task, mask)
    m = _pooled(mean, X, task, mask)
    assert torch.isfinite(m).all()
    counts = torch.tensor([2.0, 5.0, 3.0, 1.0])[:, None]
    torch.testing.assert_close(m, s / counts)
    # the single observed variable: its mean is its own encoding, equal to the sum
    torch.testing.assert_close(m[3], s[3])
