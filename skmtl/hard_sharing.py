"""Hard-parameter-sharing networks: a shared encoder and one head per task.

The multi-task model of "On the relationship between disentanglement and multi-task learning"
(Section 3.2.1, Appendix A) and the hard-sharing baseline of the hypernetwork benchmark. The
torch modules live in :mod:`skmtl.nn.hard_sharing`.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from skmtl._batching import TaskDataset
from skmtl._skorch import iter_task_outputs
from skmtl.base import MultiTaskClassifier, MultiTaskRegressor
from skmtl.nn.hard_sharing import _ACTIVATIONS, HardSharingModule
from skmtl.tasks import as_task_inputs

__all__ = ["HardSharingRegressor", "HardSharingClassifier"]

_MODEL_PARAMS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Hidden layers of the shared MLP encoder (tabular inputs; ignored with
        ``image_shape``). ``()`` makes the encoder a single linear layer.
    latent_dim : int, default=10
        Width ``d`` of the shared representation returned by :meth:`transform`.
    head_hidden_sizes : tuple of int, default=(300, 300, 300)
        Hidden layers of every task head; the default is the study's 4-layer head (three
        hidden ReLU layers of 300 and a linear output). ``()`` gives linear heads.
    heads : {"multi", "one", "per_output"}, default="multi"
        ``"multi"``: one head per task (hard parameter sharing). ``"one"``: a single head
        whose ``sum(n_outputs)`` outputs are split among the tasks (multivariate
        regression on a shared network, the study's Figure 4 "one-head" baseline).
        ``"per_output"`` (regressor only): one single-output head per target column, so a
        single task with a 10-column ``y`` is the study's 10-head network with every row
        feeding all heads at once. Single-task training is fitting one task.
    image_shape : tuple (height, width) or None, default=None
        Inputs are flattened images (``images.reshape(n, -1)``, channel first); the encoder
        becomes the study's convolutional encoder (4x4 convolutions, stride 2, ReLU, then a
        dense layer to ``latent_dim``). Inputs are then not standardised (keep pixels in
        [0, 1]).
    n_channels : int, default=1
        Image channels (with ``image_shape``).
    conv_channels : tuple of int or None, default=None
        Output channels of the convolutions; None uses the study's
        ``(32, 32, 64, 128, 256, 256)`` truncated to ``floor(log2(min(h, w)))`` layers.
    activation : {"relu", "tanh", "elu", "gelu"}, default="relu"
    dropout : float, default=0.0
        Dropout after hidden layers of the MLP encoder and of the heads.
    lr : float, default=1e-3
        Adam learning rate (the study: 1e-3, batch 256, 200 epochs).
    max_epochs : int, default=100
    batch_size : int, default=256
    batching, task_sampling, optimizer, weight_decay, validation_fraction, early_stopping, \
n_iter_no_change, callbacks, warm_start, verbose, device, random_state
        Training parameters shared by every skmtl network; see
        :class:`skmtl.base.MultiTaskNetEstimator`.
"""


