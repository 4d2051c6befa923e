"""Base classes every skmtl estimator is built on.

* :class:`MultiTaskEstimator` — the multi-task API: input forms, per-task prediction
  lists, ``score`` / ``score_tasks``. Used by the neural estimators and the per-task
  baselines alike.
* :class:`MultiTaskNetEstimator` — training through skorch: per-task input scaling,
  task-aware batching, validation split and early stopping, device, seeding,
  ``warm_start``, ``save_params`` / ``load_params``.
* :class:`MultiTaskClassifier` / :class:`MultiTaskRegressor` — label encoding and
  probability output, or target scaling and R^2.

A concrete estimator subclasses one of the last two, declares its parameters in
``__init__`` (storing them only) and implements ``_build_module(spec)``.
"""

from __future__ import annotations

import contextlib
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.metrics import r2_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping
from skorch.helper import predefined_split

from skmtl._batching import (
    BATCHING_MODES,
    TASK_SAMPLING,
    TaskBatchLoader,
    TaskDataset,
    split_task_rows,
)
from skmtl._device import check_device
from skmtl._skorch import (
    PerTaskCheckpoint,
    TaskNet,
    TaskScoring,
    ValidOutputs,
    iter_task_outputs,
)
from skmtl.nn.losses import MaskedCrossEntropy, TaskMSE
from skmtl.preprocessing import fit_input_encoder
from skmtl.tasks import (
    _describe,
    _label,
    as_tasks,
    column_or_1d_labels,
    set_task_attributes,
    validate_task_inputs,
)

__all__ = [
    "MultiTaskEstimator",
    "MultiTaskNetEstimator",
    "MultiTaskClassifier",
    "MultiTaskRegressor",
    "LatentTransformerMixin",
    "OPTIMIZERS",
]

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


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


class MultiTaskEstimator(BaseEstimator):
    """The multi-task API shared by every skmtl estimator.

    Subclasses fit on a :class:`~skmtl.tasks.Tasks` and set ``n_tasks_``,
    ``task_names_`` and ``n_features_per_task_`` (via :meth:`_set_task_attributes`);
    this class turns user input into validated arrays and per-task results into the
    right output form (a list per task, or one array for a plain single-task input).
    """

    def _set_task_attributes(self, tasks):
        set_task_attributes(self, tasks)  # incl. the feature names checked at predict

    def _validate_predict_input(self, X):
        """Validated float64 feature matrices, one per fitted task, and the single flag."""
        check_is_fitted(self)
        try:
            tasks, single = validate_task_inputs(self, X)  # widths, names, input encoding
            return tasks.Xs, single
        except ValueError as exc:
            raise ValueError(str(exc)) from None

    def _task_position(self, task):
        """Index of a fitted task given by index or name."""
        check_is_fitted(self)
        if isinstance(task, (Integral, np.integer)) and not isinstance(task, bool):
            if not 0 <= int(task) < self.n_tasks_:
                raise ValueError(
                    f"task={task} is out of range; the model was fitted on {self.n_tasks_} tasks."
                )
            return int(task)
        if task in self.task_names_:
            return self.task_names_.index(task)
        raise ValueError(f"unknown task {task!r}; the fitted tasks are {self.task_names_}.")

    @staticmethod
    def _format(per_task, single):
        return per_task[0] if single else per_task

    def score_tasks(self, X, y=None):
        """Per-task score: accuracy for classifiers, R^2 for regressors.

        Parameters
        ----------
        X : Tasks, list of (X, y), or features (see ``fit``)
        y : targets, when ``X`` holds only features

        Returns
        -------
        ndarray of shape (n_tasks,)
            NaN for a task with no rows.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skmtl.baselines import PerTaskClassifier
        >>> X = np.arange(20.0).reshape(-1, 1); y = (X[:, 0] > 9).astype(int)
        >>> clf = PerTaskClassifier(LogisticRegression()).fit([(X, y), (X, 1 - y)])
        >>> clf.score_tasks([(X, y), (X, 1 - y)]).round(2).tolist()
        [1.0, 1.0]
        """
        tasks, _ = as_tasks(X, y, require_y=True)
        preds = self.predict(tasks)
        classifier = is_classifier(self)
        scores = []
        for yt, pt in zip(tasks.ys, preds):
            if len(yt) == 0 or (not classifier and len(yt) < 2):
                scores.append(np.nan)
            elif classifier:  # labels never seen in training simply count as errors
                truth = np.asarray(yt, dtype=object).ravel()
                scores.append(float(np.mean(truth == np.asarray(pt, dtype=object))))
            else:
                scores.append(r2_score(np.asarray(yt).reshape(np.shape(pt)), pt))
        return np.asarray(scores, dtype=float)

    def score(self, X, y=None):
        """Mean over tasks of accuracy (classifiers) or R^2 (regressors).

        Parameters
        ----------
        X : Tasks, list of (X, y), or features (see ``fit``)
        y : targets, when ``X`` holds only features

        Returns
        -------
        float
            Tasks without rows are left out of the mean; :meth:`score_tasks` gives every
            task's own score.
        """
        scores = self.score_tasks(X, y)
        if np.all(np.isnan(scores)):
            return float("nan")
        return float(np.nanmean(scores))


