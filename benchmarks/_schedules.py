"""Learning-rate schedules shared by the benchmark scripts."""

from __future__ import annotations


def cosine_schedule(lr, max_epochs):
    """A skorch callback decaying the learning rate from ``lr`` to ``lr / 100`` along a
    cosine over ``max_epochs`` (stepped after every epoch).

    Examples
    --------
    >>> cb = cosine_schedule(2e-3, 100)
    >>> cb.kwargs["T_max"], cb.kwargs["eta_min"]
    (100, 2e-05)
    """
    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import CosineAnnealingLR

    return LRScheduler(CosineAnnealingLR, T_max=max_epochs, eta_min=lr / 100)
