"""Data-parallel training of the neural estimators through Hugging Face ``accelerate``.

skorch's :class:`~skorch.hf.AccelerateMixin` does the accelerate side (the module is
wrapped in ``DistributedDataParallel``, gradients are averaged across processes, mixed
precision and gradient accumulation follow the ``Accelerator``). This module adds what
task batches need:

* **sharding**: every process builds the same seeded sequence of task batches and
  takes every N-th one (:class:`ShardedBatches`), so at every step the N processes train
  on N different batches and all take the same number of steps;
* **no sharding of validation**: every process scores every validation row, so
  ``valid_loss``, per-task model selection and early stopping agree across processes
  without any communication;
* **history gathered**: after every epoch each training step's record becomes that
  step's over all processes (rows, mean loss), so ``train_loss`` is the mean over
  every row trained and every process holds the same history.

Launch a script that fits an ``Accelerated...`` estimator with
``accelerate launch --num_processes N script.py`` (``--cpu`` for CPU processes with the
gloo backend) or ``python -m torch.distributed.run --nproc_per_node N script.py``; see
``docs/scaling.md``. Needs the ``distributed`` extra (``pip install "skmtl[distributed]"``).
"""

from __future__ import annotations

import functools
import inspect
from numbers import Integral

import torch
from skorch.callbacks import LRScheduler
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

from skmtl._skorch import TaskNet
from skmtl.baselines.pooled import SingleNetworkRegressor
from skmtl.hard_sharing import HardSharingClassifier, HardSharingRegressor
from skmtl.hib import HierarchicalIBClassifier, HierarchicalIBRegressor
from skmtl.hypernet import MultiTaskHypernetRegressor
from skmtl.sve import SharedVariableEmbeddingClassifier

try:
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs
    from skorch.hf import AccelerateMixin
except ImportError:  # pragma: no cover - the extra is missing
    Accelerator = DistributedDataParallelKwargs = None

    class AccelerateMixin:  # a placeholder base, so that this module imports
        pass


__all__ = [
    "AcceleratedMixin",
    "AcceleratedTaskNet",
    "ShardedBatches",
    "default_accelerator",
    "AcceleratedSharedVariableEmbeddingClassifier",
    "AcceleratedHierarchicalIBClassifier",
    "AcceleratedHierarchicalIBRegressor",
    "AcceleratedMultiTaskHypernetRegressor",
    "AcceleratedHardSharingClassifier",
    "AcceleratedHardSharingRegressor",
    "AcceleratedSingleNetworkRegressor",
]

_DDP_PREFIX = "module."


def _require_accelerate():
    if Accelerator is None:
        raise ImportError(
            "skmtl.distributed needs Hugging Face accelerate: "
            'pip install "skmtl[distributed]" (or pip install accelerate).'
        )


def default_accelerator(device="cpu"):
    """The ``Accelerator`` an accelerated estimator uses when given none.

    Parameters
    ----------
    device : str, default="cpu"
        The estimator's ``device``: ``"cpu"`` keeps every process on the CPU (gloo
        backend); ``"cuda"`` uses the GPU that ``accelerate`` assigns to the process.

    Returns
    -------
    accelerate.Accelerator
        With ``find_unused_parameters=True`` for ``DistributedDataParallel``: a step
        trains the parameters of the tasks in its batch only (their embeddings,
        heads or generated networks), so most parameters get no gradient in a step.

    Examples
    --------
    >>> acc = default_accelerator("cpu")
    >>> acc.device.type, acc.ddp_handler.find_unused_parameters
    ('cpu', True)
    """
    _require_accelerate()
    return Accelerator(
        cpu=torch.device(device).type == "cpu",
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )


