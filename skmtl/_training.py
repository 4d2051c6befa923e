"""Training: one skorch net, configured from one set of parameters, cold or warm.

The estimator (:mod:`skmtl.base`) validates its parameters and data, scales the
inputs and encodes the targets; this module receives plain arrays, a callable that
builds the torch module and criterion, and a :class:`TrainingConfig`, and returns the
trained net. It never sees the estimator, so the import graph stays one-way:
``base -> _training -> _skorch / _selection / _batching``.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split

from skmtl._batching import TaskBatchLoader, TaskDataset
from skmtl._selection import PerTaskCheckpoint
from skmtl._skorch import task_scoring
from skmtl.model_selection import split_within_tasks

__all__ = [
    "OPTIMIZERS",
    "TrainingConfig",
    "check_device",
    "continue_training",
    "move_net",
    "net_params",
    "train_net",
]

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}

#: tolerance of each early-stopping mode when ``tol=None`` (the earlier fixed values)
DEFAULT_TOL = {True: 1e-4, "per_task": 1e-3}


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """The shared training parameters of a neural estimator, as plain values.

    Attributes mirror the estimator parameters of the same names (see
    :class:`skmtl.base.MultiTaskNetEstimator`); ``eval_batch_size`` is the rows per
    validation and prediction batch, ``task_kind`` ``"classification"`` or
    ``"regression"`` (what ``valid_score`` measures), ``optimizer_param_groups`` skorch's
    ``optimizer__param_groups`` (empty: one group).

    Examples
    --------
    >>> TrainingConfig(max_epochs=3).max_epochs
    3
    """

    lr: float = 1e-3
    max_epochs: int = 100
    batch_size: int = 128
    batching: str = "task"
    task_sampling: str = "proportional"
    tasks_per_step: int | None = None
    steps_per_epoch: int | None = None
    optimizer: str = "adam"
    weight_decay: float = 0.0
    validation_fraction: float = 0.1
    early_stopping: bool | str = True
    n_iter_no_change: int = 10
    tol: float | None = None
    callbacks: list | None = None
    verbose: int = 0
    device: str = "cpu"
    random_state: object = None
    eval_batch_size: int = 128
    task_kind: str = "classification"
    optimizer_param_groups: tuple = ()


def check_device(device):
    """Validate a ``device`` parameter and return it as a string.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For an unknown device string, or ``"cuda"`` on a machine without a usable GPU.

    Examples
    --------
    >>> check_device("cpu")
    'cpu'
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'cpu' or 'cuda', got {device!r}.")
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise ValueError(
            f"device={device!r} is not a valid torch device; use 'cpu' or 'cuda' (or 'cuda:N')."
        ) from None
    if parsed.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r} is not supported; use 'cpu' or 'cuda'.")
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this machine "
                "(torch.cuda.is_available() is False: no GPU, or a CPU-only torch build); "
                "use device='cpu'."
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}: only {torch.cuda.device_count()} CUDA device(s) are visible."
            )
    return device


def _optimizer_kernel(name):
    """How the optimizer updates its parameters: one fused kernel where torch has it.

    The models here have many small parameter tensors, so the per-tensor update loop
    torch uses on CPU by default costs more than the arithmetic. Adam and AdamW have a
    fused CPU and CUDA kernel from torch 2.4 (about half the time of ``foreach`` on
    the hypernetwork benchmark); otherwise one multi-tensor (``foreach``) update.
    """
    if name in ("adam", "adamw") and torch.__version__ >= "2.4":  # TorchVersion compare
        return {"optimizer__fused": True}
    return {"optimizer__foreach": True}


def _silent(*args, **kwargs):
    """A sink that discards skorch's messages when ``verbose=0``."""


