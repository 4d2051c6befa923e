"""Row gathers whose backward pass is deterministic on CPU."""

from __future__ import annotations

import torch


def take_rows(source: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``source[index]`` for an integer ``index`` of any shape, via ``index_select``.

    Advanced indexing (``source[index]``) back-propagates through an accumulating
    ``index_put_``, whose summation order depends on thread scheduling on CPU when an
    index repeats; two fits with the same seed could then differ in the last bits.
    ``index_select``'s backward (``index_add_``) sums in a fixed order.

    Parameters
    ----------
    source : Tensor (N, ...)
    index : LongTensor of any shape, values in ``[0, N)``

    Returns
    -------
    Tensor (*index.shape, ...)

    Examples
    --------
    >>> import torch
    >>> take_rows(torch.arange(6.0).reshape(3, 2), torch.tensor([[2, 0], [2, 2]])).shape
    torch.Size([2, 2, 2])
    """
    flat = source.index_select(0, index.reshape(-1))
    return flat.reshape(*index.shape, *source.shape[1:])
