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

import dataclasses
import functools
import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skmtl._batching import BATCHING_MODES, TASK_SAMPLING, TaskDataset
from skmtl._selection import TaskSnapshots
from skmtl._skorch import TaskNet
from skmtl._targets import encode_labels, standardise, target_matrices
from skmtl._training import (
    OPTIMIZERS,
    TrainingConfig,
    check_device,
    move_net,
    train_net,
    training_callbacks,
)
from skmtl.nn.losses import MaskedCrossEntropy, TaskMSE
from skmtl.preprocessing import fit_input_encoder
from skmtl.tasks import (
    _describe,
    as_tasks,
    set_task_attributes,
    validate_task_inputs,
)

__all__ = [
    "MultiTaskEstimator",
    "MultiTaskNetEstimator",
    "MultiTaskClassifier",
    "MultiTaskRegressor",
    "LatentTransformerMixin",
    "training_parameters",
    "OPTIMIZERS",
]

#: the shared training parameters every neural estimator declares (see the class doc)
_TRAINING_PARAMS = (
    "lr",
    "max_epochs",
    "batch_size",
    "batching",
    "task_sampling",
    "tasks_per_step",
    "steps_per_epoch",
    "optimizer",
    "weight_decay",
    "validation_fraction",
    "early_stopping",
    "n_iter_no_change",
    "tol",
    "callbacks",
    "verbose",
    "random_state",
)


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
    tol : float or None
        Early stopping's tolerance: ``valid_loss`` (or, with ``"per_task"``, the mean of
        the tasks' best losses) must fall by this much, relative, to count as an
        improvement. None: 1e-4 with ``early_stopping=True`` (skorch's ``EarlyStopping``
        threshold) and 1e-3 with ``"per_task"``.
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
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "device": [str, torch.device],
        "random_state": ["random_state"],
    }

    #: parameters holding layer widths (checked at fit: a sequence of positive ints)
    _layer_size_params = ()
    #: those of them that may also be None
    _optional_layer_size_params = ()
    #: those of them that must hold at least one layer
    _nonempty_layer_size_params = ()
    #: the skorch net class trained (a mixin may substitute e.g. an AccelerateMixin subclass)
    _net_class = TaskNet
    #: tasks must share one feature space (set by estimators whose model needs it)
    _require_same_n_features = False
    #: standardise every task's inputs with its own training mean and std
    _scale_inputs = True
    #: whether the model reads task metadata (others warn when given some)
    _uses_metadata = False
    #: task kind used by the validation score
    _task_kind = "classification"

    def __init__(
        self,
        *,
        lr=1e-3,
        max_epochs=100,
        batch_size=128,
        batching="task",
        task_sampling="proportional",
        tasks_per_step=None,
        steps_per_epoch=None,
        optimizer="adam",
        weight_decay=0.0,
        validation_fraction=0.1,
        early_stopping=True,
        n_iter_no_change=10,
        tol=None,
        callbacks=None,
        warm_start=False,
        verbose=0,
        device="cpu",
        random_state=None,
    ):
        # the one place the training parameters are declared and stored; estimators add
        # them to their own __init__ with @training_parameters(their defaults)
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.batching = batching
        self.task_sampling = task_sampling
        self.tasks_per_step = tasks_per_step
        self.steps_per_epoch = steps_per_epoch
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.verbose = verbose
        self.device = device
        self.random_state = random_state

    # ----------------------------------------------------------- subclass hooks
    def _build_module(self, spec):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_params(self):
        """Extra parameter checks of a subclass (raise ValueError)."""

    def _check_layer_sizes(self):
        """Every parameter named in ``_layer_size_params`` is a sequence of positive ints."""
        for name in self._layer_size_params:
            sizes = getattr(self, name)
            if sizes is None and name in self._optional_layer_size_params:
                continue
            nonempty = name in self._nonempty_layer_size_params
            if (nonempty and len(sizes) == 0) or not all(
                isinstance(h, Integral) and h >= 1 for h in sizes
            ):
                what = "a non-empty sequence" if nonempty else "a sequence"
                raise ValueError(f"{name} must be {what} of positive ints, got {sizes!r}")

    def _build_criterion(self, spec):
        raise NotImplementedError

    def _on_fitted(self):
        """Set model-specific fitted attributes from ``self.module_``."""

    def _training_budget(self, train_sizes):
        """Training settings of this fit derived from the training rows per task.

        Returns a dict of :class:`~skmtl._training.TrainingConfig` fields that replace the
        estimator's own values for this fit (default: none). Subclasses whose budgets
        depend on the data (SVE's ``"auto"`` step sizes) resolve them here and record the
        resolved values as fitted attributes.
        """
        return {}

    def _later_stage(self, spec):
        """A stage trained after the main one in the same fit, or None (the default).

        See ``after`` of :func:`skmtl._training.train_net` (SVE's per-task refinement).
        """
        return None

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
        # models that read a missing value as an absent variable take NaN themselves
        tags.input_tags.allow_nan = getattr(self, "_missing_values", "error") == "mask"
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
        self._task_snapshots = self.task_best_epoch_ = None  # the file holds one set of weights
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
                stacklevel=4,
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
        self.input_mean_, self.input_scale_ = standardise(Xs)

    def _optimizer_param_groups(self):
        """skorch ``optimizer__param_groups`` of the model (default: one group)."""
        return ()

    def _callbacks(self, spec, has_valid):
        """The fit's ``(name, callback)`` list (see :func:`skmtl._training.training_callbacks`)."""
        return training_callbacks(self._training_config(), spec.n_outputs, has_valid)

    def _training_config(self):
        """The shared training parameters as a :class:`~skmtl._training.TrainingConfig`."""
        return TrainingConfig(
            **{name: getattr(self, name) for name in _TRAINING_PARAMS},
            device=check_device(self.device),
            eval_batch_size=self._eval_batch_size(),
            task_kind=self._task_kind,
            optimizer_param_groups=tuple(self._optimizer_param_groups()),
        )

    def _prepare_tasks(self, tasks, warm):
        """Checked tasks -> (scaled inputs, encoded targets, spec); sets the task attributes."""
        self._check_training_data(tasks)
        tasks = fit_input_encoder(self, tasks, refit=not warm)  # categorical / missing values
        if warm:
            self._check_warm_compatible(tasks)
        ys, n_outputs = self._encode_targets(tasks, refit=not warm)
        if not warm:
            self._set_task_attributes(tasks)
            if self._scale_inputs:
                self._fit_input_scaling(tasks.Xs)
        return self._scale(tasks.Xs), ys, tasks.spec(n_outputs)

    def _fit_tasks(self, tasks, train, stage=None):
        """Validate, encode and train; ``stage`` replaces parameters for this fit only.

        ``stage`` (a dict of training parameters, e.g. ``{"max_epochs": 5}``) continues
        training the fitted net with those values, leaving the estimator's own
        parameters as they are (HIB's second stage).
        """
        self._validate_params()
        self._check_layer_sizes()
        self._check_params()
        config = self._training_config()
        warm = stage is not None or (bool(self.warm_start) and self.__sklearn_is_fitted__())
        Xs, ys, spec = self._prepare_tasks(tasks, warm)
        net = train_net(
            dataclasses.replace(config, **(stage or {})),
            Xs,
            ys,
            callbacks=lambda has_valid: self._callbacks(spec, has_valid),
            build=lambda: (self._build_module(spec), self._build_criterion(spec)),
            net_class=self._net_class,
            net=self.net_ if warm else None,
            train=train,
            budget=self._training_budget,
            after=self._later_stage(spec) if stage is None else None,
        )
        self._set_fitted(net, spec, train)
        return self

    def _set_fitted(self, net, spec, train):
        self.net_ = net
        self.spec_ = spec
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        self.n_steps_ = int(sum(h.get("train_batch_count", 0) for h in net.history))
        snapshots = TaskSnapshots.from_net(net) if train else None
        self._task_snapshots = snapshots
        self.task_best_epoch_ = None if snapshots is None else snapshots.best_epoch
        if snapshots is not None:
            net.module_.load_state_dict(snapshots.snapshots[snapshots.default_epoch])
        self._on_fitted()

    def _check_warm_compatible(self, tasks):
        old = self.spec_
        if tasks.n_tasks != old.n_tasks or list(tasks.n_features) != list(old.n_features):
            raise ValueError(
                "warm_start=True continues training the fitted model, but the tasks differ "
                f"from the previous fit (tasks {old.n_tasks} -> {tasks.n_tasks}, features "
                f"{old.n_features} -> {tasks.n_features}); set warm_start=False to refit."
            )

    def _predict_inputs(self, X, task):
        """Validated inputs and the fitted task of each (``task``: one matrix of that task)."""
        if task is None:
            Xs, single = self._validate_predict_input(X)
            return Xs, list(range(self.n_tasks_)), single
        t = self._task_position(task)
        return validate_task_inputs(self, X, task=t)[0].Xs, [t], True

    def _forward_outputs(self, X, method=None, task=None):
        """Module outputs per task (torch, CPU) for validated, scaled inputs.

        With ``task`` (index or name), ``X`` is one matrix treated as rows of that task.
        Every task's rows run through skorch's ``forward_iter`` with the weights of the
        task's selected epoch (``early_stopping="per_task"``) or the module's own.
        """
        Xs, positions, single = self._predict_inputs(X, task)
        net = move_net(self.net_, check_device(self.device))
        scaled = self._scale(Xs, positions)
        snapshots = getattr(self, "_task_snapshots", None)
        groups = [(None, list(range(len(positions))))]
        if snapshots is not None:
            groups = snapshots.groups(positions)
        outs = [None] * len(positions)
        for epoch, ks in groups:
            weights = None if epoch is None else snapshots.weights(epoch, net.device)
            # every fitted task has a slot (its own input width), empty unless requested
            slots = [np.zeros((0, w), np.float32) for w in self.n_features_per_task_]
            for k in ks:
                slots[positions[k]] = scaled[k]
            ds = TaskDataset(slots, None, device=net.device)
            out = net.task_outputs(ds, method, weights, max(self._eval_batch_size(), 512))
            parts = torch.split(out, ds.sizes.tolist()) if out is not None else None
            for k in ks:
                outs[k] = parts[positions[k]] if parts is not None and len(scaled[k]) else None
        return outs, single

    def _apply_module(self, method, X, task=None):
        """Call a module method (e.g. ``"encode"``) on every task's validated inputs.

        Returns a list of numpy arrays, one per task (one array for a single input or
        when ``task`` names the task of a single matrix).
        """
        outs, single = self._forward_outputs(X, method=method, task=task)
        width = next((o.shape[1] for o in outs if o is not None), 0)
        arrays = [np.zeros((0, width)) if o is None else o.numpy().astype(np.float64) for o in outs]
        return self._format(arrays, single)