def training_callbacks(config, n_outputs, has_valid):
    """The ``(name, callback)`` list of a fit: scoring, the user's, then stopping.

    Examples
    --------
    >>> [name for name, _ in training_callbacks(TrainingConfig(), [2], True)]
    ['valid_score', 'early_stopping']
    """
    cbs = []
    if has_valid:
        cbs.append(("valid_score", task_scoring(config.task_kind, n_outputs)))
    for k, cb in enumerate(config.callbacks or []):
        cbs.append(cb if isinstance(cb, tuple) else (f"user_{k}_{type(cb).__name__}", cb))
    sink = print if config.verbose else _silent
    tol = DEFAULT_TOL.get(config.early_stopping) if config.tol is None else config.tol
    if has_valid and config.early_stopping == "per_task":
        checkpoint = PerTaskCheckpoint(patience=config.n_iter_no_change, tol=tol, sink=sink)
        cbs.append(("per_task_checkpoint", checkpoint))
    elif has_valid and config.early_stopping:  # last, so every other callback sees each epoch
        stopping = EarlyStopping(
            monitor="valid_loss",
            patience=config.n_iter_no_change,
            threshold=tol,
            load_best=True,
            sink=sink,
        )
        cbs.append(("early_stopping", stopping))
    return cbs


def _prefixed(component, **settings):
    """skorch's ``<component>__<name>`` keys for a component's settings."""
    return {f"{component}__{name}": value for name, value in settings.items()}


def net_params(config, *, callbacks, train_split, loader_rng):
    """Every setting of the skorch net but module and criterion, for cold and warm fits.

    The one place the net is configured: a cold fit passes these to the net's
    constructor, a warm fit sets them on the fitted net (:func:`reconfigure_net`), so
    a parameter changed with ``set_params`` reaches both.

    Examples
    --------
    >>> p = net_params(TrainingConfig(lr=0.5), callbacks=[], train_split=None, loader_rng=None)
    >>> p["lr"], p["optimizer__weight_decay"], p["iterator_train__shuffle"]
    (0.5, 0.0, True)
    """
    params = dict(
        optimizer=OPTIMIZERS[config.optimizer],
        lr=config.lr,
        optimizer__weight_decay=config.weight_decay,
        **_optimizer_kernel(config.optimizer),
        max_epochs=config.max_epochs,
        batch_size=config.batch_size,
        iterator_train=TaskBatchLoader,
        **_prefixed(
            "iterator_train",
            shuffle=True,
            batching=config.batching,
            task_sampling=config.task_sampling,
            tasks_per_step=config.tasks_per_step,
            steps_per_epoch=config.steps_per_epoch,
            random_state=loader_rng,
        ),
        iterator_valid=TaskBatchLoader,
        **_prefixed(
            "iterator_valid",
            shuffle=False,
            batching=config.batching,
            batch_size=config.eval_batch_size,
        ),
        train_split=train_split,
        callbacks=callbacks,
        verbose=config.verbose,
        device=config.device,
        # skorch's PrintLog formats a table every epoch even when silent
        **({} if config.verbose else {"callbacks__print_log": None}),
    )
    if config.optimizer_param_groups:
        params["optimizer__param_groups"] = list(config.optimizer_param_groups)
    return params


def reconfigure_net(net, params):
    """Apply :func:`net_params` to a fitted net for a warm start.

    Module and criterion are kept (moved to the new device); callbacks and the
    optimizer are rebuilt from the new settings, so ``lr``, ``weight_decay``,
    ``optimizer`` and ``device`` take effect. The optimizer's running state (Adam's
    moments, step counts) carries over when the optimizer class is unchanged.
    """
    old_optimizer = net.optimizer_
    old_state = old_optimizer.state_dict()["state"]
    for name in [k for k in vars(net) if k.startswith(("optimizer__", "callbacks__"))]:
        delattr(net, name)  # stale settings of another optimizer or callback layout
    for name, value in params.items():
        setattr(net, name, value)
    move_net(net, params["device"])
    net.initialize_callbacks()
    net.initialize_optimizer()
    if type(net.optimizer_) is type(old_optimizer):
        state = net.optimizer_.state_dict()
        state["state"] = old_state
        net.optimizer_.load_state_dict(state)
    return net


def move_net(net, device):
    """Move a fitted net's module and criterion to ``device`` (no copy when already there).

    Examples
    --------
    >>> from skorch import NeuralNet
    >>> net = NeuralNet(torch.nn.Linear(1, 1), torch.nn.MSELoss).initialize()
    >>> move_net(net, "cpu").device
    'cpu'
    """
    if torch.device(device) != torch.device(net.device):
        net.module_.to(device)
        net.criterion_.to(device)
        net.device = device
    return net


