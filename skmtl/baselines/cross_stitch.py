"""Cross-stitch and sluice network regressors: the hypernetwork paper's soft-sharing baselines.

* :class:`CrossStitchRegressor` — one MLP per task, activations mixed across tasks after
  every hidden layer (Misra et al., 2016).
* :class:`SluiceRegressor` — the same with two subspaces per layer, a learned combination
  of all hidden layers for the output layer and a subspace orthogonality penalty
  (Ruder et al., 2019).

Both take optional task metadata, appended to every row's inputs as the hypernetwork
paper does for its baselines. The torch model is :class:`skmtl.nn.cross_stitch.CrossStitchNetwork`.
"""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from skmtl.base import MultiTaskRegressor, training_parameters
from skmtl.baselines.pooled import _TRAINING_DOC, PAPER_TRAINING, PooledScalingMixin
from skmtl.nn.cross_stitch import CrossStitchNetwork

__all__ = ["CrossStitchRegressor", "SluiceRegressor"]

_INITS = StrOptions({"balanced", "imbalanced"})


class _StitchMixin:
    """Module construction shared by the cross-stitch and sluice regressors."""

    _uses_metadata = True
    _require_same_n_features = True
    #: (n_subspaces, layer_stitch) of the network family
    _family = (1, False)
    _layer_size_params = _nonempty_layer_size_params = ("hidden_layer_sizes",)

    def _stitch_options(self):
        return {}

    def _build_module(self, spec):
        n_subspaces, layer_stitch = self._family
        return CrossStitchNetwork(
            n_tasks=spec.n_tasks,
            n_features=max(spec.n_features),
            n_outputs=max(spec.n_outputs),
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            n_subspaces=n_subspaces,
            alpha_init=self.alpha_init,
            layer_stitch=layer_stitch,
            metadata=spec.metadata,
            **self._stitch_options(),
        )

    def _on_fitted(self):
        self.stitch_matrices_ = [
            a.detach().cpu().double().numpy() for a in self.module_.stitch_matrices()
        ]


_ATTRIBUTES_DOC = """
    Attributes
    ----------
    stitch_matrices_ : list of ndarray of shape (n_units, n_units)
        The learned mixing of every hidden layer (rows sum to one; unit ``k`` is task
        ``k // n_subspaces``, subspace ``k % n_subspaces``).
    n_tasks_, task_names_, n_outputs_, input_mean_, input_scale_, target_mean_, \
target_scale_, net_, module_, history_
        See :class:`skmtl.base.MultiTaskRegressor`.
"""


def _class_doc(summary, parameters, example):
    """A stitch regressor's docstring: summary, its own parameters, then the shared
    ``scaling``, training and attribute sections and the example."""
    return (
        summary
        + """
    Parameters
    ----------"""
        + parameters
        + """
    scaling : {"pooled", "task"}, default="pooled"
        See :class:`skmtl.baselines.pooled.PooledScalingMixin`."""
        + _TRAINING_DOC
        + _ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(40, 1))
    >>> tasks = [(X, X[:, 0] + 1.0), (X, X[:, 0] - 1.0)]"""
        + example
    )


@training_parameters(**PAPER_TRAINING)
class CrossStitchRegressor(_StitchMixin, PooledScalingMixin, MultiTaskRegressor):
    __doc__ = _class_doc(
        """Cross-stitch network regressor (one MLP per task, stitched between layers).

    Every task has its own fully connected network (by default the hypernetwork paper's
    capacity: three ReLU layers of 32); after every hidden layer each task's activations
    are replaced by a learned convex combination of all tasks' activations. Task
    metadata given to ``fit`` is standardised and appended to every row's inputs.
""",
        """
    hidden_layer_sizes : tuple of int, default=(32, 32, 32)
        Hidden ReLU layers of every task's network.
    alpha_init : {"balanced", "imbalanced"}, default="balanced"
        Initial stitch weights: all equal (the paper's fixed choice for cross-stitch), or
        0.9 to the task itself and the rest shared.""",
        """
    >>> from skmtl.baselines import CrossStitchRegressor
    >>> est = CrossStitchRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    >>> [p.shape for p in est.fit(tasks).predict([X, X])]
    [(40,), (40,)]
    """,
    )

    _parameter_constraints = {
        **MultiTaskRegressor._parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "alpha_init": [_INITS],
        "scaling": [StrOptions({"pooled", "task"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(32, 32, 32),
        *,
        alpha_init="balanced",
        scaling="pooled",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha_init = alpha_init
        self.scaling = scaling


@training_parameters(**PAPER_TRAINING)
class SluiceRegressor(_StitchMixin, PooledScalingMixin, MultiTaskRegressor):
    __doc__ = _class_doc(
        """Sluice network regressor (cross-stitch with subspaces and layer stitching).

    As :class:`CrossStitchRegressor`, with every hidden layer split into two subspaces
    mixed separately across tasks, an output layer fed a learned convex combination
    (``beta``) of all hidden layers, and a penalty ``orthogonal_penalty * sum_layers
    mean_tasks ||W_1^T W_2||_F^2`` pushing the two subspaces apart (the paper's fixed
    choices: two subspaces, ``beta`` imbalanced).
""",
        """
    hidden_layer_sizes : tuple of int, default=(32, 32, 32)
        Hidden ReLU layers (one width, even).
    alpha_init : {"balanced", "imbalanced"}, default="imbalanced"
        Initial stitch weights (the paper tunes it).
    orthogonal_penalty : float, default=0.01
        Weight of the subspace orthogonality penalty (the paper tunes it over
        ``10^{0, -1, -2, -3, -4}``).""",
        """
    >>> from skmtl.baselines import SluiceRegressor
    >>> est = SluiceRegressor(hidden_layer_sizes=(8, 8), max_epochs=3, random_state=0)
    >>> est.fit(tasks).stitch_matrices_[0].shape
    (4, 4)
    """,
    )

    _parameter_constraints = {
        **MultiTaskRegressor._parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "alpha_init": [_INITS],
        "orthogonal_penalty": [Interval(Real, 0, None, closed="left")],
        "scaling": [StrOptions({"pooled", "task"})],
    }
    _family = (2, True)

    def __init__(
        self,
        hidden_layer_sizes=(32, 32, 32),
        *,
        alpha_init="imbalanced",
        orthogonal_penalty=0.01,
        scaling="pooled",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha_init = alpha_init
        self.orthogonal_penalty = orthogonal_penalty
        self.scaling = scaling

    def _check_params(self):
        super()._check_params()
        sizes = tuple(self.hidden_layer_sizes)
        if len(set(sizes)) > 1 or sizes[0] % 2:
            raise ValueError(
                "a sluice network needs hidden layers of one even width (two subspaces, "
                f"layer stitching), got hidden_layer_sizes={sizes!r}"
            )

    def _stitch_options(self):
        return {"beta_init": "imbalanced", "orthogonal_penalty": self.orthogonal_penalty}