def training_parameters(**defaults):
    """Class decorator: give an estimator's ``__init__`` the shared training parameters.

    The decorated ``__init__`` stores the model's own parameters only; the decorator
    adds every parameter of :meth:`MultiTaskNetEstimator.__init__` to its signature as
    keyword-only (with the estimator's ``defaults`` where they differ), so
    scikit-learn's ``get_params`` / ``clone`` see them, and stores them through the
    base ``__init__``. The training parameters are thus declared once, in the base.

    Parameters
    ----------
    **defaults
        The estimator's own default of any training parameter.

    Examples
    --------
    >>> import inspect
    >>> @training_parameters(max_epochs=5)
    ... class Tiny(MultiTaskRegressor):
    ...     def __init__(self, width=4):
    ...         self.width = width
    >>> Tiny(width=2, lr=0.5).get_params()["max_epochs"], Tiny(lr=0.5).lr
    (5, 0.5)
    >>> str(inspect.signature(Tiny))[:40]
    '(width=4, *, lr=0.001, max_epochs=5, bat'
    """
    base = inspect.signature(MultiTaskNetEstimator.__init__).parameters
    unknown = set(defaults) - set(base)
    if unknown:
        raise TypeError(f"not training parameters: {sorted(unknown)}")
    shared = [p.replace(default=defaults.get(n, p.default)) for n, p in base.items() if n != "self"]

    def decorate(cls):
        own_init = cls.__init__
        own = inspect.signature(own_init)

        @functools.wraps(own_init)
        def __init__(self, *args, **kwargs):
            training = {p.name: kwargs.pop(p.name, p.default) for p in shared}
            own_init(self, *args, **kwargs)
            MultiTaskNetEstimator.__init__(self, **training)

        __init__.__signature__ = own.replace(parameters=[*own.parameters.values(), *shared])
        cls.__init__ = __init__
        return cls

    return decorate


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
        previous = None if refit else self.task_classes_
        classes, encoded = encode_labels(tasks.ys, tasks.names, previous)
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

    def _target_scaling(self, ys):
        """Mean and scale of every task's targets (identity unless ``_scale_targets``)."""
        if self._scale_targets:
            return standardise(ys)
        return [np.zeros(y.shape[1]) for y in ys], [np.ones(y.shape[1]) for y in ys]

    def _encode_targets(self, tasks, refit):
        ys = target_matrices(tasks.ys, tasks.names)
        widths = [y.shape[1] for y in ys]
        if refit:
            self.target_1d_ = all(np.ndim(y) == 1 for y in tasks.ys)
            self.n_outputs_ = widths[0]
            self.target_mean_, self.target_scale_ = self._target_scaling(ys)
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