class MultiTaskNetEstimator(MultiTaskEstimator):
    """Training machinery shared by the neural estimators (skorch underneath).

    Training parameters (every neural estimator exposes them):

    lr : float
        Learning rate.
    max_epochs : int
        Passes over the training rows. One epoch has as many steps as mini-batches of
        ``batch_size`` cover every task once.
    batch_size : int
        Rows per step.
    batching : {"task", "mixed"}
        ``"task"``: each step holds one task's rows (as the papers train);
        ``"mixed"``: each step packs rows of many tasks, padded and masked.
    task_sampling : {"proportional", "uniform", "sqrt"}
        Visit tasks in proportion to their rows, uniformly, or in proportion to the
        square root of their rows (large tasks get more steps than under uniform,
        small tasks more than under proportional).
    tasks_per_step : int or None
        With ``batching="mixed"``: how many distinct tasks fill one training step, each
        giving ``ceil(batch_size / tasks_per_step)`` of its rows (fewer if it is
        smaller), drawn by ``task_sampling``. Fewer tasks per step means fewer per-task
        quantities (variable embeddings, class embeddings, generated networks) to
        compute per step. None: each row's task is drawn independently, so a large
        step touches nearly every task. Ignored with ``batching="task"``.
    steps_per_epoch : int or None
        Training steps per epoch. None: one pass over the training rows (as
        ``max_epochs`` describes). A shorter epoch validates more often, so
        ``early_stopping`` (``"per_task"`` above all) chooses among more checkpoints:
        useful when small tasks overfit within one pass of a large step. ``max_epochs``
        and ``n_iter_no_change`` then count these shorter epochs.
    optimizer : {"adam", "adamw", "sgd"}
    weight_decay : float
    validation_fraction : float in [0, 1)
        Share of every task's rows held out (stratified by label for classifiers) to
        monitor ``valid_loss`` and ``valid_score``; 0 disables validation.
    early_stopping : bool or "per_task"
        ``True``: stop when ``valid_loss`` (over all validation rows) has not improved
        for ``n_iter_no_change`` epochs and restore the best weights.
        ``"per_task"``: per-task model selection. After every epoch each task's own
        validation loss is computed; every task predicts with the weights of the epoch
        where its loss was lowest (``task_best_epoch_``), and training stops when the mean
        of the tasks' best losses has not improved (relative 1e-3) for
        ``n_iter_no_change`` epochs. Suited to many unrelated tasks of very different
        sizes, where small tasks overfit long before large ones stop improving.
        ``False``: train all ``max_epochs``.
    n_iter_no_change : int
    callbacks : list of skorch callbacks or (name, callback) pairs, or None
    warm_start : bool
        Continue training the fitted module on the next ``fit`` (same tasks' shapes).
    verbose : int
        Print skorch's per-epoch table when > 0.
    device : str
        ``"cpu"`` or ``"cuda"`` (``"cuda:N"``). Without a GPU, ``"cuda"`` fails at fit.
    random_state : int, RandomState or None
        Seeds weight initialisation, batch order, validation split and dropout; with an
        int, CPU results are reproducible. Torch's global RNG is left as it was.

    Fitted attributes
    -----------------
    net_ : skmtl._skorch.TaskNet
        The fitted skorch net; ``module_`` is its torch module.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``valid_loss``, ``valid_score``, ``dur``, batch counts.
    n_iter_ : int
        Epochs trained. ``n_steps_``: optimizer steps.
    task_best_epoch_ : ndarray of int or None
        With ``early_stopping="per_task"``: the epoch whose weights each task predicts
        with (``module_`` holds the weights of the epoch chosen by the most tasks).
    input_mean_, input_scale_ : list of ndarray
        Per-task standardisation of the inputs (learned on the training rows).
    """

    _parameter_constraints = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "batching": [StrOptions(set(BATCHING_MODES))],
        "task_sampling": [StrOptions(set(TASK_SAMPLING))],
        "tasks_per_step": [Interval(Integral, 1, None, closed="left"), None],
        "steps_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean", StrOptions({"per_task"})],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "device": [str, torch.device],
        "random_state": ["random_state"],
    }

    #: tasks must share one feature space (set by estimators whose model needs it)
    _require_same_n_features = False
    #: standardise every task's inputs with its own training mean and std
    _scale_inputs = True
    #: whether the model reads task metadata (others warn when given some)
    _uses_metadata = False
    #: task kind used by the validation score
    _task_kind = "classification"

    # ----------------------------------------------------------- subclass hooks
    def _build_module(self, spec):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_params(self):
        """Extra parameter checks of a subclass (raise ValueError)."""

    def _build_criterion(self, spec):
        raise NotImplementedError

    def _on_fitted(self):
        """Set model-specific fitted attributes from ``self.module_``."""

    def _eval_batch_size(self):
        """Rows per validation and prediction batch (``batch_size`` unless overridden).

        Estimators whose rows are cheap to evaluate raise it, so a validation pass is
        one or a few forward passes instead of one per training-sized batch.
        """
        return self.batch_size

    # ------------------------------------------------------------------ public
    def fit(self, X, y=None, metadata=None):
        """Fit the model on a list of tasks.

        Parameters
        ----------
        X : list of (X_t, y_t), Tasks, tuple (X, y), list of X_t, or array-like
            The tasks. ``X_t`` may be a numpy array, a DataFrame (column names become
            variable names) or nested lists; tasks may differ in rows and features
            (unless the model needs one feature space) and in classes.
        y : list of array-like or array-like, default=None
            Targets, when ``X`` holds only features.
        metadata : array-like or DataFrame of shape (n_tasks, n_metadata), default=None
            One row of numeric descriptors per task.

        Returns
        -------
        self
        """
        tasks, _ = as_tasks(X, y, metadata)
        self._fit_tasks(tasks, train=True)
        return self

    def initialize(self, X, y=None, metadata=None):
        """Set up everything ``fit`` sets up, without training.

        Use it before :meth:`load_params` to restore saved weights::

            est = clone(fitted).initialize(tasks)
            est.load_params(f_params="model.pt")

        Parameters
        ----------
        X, y, metadata
            As in :meth:`fit` (the same tasks as the saved model's).

        Returns
        -------
        self
        """
        tasks, _ = as_tasks(X, y, metadata)
        self._fit_tasks(tasks, train=False)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if hasattr(self, "transform"):  # estimators exposing their latent representation
            from sklearn.utils import TransformerTags

            tags.transformer_tags = TransformerTags()
        return tags

    @property
    def module_(self):
        """The fitted torch module."""
        check_is_fitted(self)
        return self.net_.module_

    def __sklearn_is_fitted__(self):
        return getattr(self, "net_", None) is not None

    def save_params(self, f_params=None, f_optimizer=None, f_criterion=None, f_history=None):
        """Save module weights (and optionally optimizer, criterion, history) with skorch.

        Parameters
        ----------
        f_params, f_optimizer, f_criterion, f_history : str, path or file-like, default=None
            Where to write each part; ``None`` skips it.

        Notes
        -----
        ``f_params`` holds ``module_``'s weights only. With ``early_stopping="per_task"``
        the other tasks' selected weights are not in it (pickle the estimator to keep
        them); after :meth:`load_params` every task predicts with the loaded weights.
        """
        check_is_fitted(self)
        self.net_.save_params(
            f_params=f_params, f_optimizer=f_optimizer, f_criterion=f_criterion, f_history=f_history
        )

    def load_params(self, f_params=None, f_optimizer=None, f_criterion=None, f_history=None):
        """Load what :meth:`save_params` wrote into an initialized or fitted estimator.

        Parameters
        ----------
        f_params, f_optimizer, f_criterion, f_history : str, path or file-like, default=None

        Returns
        -------
        self
        """
        if getattr(self, "net_", None) is None:
            raise ValueError(
                f"{type(self).__name__} must be initialized before load_params: call "
                "initialize(tasks) with the tasks of the saved model (or fit) first."
            )
        self.net_.load_params(
            f_params=f_params, f_optimizer=f_optimizer, f_criterion=f_criterion, f_history=f_history
        )
        self.history_ = self.net_.history
        self._clear_task_snapshots()  # the saved file holds one set of weights
        self._on_fitted()
        return self

    # ------------------------------------------------------------- internals
    def _check_training_data(self, tasks):
        for i, (x, name) in enumerate(zip(tasks.Xs, tasks.names)):
            if x.shape[0] == 0:
                raise ValueError(
                    f"{_describe(i, name)} has no rows; every task needs at least one "
                    "training row (Found array with 0 sample(s))."
                )
        if self._require_same_n_features and len(set(tasks.n_features)) > 1:
            counts = ", ".join(f"task {i} has {k}" for i, k in enumerate(tasks.n_features))
            raise ValueError(
                f"{type(self).__name__} needs every task to share one feature space "
                f"(the same number of features): {counts}."
            )
        if tasks.metadata is not None and not self._uses_metadata:
            warnings.warn(
                f"{type(self).__name__} does not use task metadata; it is ignored.",
                UserWarning,
                stacklevel=3,
            )

    def _scale(self, Xs, positions=None):
        """Standardise feature matrices with the statistics of the tasks at ``positions``."""
        positions = range(len(Xs)) if positions is None else positions
        if not self._scale_inputs:
            return [x.astype(np.float32) for x in Xs]
        return [
            ((x - self.input_mean_[t]) / self.input_scale_[t]).astype(np.float32)
            for x, t in zip(Xs, positions)
        ]

    def _fit_input_scaling(self, Xs):
        self.input_mean_ = [np.nanmean(x, 0) for x in Xs]  # NaN: a missing (masked) value
        scales = []
        for x in Xs:
            s = np.nanstd(x, 0)
            scales.append(np.where(s > 1e-12, s, 1.0))
        self.input_scale_ = scales

    def _seed_context(self, device):
        if self.random_state is None:
            return contextlib.nullcontext()
        devices = []
        if device.startswith("cuda"):
            devices = [torch.device(device).index or 0]
        return torch.random.fork_rng(devices=devices)

    def _callbacks(self, spec, has_valid):
        cbs = []
        if has_valid:
            # one pass over the validation rows per epoch: skorch's valid_loss pass,
            # whose outputs the per-task score and per-task selection reuse
            cbs.append(("valid_outputs", ValidOutputs()))
            cbs.append(("valid_score", TaskScoring(self._task_kind, spec.n_outputs)))
        for k, cb in enumerate(self.callbacks or []):
            cbs.append(cb if isinstance(cb, tuple) else (f"user_{k}_{type(cb).__name__}", cb))
        sink = print if self.verbose else _silent
        if has_valid and self.early_stopping == "per_task":
            cbs.append(
                (
                    "per_task_checkpoint",
                    PerTaskCheckpoint(patience=self.n_iter_no_change, sink=sink),
                )
            )
        elif has_valid and self.early_stopping:  # last, so every other callback sees each epoch
            cbs.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        load_best=True,
                        sink=print if self.verbose else _silent,
                    ),
                )
            )
        return cbs

    def _fit_tasks(self, tasks, train):
        self._validate_params()
        self._check_params()
        device = check_device(self.device)
        self._check_training_data(tasks)
        warm = bool(self.warm_start) and getattr(self, "net_", None) is not None
        tasks = fit_input_encoder(self, tasks, refit=not warm)  # categorical / missing values
        if warm:
            self._check_warm_compatible(tasks)
        ys, n_outputs = self._encode_targets(tasks, refit=not warm)
        spec = tasks.spec(n_outputs)
        if not warm:
            self._set_task_attributes(tasks)
            if self._scale_inputs:
                self._fit_input_scaling(tasks.Xs)
        Xs = self._scale(tasks.Xs)

        rs = check_random_state(self.random_state)
        seed = int(rs.randint(np.iinfo(np.int32).max))
        with self._seed_context(device):
            if self.random_state is not None:
                torch.manual_seed(seed)
            split_rng = np.random.default_rng(seed)
            train_rows, valid_rows = split_task_rows(
                ys,
                self.validation_fraction if train else 0.0,
                stratify=self._task_kind == "classification",
                rng=split_rng,
            )
            ds_all = TaskDataset(Xs, ys, device=device)
            ds_train = ds_all.subset(train_rows)
            ds_valid = ds_all.subset(valid_rows) if sum(map(len, valid_rows)) else None
            loader_rng = np.random.default_rng(seed + 1)
            train_split = None if ds_valid is None else predefined_split(ds_valid)
            callbacks = self._callbacks(spec, ds_valid is not None)
            if warm:
                net = self.net_
                for name, value in [
                    ("callbacks", callbacks),
                    ("max_epochs", self.max_epochs),
                    ("verbose", self.verbose),
                    ("batch_size", self.batch_size),
                    ("iterator_train__random_state", loader_rng),
                    ("iterator_train__batching", self.batching),
                    ("iterator_train__task_sampling", self.task_sampling),
                    ("iterator_train__tasks_per_step", self.tasks_per_step),
                    ("iterator_train__steps_per_epoch", self.steps_per_epoch),
                    ("iterator_valid__batching", self.batching),
                    ("iterator_valid__batch_size", self._eval_batch_size()),
                    ("train_split", train_split),
                ]:
                    setattr(net, name, value)
                net.initialize_callbacks()
            else:
                net = TaskNet(
                    module=self._build_module(spec),
                    criterion=self._build_criterion(spec),
                    optimizer=OPTIMIZERS[self.optimizer],
                    lr=self.lr,
                    optimizer__weight_decay=self.weight_decay,
                    **_optimizer_kernel(self.optimizer),
                    max_epochs=self.max_epochs,
                    batch_size=self.batch_size,
                    iterator_train=TaskBatchLoader,
                    iterator_train__shuffle=True,
                    iterator_train__batching=self.batching,
                    iterator_train__task_sampling=self.task_sampling,
                    iterator_train__tasks_per_step=self.tasks_per_step,
                    iterator_train__steps_per_epoch=self.steps_per_epoch,
                    iterator_train__random_state=loader_rng,
                    iterator_valid=TaskBatchLoader,
                    iterator_valid__shuffle=False,
                    iterator_valid__batching=self.batching,
                    iterator_valid__batch_size=self._eval_batch_size(),
                    train_split=train_split,
                    callbacks=callbacks,
                    verbose=self.verbose,
                    device=device,
                    # skorch's PrintLog formats a table every epoch even when silent
                    **({} if self.verbose else {"callbacks__print_log": None}),
                )
                net.initialize()
            if train:
                net.partial_fit(ds_train)
            net.train_split = None  # do not keep the validation data in the fitted model
            self._keep_task_snapshots(net, train)
        self.net_ = net
        self.spec_ = spec
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        self.n_steps_ = int(sum(h.get("train_batch_count", 0) for h in net.history))
        self._on_fitted()
        return self

    def _keep_task_snapshots(self, net, train):
        """After a fit with per-task selection, keep every task's best weights."""
        cb = dict(net.callbacks_).get("per_task_checkpoint") if train else None
        if cb is None or cb.best_epoch_ is None or not cb.snapshots_:
            self._clear_task_snapshots()
            return
        self.task_best_epoch_ = np.asarray(cb.best_epoch_, dtype=int)
        self._task_snapshots = dict(cb.snapshots_)
        net.module_.load_state_dict(self._task_snapshots[self._default_epoch()])

    def _clear_task_snapshots(self):
        self.task_best_epoch_ = None
        self._task_snapshots = None

    def _default_epoch(self):
        """The epoch chosen by the most tasks (the later one on a tie): ``module_``'s."""
        epochs, counts = np.unique(self.task_best_epoch_, return_counts=True)
        return int(epochs[np.lexsort((epochs, counts))[-1]])

    def _task_weight_groups(self, positions):
        """``[(epoch or None, [k, ...]), ...]``: which weights serve each requested task."""
        snaps = getattr(self, "_task_snapshots", None)
        if not snaps:
            return [(None, list(range(len(positions))))]
        groups = {}
        for k, t in enumerate(positions):
            groups.setdefault(int(self.task_best_epoch_[t]), []).append(k)
        return sorted(groups.items())

    def _check_warm_compatible(self, tasks):
        old = self.spec_
        if tasks.n_tasks != old.n_tasks or list(tasks.n_features) != list(old.n_features):
            raise ValueError(
                "warm_start=True continues training the fitted model, but the tasks differ "
                f"from the previous fit (tasks {old.n_tasks} -> {tasks.n_tasks}, features "
                f"{old.n_features} -> {tasks.n_features}); set warm_start=False to refit."
            )

    def _forward_outputs(self, X, method=None, task=None):
        """Module outputs per task (torch, CPU) for validated, scaled inputs.

        With ``task`` (index or name), ``X`` is one matrix treated as rows of that task.
        """
        if task is None:
            Xs, single = self._validate_predict_input(X)
            positions = list(range(self.n_tasks_))
        else:
            t = self._task_position(task)
            Xs = validate_task_inputs(self, X, task=t)[0].Xs
            positions, single = [t], True
        self._move_to(check_device(self.device))
        scaled = self._scale(Xs, positions)
        chunks = [[] for _ in positions]
        module = self.net_.module_
        try:
            for epoch, ks in self._task_weight_groups(positions):
                if epoch is not None:
                    module.load_state_dict(self._task_snapshots[epoch])
                ds = TaskDataset([scaled[k] for k in ks], None, device=self.net_.device)
                ids = [positions[k] for k in ks]
                for j, out, _ in iter_task_outputs(
                    self.net_, ds, max(self._eval_batch_size(), 512), method, task_ids=ids
                ):
                    chunks[ks[j]].append(out)
        finally:
            if getattr(self, "_task_snapshots", None):
                module.load_state_dict(self._task_snapshots[self._default_epoch()])
        return [torch.cat(c) if c else None for c in chunks], single

    def _move_to(self, device):
        """Move the fitted module and criterion to ``device`` (after ``set_params(device=...)``)."""
        net = self.net_
        if torch.device(device) != torch.device(net.device):
            net.module_.to(device)
            net.criterion_.to(device)
            net.device = device

    def _apply_module(self, method, X, task=None):
        """Call a module method (e.g. ``"encode"``) on every task's validated inputs.

        Returns a list of numpy arrays, one per task (one array for a single input or
        when ``task`` names the task of a single matrix).
        """
        outs, single = self._forward_outputs(X, method=method, task=task)
        width = next((o.shape[1] for o in outs if o is not None), 0)
        arrays = [np.zeros((0, width)) if o is None else o.numpy().astype(np.float64) for o in outs]
        return self._format(arrays, single)


