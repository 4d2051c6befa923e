"""Hard-parameter-sharing networks: a shared encoder and one head per task.

The multi-task model of "On the relationship between disentanglement and multi-task learning"
(Section 3.2.1, Appendix A) and the hard-sharing baseline of the hypernetwork benchmark. The
torch modules live in :mod:`skmtl.nn.hard_sharing`.
"""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from skmtl.base import (
    LatentTransformerMixin,
    MultiTaskClassifier,
    MultiTaskRegressor,
    training_parameters,
)
from skmtl.nn.hard_sharing import HardSharingModule
from skmtl.nn.mlp import ACTIVATIONS

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
    batching, task_sampling, tasks_per_step, steps_per_epoch, optimizer, weight_decay, \
early_stopping, n_iter_no_change, tol, callbacks, warm_start, verbose, device, random_state
        Training parameters shared by every skmtl network; see
        :class:`skmtl.base.MultiTaskNetEstimator`.
"""


@training_parameters(batch_size=256)
class _HardSharingMixin:
    """Model parameters and module construction shared by both estimators.

    ``transform(X, task=None)`` (the shared latent code) comes from
    :class:`skmtl.base.LatentTransformerMixin`.
    """

    _layer_size_params = ("hidden_layer_sizes", "head_hidden_sizes", "conv_channels")
    _optional_layer_size_params = ("conv_channels",)

    _hs_constraints = {
        "hidden_layer_sizes": ["array-like"],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "head_hidden_sizes": ["array-like"],
        "heads": [StrOptions({"multi", "one", "per_output"})],
        "image_shape": ["array-like", None],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "conv_channels": ["array-like", None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 256),
        *,
        latent_dim=10,
        head_hidden_sizes=(300, 300, 300),
        heads="multi",
        image_shape=None,
        n_channels=1,
        conv_channels=None,
        activation="relu",
        dropout=0.0,
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
        if self.image_shape is not None:
            shape = tuple(self.image_shape)
            if len(shape) != 2 or not all(isinstance(s, Integral) and s >= 2 for s in shape):
                raise ValueError(
                    f"image_shape must be (height, width) with sizes >= 2, got {self.image_shape!r}"
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


class HardSharingRegressor(_HardSharingMixin, LatentTransformerMixin, MultiTaskRegressor):
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


class HardSharingClassifier(_HardSharingMixin, LatentTransformerMixin, MultiTaskClassifier):
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