def _seed_context(seeded, device):
    """Fork torch's RNG (CPU and the fit's GPU) so a seeded fit leaves it as it was."""
    if not seeded:
        return contextlib.nullcontext()
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    return torch.random.fork_rng(devices=devices)


def _split_datasets(config, Xs, ys, validate, rng):
    """Training and validation :class:`TaskDataset` (validation None when empty)."""
    train_rows, valid_rows = split_within_tasks(
        ys,
        config.validation_fraction if validate else 0.0,
        stratify=config.task_kind == "classification",
        rng=rng,
    )
    ds_all = TaskDataset(Xs, ys, device=config.device)
    ds_valid = ds_all.subset(valid_rows) if sum(map(len, valid_rows)) else None
    return ds_all.subset(train_rows), ds_valid


def continue_training(net, config, ds_train, ds_valid, *, callbacks, loader_rng):
    """Train a fitted net further on the same training and validation rows.

    A later stage of one fit (e.g. SVE's per-task refinement): the net is reconfigured
    from ``config`` (learning rate, sampling, epochs; see :func:`reconfigure_net`, which
    keeps the optimizer's state) with ``callbacks`` and trained on ``ds_train``,
    validating on ``ds_valid``; the epochs continue the net's history.

    Parameters
    ----------
    net : skorch net
        Fitted (``initialize`` and at least one ``partial_fit``).
    config : TrainingConfig
        The stage's settings, with the step sizes already resolved.
    ds_train, ds_valid : TaskDataset
        The fit's own split (validation rows never trained on).
    callbacks : list of (name, callback)
    loader_rng : numpy.random.Generator
        Source of the stage's batch order.

    Returns
    -------
    net
    """
    params = net_params(
        config,
        callbacks=callbacks,
        train_split=predefined_split(ds_valid),
        loader_rng=loader_rng,
    )
    reconfigure_net(net, params)
    net.partial_fit(ds_train)
    return net


def train_net(
    config,
    Xs,
    ys,
    *,
    callbacks,
    build,
    net_class,
    net=None,
    train=True,
    budget=None,
    after=None,
):
    """Build (or warm-start) a skorch net on scaled inputs and encoded targets and train it.

    Parameters
    ----------
    config : TrainingConfig
    Xs, ys : list of ndarray
        Scaled float features and encoded targets per task.
    callbacks : callable
        ``callbacks(has_valid) -> [(name, callback), ...]`` (see :func:`training_callbacks`).
    build : callable
        ``build() -> (module, criterion)``, called under the fit's seed.
    net_class : type
        The skorch net class (``TaskNet`` or a subclass).
    net : skorch net or None
        A fitted net to continue (warm start); None builds a new one.
    train : bool
        False only builds and initialises the net (``initialize``).
    budget : callable or None
        ``budget(train_sizes) -> dict`` of config fields derived from the training rows
        per task (e.g. SVE's ``"auto"`` step sizes), applied after the validation split.
    after : callable or None
        ``after(net, ds_train, ds_valid, rng)``, called after training under the fit's
        seed with the fit's own split (``ds_valid`` None without validation rows) and a
        generator for its batches: a later stage of the same fit (see
        :func:`continue_training`).

    Returns
    -------
    net
        Trained; ``train_split`` cleared so no validation rows stay in the model.
    """
    seed = int(check_random_state(config.random_state).randint(np.iinfo(np.int32).max))
    with _seed_context(config.random_state is not None, config.device):
        if config.random_state is not None:
            torch.manual_seed(seed)
        ds_train, ds_valid = _split_datasets(config, Xs, ys, train, np.random.default_rng(seed))
        if budget is not None:
            config = dataclasses.replace(config, **budget(ds_train.sizes.tolist()))
        params = net_params(
            config,
            callbacks=callbacks(ds_valid is not None),
            train_split=None if ds_valid is None else predefined_split(ds_valid),
            loader_rng=np.random.default_rng(seed + 1),
        )
        if net is None:
            module, criterion = build()
            net = net_class(module=module, criterion=criterion, **params).initialize()
        else:
            reconfigure_net(net, params)
        if train:
            net.partial_fit(ds_train)
            if after is not None:
                after(net, ds_train, ds_valid, np.random.default_rng(seed + 2))
        net.train_split = None  # do not keep the validation data in the fitted model
    return net