class LatentTransformerMixin:
    """``transform`` for estimators whose module has an ``encode(X, task, mask)`` method.

    Mixed in before the estimator base; also gives ``fit_transform``.
    """

    def transform(self, X, task=None):
        """The learned latent representation of the inputs (the module's encoder).

        Parameters
        ----------
        X : list of array-like, Tasks, or array-like
            One feature matrix per fitted task, in fit order (a single matrix for a
            single-task model), as ``predict``.
        task : int, str or None, default=None
            With a task index or name, ``X`` is one matrix encoded as that task's input
            (its input scaling): convenient when every task shares the same inputs.

        Returns
        -------
        list of ndarray of shape (n_rows_t, latent_dim), or one such array
        """
        return self._apply_module("encode", X, task=task)

    def fit_transform(self, X, y=None, metadata=None):
        """Fit on the tasks, then return the latent representation of their inputs.

        Returns
        -------
        list of ndarray, or one ndarray for a single task given as ``X, y``
        """
        tasks, single = as_tasks(X, y, metadata)
        self.fit(tasks)
        Z = self.transform(tasks)
        return Z[0] if single else Z


class MultiTaskClassifier(ClassifierMixin, MultiTaskNetEstimator):
    """Base of the multi-task neural classifiers.

    Labels of every task are encoded separately (any hashable labels, strings
    included) and come back as given. ``classes_`` is the array of classes for a
    single-task model and a list of arrays (one per task) otherwise; ``task_classes_``
    is always the list.
    """

    _task_kind = "classification"
    score = MultiTaskEstimator.score  # the mixin's single-task score would shadow it

    def _build_criterion(self, spec):
        return MaskedCrossEntropy(spec.n_outputs)

    def _proba_from_outputs(self, out):
        """Turn one task's outputs (n, n_classes) into probabilities (default: softmax)."""
        return torch.softmax(out, dim=1)

    def _encode_targets(self, tasks, refit):
        classes, encoded = [], []
        for i, y in enumerate(tasks.ys):
            where = _describe(i, tasks.names[i])
            y = column_or_1d_labels(y, where)
            if y.ndim != 1:
                raise ValueError(
                    f"{where}: y has shape {y.shape}; multi-output classification is not "
                    "supported (give one label per row)."
                )
            try:
                check_classification_targets(y)
                cls, enc = np.unique(y, return_inverse=True)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{where}: {exc}") from None
            if len(cls) < 2:
                raise ValueError(
                    f"{where} has only one class ({_label(cls[0])}); a classifier needs at least "
                    "2 classes in every task (1 class found)."
                )
            if not refit:
                old = self.task_classes_[i]
                if len(old) != len(cls) or not np.all(old == cls):
                    raise ValueError(
                        f"{where}: warm_start=True needs the same classes as before "
                        f"({list(old)}), got {list(cls)}."
                    )
            classes.append(cls)
            encoded.append(enc.astype(np.int64))
        if refit:
            self.task_classes_ = classes
            self.classes_ = classes[0] if len(classes) == 1 else classes
        return encoded, [len(c) for c in classes]

    def predict_proba(self, X):
        """Class probabilities per task.

        Parameters
        ----------
        X : list of array-like, Tasks, or array-like
            One feature matrix per fitted task, in fit order (one matrix for a
            single-task model).

        Returns
        -------
        list of ndarray of shape (n_rows_t, n_classes_t), or one such array
            Columns follow ``task_classes_[t]``.
        """
        outs, single = self._forward_outputs(X)
        probas = []
        for t, out in enumerate(outs):
            k = len(self.task_classes_[t])
            if out is None:
                probas.append(np.zeros((0, k)))
            else:
                probas.append(self._proba_from_outputs(out[:, :k]).numpy().astype(np.float64))
        return self._format(probas, single)

    def predict(self, X):
        """Predicted labels per task (as given at fit).

        Parameters
        ----------
        X : list of array-like, Tasks, or array-like

        Returns
        -------
        list of ndarray of shape (n_rows_t,), or one such array
        """
        probas = self.predict_proba(X)
        single = not isinstance(probas, list)
        probas = [probas] if single else probas
        preds = [self.task_classes_[t][p.argmax(1)] for t, p in enumerate(probas)]
        return self._format(preds, single)