class ShardedBatches:
    """Every ``num_processes``-th batch of a batch iterator, from ``process_index`` on.

    All processes iterate over the same (same-seeded) sequence; process ``r`` keeps the
    batches ``r, r + N, r + 2N, ...`` of the first ``N * (len(batches) // N)``, so the
    processes see disjoint batches and take the same number of steps (a remainder of
    fewer than N batches is left out of the epoch). The skipped batches are still
    drawn (the sequence must advance identically everywhere), not trained on.

    Parameters
    ----------
    batches : iterable with ``len``
        The single-process training iterator (skmtl's task batch loader).
    process_index, num_processes : int

    Examples
    --------
    >>> list(ShardedBatches(range(7), 1, 3)), len(ShardedBatches(range(7), 1, 3))
    ([1, 4], 2)
    """

    def __init__(self, batches, process_index, num_processes):
        self.batches = batches
        self.process_index = int(process_index)
        self.num_processes = int(num_processes)

    def __len__(self):
        return len(self.batches) // self.num_processes

    def __iter__(self):
        n, r = self.num_processes, self.process_index
        end = len(self) * n
        for step, batch in enumerate(self.batches):
            if step >= end:
                return
            if step % n == r:
                yield batch


def _strip_ddp_prefix(module, state_dict, prefix, local_metadata):
    """State-dict hook: a wrapped module's keys read as the unwrapped module's."""
    consume_prefix_in_state_dict_if_present(state_dict, prefix + _DDP_PREFIX)


def _add_ddp_prefix(module, state_dict, prefix, *args):
    """Load hook: unwrapped keys load into the wrapped module."""
    for key in [k for k in state_dict if not k.startswith(prefix + _DDP_PREFIX)]:
        if key.startswith(prefix):
            state_dict[prefix + _DDP_PREFIX + key[len(prefix) :]] = state_dict.pop(key)


class AcceleratedTaskNet(AccelerateMixin, TaskNet):
    """skmtl's task net trained through skorch's ``AccelerateMixin``.

    Differences from the mixin alone: training batches are sharded across processes
    (:class:`ShardedBatches`); validation runs unsharded on every process (so its
    outputs are not gathered); after every epoch the training batches' records (loss,
    rows) are summed over the processes, so the history is the same everywhere; a
    module wrapped in ``DistributedDataParallel`` reads and loads state dicts without
    the ``module.`` prefix, so best-weight snapshots (early stopping, per-task
    selection) fit the unwrapped module after training; a criterion without trainable
    parameters is not wrapped. The data and the module stay on the estimator's
    ``device``, which must be the accelerator's kind of device.

    Examples
    --------
    >>> issubclass(AcceleratedTaskNet, TaskNet)
    True
    """

    # skorch's AccelerateMixin has no public hooks for the three changes below (device
    # check, callbacks without print_log, leaving a parameter-free criterion unwrapped), so
    # these override its private methods and read its registries (_modules, _criteria,
    # _optimizers) as the mixin itself does; tests/test_distributed.py runs them, so a
    # skorch upgrade that changes them fails there.
    def _validate_params(self):
        # skip the mixin's "device must be None": skmtl places the data on ``device``
        super(AccelerateMixin, self)._validate_params()
        kind = torch.device(self.device).type
        if kind != self.accelerator.device.type:
            raise ValueError(
                f"device={self.device!r} but the accelerator runs on "
                f"{self.accelerator.device}; give the estimator the accelerator's kind of "
                f"device (device={self.accelerator.device.type!r})."
            )

    def _initialize_callbacks(self):
        if getattr(self, "callbacks__print_log", "on") is None:
            # printing is off: skorch refuses the mixin's print sink for a removed callback
            vars(self).pop("callbacks__print_log__sink", None)
            return super(AccelerateMixin, self)._initialize_callbacks()
        return super()._initialize_callbacks()

    def _initialize_accelerator(self):
        # the mixin's, except that a criterion (or module) without trainable parameters
        # is left alone: DistributedDataParallel refuses one on several CPU processes
        if self._wrapped_with_accelerator:
            return self
        for kind, names in (("criterion", self._criteria), ("module", self._modules)):
            with self._current_init_context(kind):
                for name in names:
                    module = getattr(self, name + "_")
                    if isinstance(module, torch.nn.Module) and any(
                        p.requires_grad for p in module.parameters()
                    ):
                        setattr(self, name + "_", self._prepare_module(module))
        with self._current_init_context("optimizer"):
            for name in self._optimizers:
                optimizer = getattr(self, name + "_")
                if isinstance(optimizer, torch.optim.Optimizer):
                    setattr(self, name + "_", self.accelerator.prepare(optimizer))
        for _, callback in self.callbacks_:
            if isinstance(callback, LRScheduler):
                callback.policy_ = self.accelerator.prepare(callback.policy_)
        self._wrapped_with_accelerator = True
        return self

    def _prepare_module(self, module):
        prepared = self.accelerator.prepare(module)
        if isinstance(prepared, torch.nn.parallel.DistributedDataParallel):
            prepared._register_state_dict_hook(_strip_ddp_prefix)
            prepared._register_load_state_dict_pre_hook(_add_ddp_prefix)
        return prepared

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self._initialize_accelerator()  # a warm start continues a module unwrapped after fit
        return super().on_train_begin(net, X=X, y=y, **kwargs)

    def get_iterator(self, dataset, training=False):
        iterator = super(AccelerateMixin, self).get_iterator(dataset, training=training)
        n = self.accelerator.num_processes
        if not training or n == 1:
            return iterator
        if len(iterator) < n:
            raise ValueError(
                f"an epoch has {len(iterator)} training batch(es), fewer than the "
                f"{n} processes; lower batch_size or raise steps_per_epoch."
            )
        return ShardedBatches(iterator, self.accelerator.process_index, n)

    def evaluation_step(self, batch, training=False):
        # validation is not sharded: every process already has every output
        return super(AccelerateMixin, self).evaluation_step(batch, training=training)

    def on_epoch_end(self, net, **kwargs):
        # runs before the callbacks: make every training batch record the step over all
        # processes (rows and mean loss), so skorch's epoch ``train_loss`` is the mean
        # over every row trained and every process records the same history
        n = self.accelerator.num_processes
        batches = [b for b in self.history[-1]["batches"] if "train_loss" in b]
        if n == 1 or not batches:
            return
        sizes = torch.tensor([float(b["train_batch_size"]) for b in batches])
        totals = torch.tensor([b["train_loss"] for b in batches], dtype=torch.float64) * sizes
        local = torch.stack([sizes.double(), totals]).to(self.accelerator.device)
        sums = self.accelerator.reduce(local, reduction="sum").cpu()  # NCCL needs a GPU tensor
        for b, size, total in zip(batches, sums[0].tolist(), sums[1].tolist()):
            b["train_batch_size"] = int(size)
            b["train_loss"] = total / size


