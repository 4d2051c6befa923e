"""One network for all tasks: the STL-naive and STL baselines of the hypernetwork paper.

* :class:`SingleNetworkRegressor` — one MLP trained on the pooled rows of every task,
  given no task information (``task_encoding="none"``, the paper's *STL-naive*), a
  one-hot task code (``"onehot"``, *STL* without metadata) or the task's metadata
  appended to the features (``"metadata"``, *STL* with metadata).
* :class:`PooledScalingMixin` — standardise inputs and targets with one mean and
  standard deviation pooled over all tasks (``scaling="pooled"``), as the hypernetwork
  paper's implementation does, instead of the base class's per-task scaling. Per-task
  scaling would centre away a metadata column appended to the features (it is constant
  within a task) and would give every task a different affine change of variables,
  hiding the relation between the metadata and the task functions.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from skmtl._targets import standardise
from skmtl.base import MultiTaskRegressor, training_parameters
from skmtl.nn.hypernet import TaskConditionedMLP
from skmtl.tasks import _validate_X

__all__ = ["PooledScalingMixin", "SingleNetworkRegressor"]


class PooledScalingMixin:
    """Input/target standardisation pooled over tasks (``scaling="pooled"``).

    Mix in before :class:`skmtl.base.MultiTaskRegressor`; the estimator needs a
    ``scaling`` parameter in ``{"pooled", "task"}`` (``"task"`` keeps the base's per-task
    scaling). With ``"pooled"``, ``input_mean_``/``input_scale_`` and
    ``target_mean_``/``target_scale_`` hold the same pooled statistics for every task.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.baselines.pooled import SingleNetworkRegressor
    >>> X = np.linspace(-1, 1, 20)[:, None]
    >>> est = SingleNetworkRegressor(max_epochs=2, random_state=0).fit(
    ...     [(X, X[:, 0]), (X + 2, 3 * X[:, 0])])
    >>> [float(m[0]) for m in est.input_mean_]
    [1.0, 1.0]
    """

    def _callbacks(self, spec, has_valid):
        # Early stopping monitors valid_loss; the per-epoch R^2 pass over the validation
        # rows (valid_score) would double the evaluation cost of these small-data models
        # and is left out of their history.
        return [
            (name, cb) for name, cb in super()._callbacks(spec, has_valid) if name != "valid_score"
        ]

    def _fit_input_scaling(self, Xs):
        if self.scaling == "task":
            return super()._fit_input_scaling(Xs)
        widths = sorted({x.shape[1] for x in Xs})
        if len(widths) > 1:
            raise ValueError(
                f"scaling='pooled' needs every task to share one feature space; the tasks "
                f"have {widths} features. Use scaling='task'."
            )
        self.input_mean_, self.input_scale_ = standardise(Xs, pooled=True)

    def _target_scaling(self, ys):
        if self.scaling == "task":
            return super()._target_scaling(ys)
        return standardise(ys, pooled=True)

    # ---------------------------------------------------------- unseen tasks
    def _new_task_scaling(self, X):
        """Input and target scaling for a task unseen in training.

        ``scaling="pooled"``: the pooled statistics (the model's own frame).
        ``scaling="task"``: the new task's inputs are standardised with their own mean and
        standard deviation (as every training task was) and the targets are mapped back
        with the average of the training tasks' target means and scales.
        """
        if self.scaling == "pooled":
            return (
                self.input_mean_[0],
                self.input_scale_[0],
                self.target_mean_[0],
                self.target_scale_[0],
            )
        mean = X.mean(0)
        std = X.std(0) if len(X) > 1 else np.ones(X.shape[1])
        std = np.where(std > 1e-12, std, 1.0)
        return (
            mean,
            std,
            np.mean(self.target_mean_, axis=0),
            np.mean(self.target_scale_, axis=0),
        )

    def _check_new_task_X(self, X):
        check_is_fitted(self)
        try:  # the same validation as every task at fit
            X, _ = _validate_X(X, 0, None)
        except (TypeError, ValueError) as exc:
            detail = str(exc).split(": ", 1)[-1]  # drop the "task 0" prefix: a new task
            raise type(exc)(f"predict_new_task: {detail}") from None
        widths = set(self.n_features_per_task_)
        if len(widths) != 1 or X.shape[1] != self.n_features_per_task_[0]:
            raise ValueError(
                f"predict_new_task: X has {X.shape[1]} features but the model was fitted on "
                f"tasks with {sorted(widths)} features"
            )
        return X

    def _check_metadata_row(self, metadata_row):
        n_meta = len(self.spec_.metadata_names) if self.spec_.metadata is not None else 0
        try:
            row = np.asarray(metadata_row, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError("predict_new_task: metadata_row must be numeric") from None
        if row.shape[0] != n_meta:
            raise ValueError(
                f"predict_new_task: metadata_row has {row.shape[0]} values but the model was "
                f"fitted with {n_meta} metadata columns {self.spec_.metadata_names}"
            )
        if not np.all(np.isfinite(row)):
            raise ValueError("predict_new_task: metadata_row contains NaN or infinity")
        return row

    def _predict_new(self, X, run):
        """Scale ``X``, call ``run(X_tensor) -> output tensor``, map back to target units."""
        x_mean, x_scale, y_mean, y_scale = self._new_task_scaling(X)
        Xs = torch.as_tensor(((X - x_mean) / x_scale).astype(np.float32), device=self.net_.device)
        module = self.module_
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                out = run(Xs)
        finally:
            module.train(was_training)
        pred = out[:, : self.n_outputs_].cpu().numpy().astype(np.float64) * y_scale + y_mean
        return pred.ravel() if self.target_1d_ else pred


#: training defaults of the hypernetwork paper's models (documented in _TRAINING_DOC)
PAPER_TRAINING = dict(
    max_epochs=2000, batch_size=64, batching="mixed", validation_fraction=0.25, n_iter_no_change=100
)

_TRAINING_DOC = """
    lr : float, default=1e-3
        Adam learning rate (the paper's largest grid value).
    max_epochs : int, default=2000
        The paper's cap; early stopping ends training long before on small data.
    batch_size : int, default=64
        The paper's random batches of 64 rows.
    batching : {"task", "mixed"}, default="mixed"
        ``"mixed"`` draws batches from the pooled rows of all tasks, as the paper.
    validation_fraction : float, default=0.25
        Share of every task's rows for early stopping (the paper's 60/20 train/validation
        split of the non-test rows).
    n_iter_no_change : int, default=100
        Early-stopping patience in epochs (the best weights are restored).
    task_sampling, tasks_per_step, steps_per_epoch, optimizer, weight_decay, early_stopping, tol, \
callbacks, warm_start, verbose, device, random_state
        Training parameters shared by every skmtl network; see
        :class:`skmtl.base.MultiTaskNetEstimator`.
"""


@training_parameters(**PAPER_TRAINING)
class SingleNetworkRegressor(PooledScalingMixin, MultiTaskRegressor):
    __doc__ = (
        """One fully connected network for all tasks (STL-naive / STL baselines).

    The single-task-learning baselines of "Multi-Task Learning with Hypernetworks and
    Task Metadata" (Section 3): one network on the pooled rows of every task, with the
    same capacity as the hypernetwork's target network (three ReLU layers of 32).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(32, 32, 32)
        Hidden ReLU layers.
    task_encoding : {"none", "onehot", "metadata"}, default="none"
        ``"none"``: no task information (STL-naive); ``"onehot"``: a one-hot task code
        appended to the features (STL without metadata); ``"metadata"``: the task's
        standardised metadata appended to the features (STL with metadata; needs
        ``metadata`` at fit).
    scaling : {"pooled", "task"}, default="pooled"
        Standardise inputs and targets with statistics pooled over all tasks, or per
        task (see :class:`PooledScalingMixin`)."""
        + _TRAINING_DOC
        + """
    Attributes
    ----------
    n_tasks_, task_names_, n_outputs_, input_mean_, input_scale_, target_mean_, \
target_scale_, net_, module_, history_
        See :class:`skmtl.base.MultiTaskRegressor`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.baselines.pooled import SingleNetworkRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(40, 1))
    >>> tasks = [(X, X[:, 0] + 1.0), (X, X[:, 0] - 1.0)]
    >>> est = SingleNetworkRegressor(task_encoding="onehot", lr=1e-2, max_epochs=100,
    ...                              validation_fraction=0.0, random_state=0).fit(tasks)
    >>> est.score(tasks) > 0.9
    True
    """
    )

    _parameter_constraints = {
        **MultiTaskRegressor._parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "task_encoding": [StrOptions({"none", "onehot", "metadata"})],
        "scaling": [StrOptions({"pooled", "task"})],
    }
    _layer_size_params = ("hidden_layer_sizes",)

    def __init__(
        self,
        hidden_layer_sizes=(32, 32, 32),
        *,
        task_encoding="none",
        scaling="pooled",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.task_encoding = task_encoding
        self.scaling = scaling

    @property
    def _uses_metadata(self):
        return self.task_encoding == "metadata"

    def _build_module(self, spec):
        if self.task_encoding == "metadata" and spec.metadata is None:
            raise ValueError(
                "task_encoding='metadata' needs task metadata: pass metadata=... to fit"
            )
        return TaskConditionedMLP(
            n_features=max(spec.n_features),
            n_outputs=max(spec.n_outputs),
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            task_encoding=self.task_encoding,
            n_tasks=spec.n_tasks,
            metadata=spec.metadata if self.task_encoding == "metadata" else None,
        )

    def predict_new_task(self, X, metadata_row=None):
        """Predict a task never seen in training.

        ``task_encoding="metadata"`` uses the new task's metadata; ``"none"`` predicts the
        pooled function; a one-hot model cannot describe a new task (ValueError).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
        metadata_row : array-like of shape (n_metadata,), optional
            Raw metadata of the new task (``task_encoding="metadata"``).

        Returns
        -------
        ndarray of shape (n_rows,) or (n_rows, n_outputs)
        """
        X = self._check_new_task_X(X)
        if self.task_encoding == "onehot":
            raise ValueError(
                "predict_new_task: a one-hot task code cannot describe a task unseen in "
                "training; use task_encoding='metadata' or 'none'"
            )
        row = self._check_metadata_row(metadata_row) if self.task_encoding == "metadata" else None
        return self._predict_new(X, lambda x: self.module_.forward_new(x, row))
