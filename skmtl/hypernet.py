"""Multi-Task Hypernetworks: per-task networks generated from task embeddings and metadata.

The estimator of "Multi-Task Learning with Hypernetworks and Task Metadata". The torch
model lives in :mod:`skmtl.nn.hypernet`.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions

from skmtl.base import MultiTaskRegressor, training_parameters
from skmtl.baselines.pooled import _TRAINING_DOC, PAPER_TRAINING, PooledScalingMixin
from skmtl.nn.hypernet import MultiTaskHypernetwork

__all__ = ["MultiTaskHypernetRegressor"]


@training_parameters(**PAPER_TRAINING)
class MultiTaskHypernetRegressor(PooledScalingMixin, MultiTaskRegressor):
    __doc__ = (
        """Multi-Task Hypernetwork regressor (optionally driven by task metadata).

    Tasks of different widths (numbers of columns) get a per-task input layer (a
    task-specific linear map into one shared width, then the generated network; not in
    the paper; ``input_layer``); such a model cannot generate a network for a new task
    (``predict_new_task``).

    A shared hypernetwork maps each task's learned embedding ``e_t`` (``embedding_dim``
    values, the only task-specific parameters), concatenated with the task's frozen,
    standardised metadata ``m_t`` when ``metadata`` is given to ``fit``, through a
    feature extractor of ``hyper_layers`` ReLU layers to the weights and biases of the
    task's own fully connected target network. The weight generator uses the paper's
    compressed tensors ``W_ijk = W^A_ij W^B_ik W^C_jk`` (Section 2.1). All tasks'
    networks are generated and evaluated in one batched pass.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(32, 32, 32)
        Hidden ReLU layers of every generated target network.
    embedding_dim : int, default=10
        Size ``d_e`` of the task embeddings (initialised ``U(-sqrt(3), sqrt(3))``, i.e.
        variance 1, with the same draw for every task).
    hyper_layers : int, default=1
        Depth ``l_h`` of the hypernetwork feature extractor (0: none).
    hyper_width : int, default=32
        Width ``d_h`` of the feature extractor layers.
    compress : bool, default=True
        Compressed weight generator; False learns full ``d_h x d_in* x d_out`` tensors
        (the paper's "without compression" ablation).
    use_embeddings : bool, default=True
        False feeds the metadata alone (the "without embeddings" ablation; needs
        metadata).
    scaling : {"pooled", "task"}, default="pooled"
        Standardise inputs and targets with statistics pooled over all tasks (as the
        paper's implementation; keeps the metadata-to-function relation intact), or per
        task. See :class:`skmtl.baselines.pooled.PooledScalingMixin`. Tasks of different
        widths have no common columns to pool: their inputs are then standardised per
        task (targets still pooled).
    input_layer : {"auto", "per_task", "shared"}, default="auto"
        ``"per_task"``: every task's rows first pass through the task's own linear layer
        (``n_features_t -> input_layer_dim``), then through the generated target network.
        ``"shared"``: the paper's model, every task in one feature space (tasks of
        different widths are refused). ``"auto"``: ``"per_task"`` when the tasks differ
        in width, else ``"shared"`` (equal widths fit exactly as before).
    input_layer_dim : int or None, default=None
        Output width of the per-task input layers (``None``: the widest task's width)."""
        + _TRAINING_DOC
        + """
    Attributes
    ----------
    input_layer_ : {"shared", "per_task"}
        The input layer fitted (``input_layer`` with ``"auto"`` resolved), as in
        :class:`~skmtl.HierarchicalIBClassifier`.
    task_embeddings_ : ndarray of shape (n_tasks, embedding_dim)
        The learned task embeddings (``(n_tasks, 0)`` with ``use_embeddings=False``).
    metadata_scaler_ : sklearn.preprocessing.StandardScaler or None
        The (fitted) standardisation of the metadata fed to the hypernetwork.
    metadata_names_ : list of str
        Metadata columns used (empty without metadata).
    n_parameters_ : int
        Trainable parameters (matches
        :func:`skmtl.nn.hypernet.hypernet_parameter_count` for a shared input space; per-task
        input layers add ``sum_t (n_features_t + 1) * input_layer_dim``)
    n_tasks_, task_names_, n_outputs_, input_mean_, input_scale_, target_mean_, \
target_scale_, net_, module_, history_
        See :class:`skmtl.base.MultiTaskRegressor`.

    Examples
    --------
    >>> from skmtl.datasets.synthetic import make_cubic_tasks
    >>> from skmtl.hypernet import MultiTaskHypernetRegressor
    >>> tasks, meta = make_cubic_tasks(n_tasks=8, n_samples=30, random_state=0)
    >>> est = MultiTaskHypernetRegressor(max_epochs=20, random_state=0)
    >>> est = est.fit(tasks, metadata=meta)
    >>> est.task_embeddings_.shape, len(est.predict([X for X, _ in tasks]))
    ((8, 10), 8)
    >>> est.predict_new_task(tasks[0][0][:3], meta.iloc[0]).shape
    (3,)
    """
    )

    _parameter_constraints = {
        **MultiTaskRegressor._parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "embedding_dim": [Interval(Integral, 0, None, closed="left")],
        "hyper_layers": [Interval(Integral, 0, None, closed="left")],
        "hyper_width": [Interval(Integral, 1, None, closed="left")],
        "compress": ["boolean"],
        "use_embeddings": ["boolean"],
        "scaling": [StrOptions({"pooled", "task"})],
        "input_layer": [StrOptions({"auto", "per_task", "shared"})],
        "input_layer_dim": [Interval(Integral, 1, None, closed="left"), None],
    }

    _uses_metadata = True
    _layer_size_params = ("hidden_layer_sizes",)

    def __init__(
        self,
        hidden_layer_sizes=(32, 32, 32),
        *,
        embedding_dim=10,
        hyper_layers=1,
        hyper_width=32,
        compress=True,
        use_embeddings=True,
        scaling="pooled",
        input_layer="auto",
        input_layer_dim=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.embedding_dim = embedding_dim
        self.hyper_layers = hyper_layers
        self.hyper_width = hyper_width
        self.compress = compress
        self.use_embeddings = use_embeddings
        self.scaling = scaling
        self.input_layer = input_layer
        self.input_layer_dim = input_layer_dim

    @property
    def _require_same_n_features(self):  # read by the base class's fit-time check
        return self.input_layer == "shared"

    def _per_task_inputs(self, widths):
        return self.input_layer == "per_task" or len(set(widths)) > 1

    def _fit_input_scaling(self, Xs):
        if self.scaling == "pooled" and self._per_task_inputs([x.shape[1] for x in Xs]):
            # no common columns to pool over: standardise every task's inputs on its own
            return super(PooledScalingMixin, self)._fit_input_scaling(Xs)
        return super()._fit_input_scaling(Xs)

    def _check_params(self):
        if self.use_embeddings and self.embedding_dim == 0:
            raise ValueError(
                "embedding_dim=0 leaves no task embeddings; set use_embeddings=False for "
                "the metadata-only model"
            )

    def _build_module(self, spec):
        if not self.use_embeddings and spec.metadata is None:
            raise ValueError(
                "use_embeddings=False builds the hypernetwork input from task metadata "
                "only: pass metadata=... to fit"
            )
        per_task = self._per_task_inputs(spec.n_features)
        return MultiTaskHypernetwork(
            n_tasks=spec.n_tasks,
            n_features=max(spec.n_features),
            n_outputs=max(spec.n_outputs),
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            embedding_dim=self.embedding_dim if self.use_embeddings else 0,
            hyper_layers=self.hyper_layers,
            hyper_width=self.hyper_width,
            compress=self.compress,
            metadata=spec.metadata,
            use_embeddings=self.use_embeddings,
            task_input_widths=list(spec.n_features) if per_task else None,
            input_layer_dim=self.input_layer_dim,
        )

    def _eval_batch_size(self):
        # a row costs a few (d x 32) products with weights generated once per pass
        return max(self.batch_size, 4096)

    def _on_fitted(self):
        module = self.module_
        self.input_layer_ = "shared" if module.task_input_widths is None else "per_task"
        if module.task_embeddings is None:
            self.task_embeddings_ = np.zeros((self.n_tasks_, 0))
        else:
            self.task_embeddings_ = module.task_embeddings.detach().cpu().double().numpy().copy()
        if module.metadata is None:
            self.metadata_scaler_ = None
            self.metadata_names_ = []
        else:
            scaler = StandardScaler()
            scaler.mean_ = module.metadata_mean.cpu().double().numpy().copy()
            scaler.scale_ = module.metadata_scale.cpu().double().numpy().copy()
            scaler.var_ = scaler.scale_**2
            scaler.n_features_in_ = scaler.mean_.shape[0]
            scaler.n_samples_seen_ = self.n_tasks_
            self.metadata_scaler_ = scaler
            self.metadata_names_ = list(self.spec_.metadata_names)
        self.n_parameters_ = int(module.n_trainable())

    def predict_new_task(self, X, metadata_row, embedding="mean"):
        """Generate a network for a task never seen in training and predict with it.

        Goes beyond the paper (its stated future work): the hypernetwork is fed the new
        task's metadata and, for the embedding part of its input, the mean of the
        learned task embeddings (the embeddings start identical for every task, so the
        mean is the "typical task"). Inputs and predictions use the pooled scaling of
        the training tasks (with ``scaling="task"``: the new task's own input
        statistics and the average target scaling of the training tasks).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Inputs of the new task.
        metadata_row : array-like of shape (n_metadata,)
            Raw metadata of the new task, in the columns used at fit.
        embedding : "mean" or array-like of shape (embedding_dim,), default="mean"
            Embedding fed with the metadata.

        Returns
        -------
        ndarray of shape (n_rows,) or (n_rows, n_outputs)

        Examples
        --------
        >>> from skmtl.datasets.synthetic import make_cubic_tasks
        >>> tasks, meta = make_cubic_tasks(n_tasks=6, n_samples=20, random_state=0)
        >>> est = MultiTaskHypernetRegressor(max_epochs=5, random_state=0)
        >>> est = est.fit(tasks[:5], metadata=meta.iloc[:5])
        >>> est.predict_new_task(tasks[5][0], meta.iloc[5]).shape
        (20,)
        """
        if self.module_.input_weight is not None:
            raise ValueError(
                "predict_new_task needs the paper's shared input space; this model has "
                "per-task input layers (tasks of different widths, input_layer="
                f"{self.input_layer!r}), so a new task has no input layer. Fit with tasks of "
                "one width and input_layer='auto' or 'shared'."
            )
        X = self._check_new_task_X(X)
        if self.module_.metadata is None:
            raise ValueError(
                "predict_new_task needs a model fitted with task metadata: without it a new "
                "task cannot be described"
            )
        row = self._check_metadata_row(metadata_row)
        emb = None
        if self.use_embeddings:
            if isinstance(embedding, str):
                if embedding != "mean":
                    raise ValueError(f"embedding must be 'mean' or an array, got {embedding!r}")
            else:
                emb = np.asarray(embedding, dtype=np.float32).reshape(-1)
                if emb.shape[0] != self.task_embeddings_.shape[1]:
                    raise ValueError(
                        f"embedding has {emb.shape[0]} values, expected "
                        f"{self.task_embeddings_.shape[1]}"
                    )
                emb = torch.as_tensor(emb, device=self.net_.device)
        return self._predict_new(X, lambda x: self.module_.forward_new(x, row, emb))