class AcceleratedMixin:
    """Train a neural skmtl estimator data-parallel through Hugging Face ``accelerate``.

    Mixed in before an estimator class (as skorch's ``AccelerateMixin`` before a net)::

        class AcceleratedHIB(AcceleratedMixin, HierarchicalIBClassifier):
            pass

    The class gains one keyword parameter, ``accelerator``, and trains with
    :class:`AcceleratedTaskNet`; ready-made classes exist for every skmtl neural
    estimator (``AcceleratedSharedVariableEmbeddingClassifier`` etc.). Launched in N
    processes, each process trains on different task batches, all processes agree on
    validation, per-task selection and early stopping, and each ends with the same
    fitted model (predict on any of them, or save it from the main process).

    Parameters
    ----------
    accelerator : accelerate.Accelerator or None, default=None
        None: :func:`default_accelerator` for the estimator's ``device``. One given
        must set ``DistributedDataParallelKwargs(find_unused_parameters=True)`` when
        several processes train (see :func:`default_accelerator`).

    Notes
    -----
    With several processes ``random_state`` must be an int: every process must draw
    the same validation split and batch sequence. A fitted accelerated estimator
    cannot be pickled (skorch: nets with an accelerator cannot be); save its weights
    with ``save_params`` and load them into the plain estimator, or into an accelerated
    one, after ``initialize``. ``n_steps_`` counts one process's steps.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> tasks = [(X, X[:, 0] > 0), (X, X[:, 1] > 0)]
    >>> clf = AcceleratedHardSharingClassifier(max_epochs=2, random_state=0).fit(tasks)
    >>> clf.net_.accelerator.num_processes, len(clf.predict([X, X]))
    (1, 2)
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        base_init = next(
            k.__dict__["__init__"]
            for k in cls.__mro__[1:]
            if "__init__" in k.__dict__ and k is not AcceleratedMixin
        )
        signature = inspect.signature(base_init)
        if "accelerator" in signature.parameters:
            return
        extra = inspect.Parameter("accelerator", inspect.Parameter.KEYWORD_ONLY, default=None)

        @functools.wraps(base_init)
        def __init__(self, *args, accelerator=None, **params):
            base_init(self, *args, **params)
            self.accelerator = accelerator

        __init__.__signature__ = signature.replace(
            parameters=[*signature.parameters.values(), extra]
        )
        cls.__init__ = __init__

    @property
    def _net_class(self):
        return functools.partial(AcceleratedTaskNet, accelerator=self._fit_accelerator())

    def _fit_accelerator(self):
        """The accelerator of this fit, checked against the estimator's parameters."""
        _require_accelerate()
        acc = default_accelerator(self.device) if self.accelerator is None else self.accelerator
        if not isinstance(acc, Accelerator):
            raise TypeError(f"accelerator must be an accelerate.Accelerator or None, got {acc!r}.")
        if acc.num_processes > 1:
            if not isinstance(self.random_state, Integral):
                raise ValueError(
                    f"{type(self).__name__} trains in {acc.num_processes} processes: "
                    "random_state must be an int, so that every process draws the same "
                    f"validation split and batch sequence (got {self.random_state!r})."
                )
            handler = acc.ddp_handler
            if handler is None or not handler.find_unused_parameters:
                raise ValueError(
                    "the accelerator must set DistributedDataParallelKwargs("
                    "find_unused_parameters=True): a step trains only the parameters of "
                    "the tasks in its batch (see skmtl.distributed.default_accelerator)."
                )
        return acc

    def __getstate__(self):
        if getattr(self, "net_", None) is not None:
            raise TypeError(
                f"a fitted {type(self).__name__} cannot be pickled (skorch's accelerated "
                "nets hold the accelerator); use save_params(f_params=...) and load the "
                "weights into the plain estimator after initialize(tasks)."
            )
        return super().__getstate__()