class MultiTaskRegressor(RegressorMixin, MultiTaskNetEstimator):
    """Base of the multi-task neural regressors.

    Every task's targets are standardised with their training mean and standard
    deviation for training, and predictions are mapped back. All tasks must have the
    same number of target columns.
    """

    _task_kind = "regression"
    score = MultiTaskEstimator.score

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    #: standardise every task's targets for training
    _scale_targets = True

    def _build_criterion(self, spec):
        return TaskMSE(spec.n_outputs)

    def _encode_targets(self, tasks, refit):
        ys, widths = [], []
        for i, y in enumerate(tasks.ys):
            where = _describe(i, tasks.names[i])
            try:
                y = np.asarray(y, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{where}: regression targets must be numeric.") from None
            if not np.all(np.isfinite(y)):
                raise ValueError(f"{where}: y contains NaN or infinity.")
            ys.append(y.reshape(len(y), -1))
            widths.append(ys[-1].shape[1])
        if len(set(widths)) > 1:
            raise ValueError(f"every task needs the same number of target columns; got {widths}.")
        if refit:
            self.target_1d_ = all(np.ndim(y) == 1 for y in tasks.ys)
            self.n_outputs_ = widths[0]
            if self._scale_targets:
                self.target_mean_ = [y.mean(0) for y in ys]
                self.target_scale_ = [np.where(y.std(0) > 1e-12, y.std(0), 1.0) for y in ys]
            else:
                self.target_mean_ = [np.zeros(w) for w in widths]
                self.target_scale_ = [np.ones(w) for w in widths]
        elif widths[0] != self.n_outputs_:
            raise ValueError("warm_start=True needs the same number of target columns as before.")
        scaled = [
            ((y - m) / s).astype(np.float32)
            for y, m, s in zip(ys, self.target_mean_, self.target_scale_)
        ]
        return scaled, widths

    def predict(self, X):
        """Predicted targets per task, on the original scale.

        Parameters
        ----------
        X : list of array-like, Tasks, or array-like

        Returns
        -------
        list of ndarray of shape (n_rows_t,) or (n_rows_t, n_outputs), or one such array
        """
        outs, single = self._forward_outputs(X)
        preds = []
        for t, out in enumerate(outs):
            k = self.n_outputs_
            if out is None:
                p = np.zeros((0, k))
            else:
                p = out[:, :k].numpy().astype(np.float64)
            p = p * self.target_scale_[t] + self.target_mean_[t]
            preds.append(p.ravel() if self.target_1d_ else p)
        return self._format(preds, single)


def _silent(*args, **kwargs):
    """A sink that discards skorch's messages when ``verbose=0``."""