class _HardSharingMixin:
    """Model parameters, module construction and ``transform`` shared by both estimators."""

    _hs_constraints = {
        "hidden_layer_sizes": ["array-like"],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "head_hidden_sizes": ["array-like"],
        "heads": [StrOptions({"multi", "one", "per_output"})],
        "image_shape": ["array-like", None],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "conv_channels": ["array-like", None],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    @property
    def _scale_inputs(self):
        # pixels keep their [0, 1] range; tabular inputs are standardised per task
        return self.image_shape is None

    def _check_params(self):
        if self.heads == "per_output" and self._task_kind == "classification":
            raise ValueError(
                "heads='per_output' is for regression (one head per target column); a "
                "classifier's outputs are one task's class logits: use heads='multi'"
            )
        for name in ("hidden_layer_sizes", "head_hidden_sizes"):
            sizes = getattr(self, name)
            if not all(isinstance(h, Integral) and h >= 1 for h in sizes):
                raise ValueError(f"{name} must be a sequence of positive ints, got {sizes!r}")
        if self.image_shape is not None:
            shape = tuple(self.image_shape)
            if len(shape) != 2 or not all(isinstance(s, Integral) and s >= 2 for s in shape):
                raise ValueError(
                    f"image_shape must be (height, width) with sizes >= 2, got {self.image_shape!r}"
                )
        if self.conv_channels is not None and not all(
            isinstance(c, Integral) and c >= 1 for c in self.conv_channels
        ):
            raise ValueError(
                f"conv_channels must be a sequence of positive ints, got {self.conv_channels!r}"
            )

    def _build_module(self, spec):
        if self.image_shape is not None:
            h, w = (int(s) for s in self.image_shape)
            expected = int(self.n_channels) * h * w
            for i, (name, k) in enumerate(zip(spec.task_names, spec.n_features)):
                if k != expected:
                    raise ValueError(
                        f"task {i} ({name!r}) has {k} features but image_shape="
                        f"{tuple(self.image_shape)} with n_channels={self.n_channels} needs "
                        f"{expected} (flattened images)"
                    )
        return HardSharingModule(
            n_features=max(spec.n_features),
            n_outputs=spec.n_outputs,
            latent_dim=self.latent_dim,
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            head_hidden_sizes=tuple(self.head_hidden_sizes),
            heads=self.heads,
            image_shape=None if self.image_shape is None else tuple(self.image_shape),
            n_channels=self.n_channels,
            conv_channels=None if self.conv_channels is None else tuple(self.conv_channels),
            activation=self.activation,
            dropout=self.dropout,
        )

    def _on_fitted(self):
        self.latent_dim_ = int(self.module_.latent_dim)

    def transform(self, X, task=None):
        """Shared latent representation (the encoder output) of the inputs.

        Parameters
        ----------
        X : list of array-like, Tasks, or array-like
            One feature matrix per fitted task, in fit order (a single matrix for a
            single-task model) -- as ``predict``. With ``task`` given, a single matrix that is
            encoded as that task's input (its input scaling); convenient when every task
            shares the same inputs.
        task : int, str or None, default=None
            Index or name of the task whose input scaling is used for a single matrix.

        Returns
        -------
        list of ndarray of shape (n_rows_t, latent_dim), or one such array

        Examples
        --------
        >>> import numpy as np
        >>> from skmtl.hard_sharing import HardSharingRegressor
        >>> rng = np.random.default_rng(0); X = rng.normal(size=(60, 4))
        >>> est = HardSharingRegressor(hidden_layer_sizes=(16,), latent_dim=3,
        ...                            head_hidden_sizes=(8,), max_epochs=2, random_state=0)
        >>> est = est.fit([(X, X[:, 0]), (X, X[:, 1] ** 2)])
        >>> [z.shape for z in est.transform([X, X[:5]])]
        [(60, 3), (5, 3)]
        >>> est.transform(X[:7], task=1).shape
        (7, 3)
        """
        if task is None:
            return self._apply_module("encode", X)
        t = self._task_position(task)
        Xs, _ = as_task_inputs(
            X,
            1,
            [self.n_features_per_task_[t]],
            [self.task_names_[t]],
            owner=type(self).__name__,
        )
        x = Xs[0]
        if self._scale_inputs:
            x = (x - self.input_mean_[t]) / self.input_scale_[t]
        ds = TaskDataset([x.astype(np.float32)], None, device=self.net_.device)
        chunks = [
            out
            for _, out, _ in iter_task_outputs(self.net_, ds, max(self.batch_size, 512), "encode")
        ]
        if not chunks:
            return np.zeros((0, self.latent_dim_))
        return np.concatenate([c.numpy() for c in chunks]).astype(np.float64)

    def _task_position(self, task):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if isinstance(task, (Integral, np.integer)) and not isinstance(task, bool):
            if not 0 <= int(task) < self.n_tasks_:
                raise ValueError(
                    f"task={task} is out of range; the model was fitted on {self.n_tasks_} tasks"
                )
            return int(task)
        if task in self.task_names_:
            return self.task_names_.index(task)
        raise ValueError(f"unknown task {task!r}; fitted tasks are {self.task_names_}")


class HardSharingRegressor(_HardSharingMixin, MultiTaskRegressor):
    __doc__ = (
        """Multi-task regression network with hard parameter sharing.

    A shared encoder (an MLP, or a convolutional net for images) maps the inputs to a
    ``latent_dim``-dimensional representation; each task has its own fully connected head
    (``heads="multi"``) or all tasks share one multi-output head (``heads="one"``). This is the
    model of "On the relationship between disentanglement and multi-task learning" and the
    hard-sharing baseline of the hypernetwork benchmark. Every task's targets are
    standardised for training; ``transform`` returns the shared representation.
"""
        + _MODEL_PARAMS_DOC
        + """
    Attributes
    ----------
    latent_dim_ : int
    n_tasks_, task_names_, n_outputs_, net_, module_, history_, ...
        See :class:`skmtl.base.MultiTaskRegressor`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.hard_sharing import HardSharingRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> tasks = [(X, np.sin(X[:, 0])), (X, X[:, 0] * X[:, 1])]
    >>> est = HardSharingRegressor(hidden_layer_sizes=(32,), latent_dim=4,
    ...                            head_hidden_sizes=(16,), max_epochs=5, random_state=0)
    >>> est = est.fit(tasks)
    >>> [p.shape for p in est.predict([X, X])]
    [(200,), (200,)]
    >>> est.transform(X, task=0).shape
    (200, 4)
    """
    )

    _parameter_constraints = {
        **MultiTaskRegressor._parameter_constraints,
        **_HardSharingMixin._hs_constraints,
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 256),
        latent_dim=10,
        head_hidden_sizes=(300, 300, 300),
        heads="multi",
        image_shape=None,
        n_channels=1,
        conv_channels=None,
        activation="relu",
        dropout=0.0,
        *,
        lr=1e-3,
        max_epochs=100,
        batch_size=256,
        batching="task",
        task_sampling="proportional",
        optimizer="adam",
        weight_decay=0.0,
        validation_fraction=0.1,
        early_stopping=True,
        n_iter_no_change=10,
        callbacks=None,
        warm_start=False,
        verbose=0,
        device="cpu",
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.latent_dim = latent_dim
        self.head_hidden_sizes = head_hidden_sizes
        self.heads = heads
        self.image_shape = image_shape
        self.n_channels = n_channels
        self.conv_channels = conv_channels
        self.activation = activation
        self.dropout = dropout
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.batching = batching
        self.task_sampling = task_sampling
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.verbose = verbose
        self.device = device
        self.random_state = random_state


class HardSharingClassifier(_HardSharingMixin, MultiTaskClassifier):
    __doc__ = (
        """Multi-task classification network with hard parameter sharing.

    The classifier twin of :class:`HardSharingRegressor`: shared encoder, one softmax head per
    task (``heads="multi"``) or one shared head whose logits are split among the tasks
    (``heads="one"``, task ``t`` reads its own ``n_classes_t`` columns). Labels of every task
    are encoded separately; ``transform`` returns the shared representation.
"""
        + _MODEL_PARAMS_DOC
        + """
    Attributes
    ----------
    latent_dim_ : int
    classes_, task_classes_, n_tasks_, task_names_, net_, module_, history_, ...
        See :class:`skmtl.base.MultiTaskClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.hard_sharing import HardSharingClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> tasks = [(X, X[:, 0] > 0), (X, np.where(X[:, 1] > 0, "a", "b"))]
    >>> clf = HardSharingClassifier(hidden_layer_sizes=(32,), latent_dim=4,
    ...                             head_hidden_sizes=(), lr=1e-2, max_epochs=30, random_state=0)
    >>> clf = clf.fit(tasks)
    >>> clf.score(tasks) > 0.8
    True
    """
    )

    _parameter_constraints = {
        **MultiTaskClassifier._parameter_constraints,
        **_HardSharingMixin._hs_constraints,
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 256),
        latent_dim=10,
        head_hidden_sizes=(300, 300, 300),
        heads="multi",
        image_shape=None,
        n_channels=1,
        conv_channels=None,
        activation="relu",
        dropout=0.0,
        *,
        lr=1e-3,
        max_epochs=100,
        batch_size=256,
        batching="task",
        task_sampling="proportional",
        optimizer="adam",
        weight_decay=0.0,
        validation_fraction=0.1,
        early_stopping=True,
        n_iter_no_change=10,
        callbacks=None,
        warm_start=False,
        verbose=0,
        device="cpu",
        random_state=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.latent_dim = latent_dim
        self.head_hidden_sizes = head_hidden_sizes
        self.heads = heads
        self.image_shape = image_shape
        self.n_channels = n_channels
        self.conv_channels = conv_channels
        self.activation = activation
        self.dropout = dropout
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.batching = batching
        self.task_sampling = task_sampling
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.verbose = verbose
        self.device = device
        self.random_state = random_state