class AcceleratedSharedVariableEmbeddingClassifier(
    AcceleratedMixin, SharedVariableEmbeddingClassifier
):
    """:class:`~skmtl.sve.SharedVariableEmbeddingClassifier` trained through accelerate.

    Parameters: the estimator's and ``accelerator`` (see :class:`AcceleratedMixin`).

    Examples
    --------
    >>> AcceleratedSharedVariableEmbeddingClassifier(n_shared=4).get_params()["accelerator"]
    """


class AcceleratedHierarchicalIBClassifier(AcceleratedMixin, HierarchicalIBClassifier):
    """:class:`~skmtl.hib.HierarchicalIBClassifier` trained through accelerate.

    Examples
    --------
    >>> "accelerator" in AcceleratedHierarchicalIBClassifier().get_params()
    True
    """


class AcceleratedHierarchicalIBRegressor(AcceleratedMixin, HierarchicalIBRegressor):
    """:class:`~skmtl.hib.HierarchicalIBRegressor` trained through accelerate.

    Examples
    --------
    >>> AcceleratedHierarchicalIBRegressor(latent_dim=2).latent_dim
    2
    """


class AcceleratedMultiTaskHypernetRegressor(AcceleratedMixin, MultiTaskHypernetRegressor):
    """:class:`~skmtl.hypernet.MultiTaskHypernetRegressor` trained through accelerate.

    Examples
    --------
    >>> AcceleratedMultiTaskHypernetRegressor(embedding_dim=2).embedding_dim
    2
    """


class AcceleratedHardSharingClassifier(AcceleratedMixin, HardSharingClassifier):
    """:class:`~skmtl.hard_sharing.HardSharingClassifier` trained through accelerate.

    Examples
    --------
    >>> AcceleratedHardSharingClassifier(latent_dim=2).latent_dim
    2
    """


class AcceleratedHardSharingRegressor(AcceleratedMixin, HardSharingRegressor):
    """:class:`~skmtl.hard_sharing.HardSharingRegressor` trained through accelerate.

    Examples
    --------
    >>> AcceleratedHardSharingRegressor(latent_dim=2).latent_dim
    2
    """


class AcceleratedSingleNetworkRegressor(AcceleratedMixin, SingleNetworkRegressor):
    """:class:`~skmtl.baselines.SingleNetworkRegressor` trained through accelerate.

    Examples
    --------
    >>> AcceleratedSingleNetworkRegressor(task_encoding="onehot").task_encoding
    'onehot'
    """
