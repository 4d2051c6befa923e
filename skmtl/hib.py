"""Hierarchical information bottleneck estimators (task clustering from noise variances).

Estimators for de Freitas, Berg, Geiger and Mücke, "Compressed Hierarchical Representations for
Multi-Task Learning and Task Clustering" (IJCNN 2022). The torch model lives in
:mod:`skmtl.nn.hib`; the similarity tools in :mod:`skmtl.interpret.hib`.
"""

from __future__ import annotations

from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skmtl.base import (
    LatentTransformerMixin,
    MultiTaskClassifier,
    MultiTaskRegressor,
    training_parameters,
)
from skmtl.interpret.hib import cluster_tasks, noise_dissimilarity, plot_task_dissimilarity
from skmtl.nn.hib import GaussianNLL, HierarchicalIBModule
from skmtl.nn.mlp import ACTIVATIONS
from skmtl.tasks import as_tasks

__all__ = ["HierarchicalIBClassifier", "HierarchicalIBRegressor"]

_MODEL_PARAMS_DOC = """
    Parameters
    ----------
    latent_dim : int, default=4
        Dimension ``D`` of the task-agnostic representation ``Z`` (and of every ``W_j``).
    beta : float or array-like of shape (n_tasks,), default=0.1
        Weight of the information term ``I(X; W_j)`` in eq. (2): one value for all tasks
        (the paper) or one per task. ``0`` keeps the noise but does not penalise information.
    hidden_layer_sizes : tuple of int, default=(32, 32)
        Hidden layers of the encoder ``f_theta`` (the paper's Table II: 32, 32, then ``D``).
    head_hidden_layer_sizes : tuple of int, default=()
        Hidden layers of every task head; ``()`` is the paper's linear head.
    noise : bool, default=True
        ``False`` is the "No Noise" ablation: ``W_j = Z`` and no information penalty.
    learn_noise : bool, default=True
        ``False`` is the paper's fixed-noise ablation (Section V-B): the variances are fixed
        at ``exp(fixed_noise_log_var)`` while encoder and heads are trained; then the encoder
        is frozen and the variances are learned with the heads for ``noise_refit_epochs``
        epochs (two-stage protocol), so ``noise_log_var_`` can be compared with the learned
        one.
    noise_init_std : float, default=0.01
        Std of the N(0, std^2) initialisation of the learned noise log-variances (the paper).
    fixed_noise_log_var : float, default=1.0
        Log-variance of the fixed noise (``learn_noise=False``); the paper uses ``sigma^2=e``.
    noise_refit_epochs : int or None, default=None
        Epochs of the second stage when ``learn_noise=False`` (None: ``max_epochs``; 0: skip
        the second stage and keep the fixed variances).
    log_var_lr_scale : float, default=10.0
        Learning-rate multiplier of the noise (and prior) log-variances relative to ``lr``.
        The paper trains 60,000 images for 25-100 epochs with one learning rate; with fewer
        steps the variances need to move faster to open or close latent dimensions. Set 1.0
        for the paper's single learning rate. Implemented as an optimizer parameter group
        (skorch's ``optimizer__param_groups``) with learning rate ``lr * log_var_lr_scale``,
        so it is an exact multiplier under every ``optimizer``.
    scale_inputs : bool, default=True
        Standardise every task's inputs with its training mean and std. Set False for pixel
        inputs already in [0, 1] (as the paper's MNIST experiments).
    activation : {"relu", "tanh", "gelu", "elu"}, default="relu"
    input_layer : {"auto", "shared", "per_task"}, default="auto"
        How the encoder reads the tasks' inputs. ``"shared"``: one encoder ``f_theta`` on
        one feature space shared by every task (the paper; tasks must have the same
        number of features). ``"per_task"``: the encoder's first linear layer is one
        ``Linear(n_features_t, hidden_layer_sizes[0])`` per task and the rest of it is
        shared, so tasks of different widths (different columns) can be fitted together.
        ``"auto"``: ``"shared"`` when every task has the same width, else
        ``"per_task"``. See Notes for what the per-task map changes.
    lr : float, default=1e-3
        Adam learning rate of the network weights.
    max_epochs : int, default=100
    batch_size : int, default=128
    batching : {"mixed", "task"}, default="mixed"
        ``"mixed"``: every step holds rows of every task, so each step minimises the
        paper's sum over tasks and updates every task's noise variances. ``"task"``: one
        task per step (each task's variances are then updated only on its own steps;
        they separate the tasks less reliably, see ``docs/benchmarks/hib.md``).
    task_sampling, tasks_per_step, steps_per_epoch, optimizer, weight_decay, \
validation_fraction, early_stopping, n_iter_no_change, tol, callbacks, warm_start, verbose, \
device, random_state
        Training parameters shared by every skmtl network; see
        :class:`skmtl.base.MultiTaskNetEstimator`.

    Notes
    -----
    Training minimises, per row of task ``j``, ``loss_j(c_j(W_j), y) + beta_j KL(N(Z, Sigma_j) ||
    N(0, Xi_j))`` with one noise sample ``W_j = Z + sigma_j * eps`` (eqs. 2, 3, 8). At predict
    time ``predict`` and ``predict_proba`` take ``noise``: ``"mean"`` (default) replaces the
    noise by its mean, ``W_j = Z`` (deterministic, row by row); ``"sample"`` draws one
    posterior sample ``W_j = Z + sigma_j * eps`` per row from a generator seeded by their
    ``random_state`` (default 0), as the paper evaluates (its authors' code samples ``W`` at
    validation and test). The two differ when a task reads dimensions that carry noise: with
    large ``beta`` the sample is less accurate (see ``docs/benchmarks/hib.md``).
    ``transform`` returns ``Z``. With an int ``random_state`` the fit is reproducible.
    Tasks may share rows (pass the same ``X`` for several tasks).

    The paper's ``Z = f_theta(X)`` is one function of one input space shared by every task
    (homogeneous-feature MTL), and that is what ``input_layer="shared"`` (the default for
    tasks of one width) fits. Tasks of different widths (``input_layer="per_task"``) depart
    from it: ``Z_j = g_theta(h_j(X_j))`` with a task-specific first layer ``h_j`` and a
    shared rest ``g_theta``. ``Z`` is then shared from the first hidden layer on rather
    than a function of common inputs, so two tasks can only be found similar (close noise
    variances) through what their input maps learned to put into the shared layers; the
    information term ``I(X_j; W_j)`` and eq. (11) are unchanged. The per-task map needs at
    least one hidden layer (its width is the shared width) and is not the paper's model even
    for tasks of one width.
"""

_FITTED_DOC = """
    Attributes
    ----------
    noise_log_var_ : ndarray of shape (n_tasks, latent_dim)
        Learned ``log sigma^2_{j,i}``: small = task ``j`` reads latent dimension ``i``; large =
        the dimension is drowned in noise for that task. ``-inf`` everywhere with
        ``noise=False``.
    prior_log_var_ : ndarray of shape (n_tasks, latent_dim)
        Learned ``log xi^2_{j,i}`` of the variational marginals ``q_j``.
    task_dissimilarity_ : ndarray of shape (n_tasks, n_tasks)
        Eq. (11): L1 distance between the tasks' noise log-variances (zeros with
        ``noise=False``).
    latent_dim_ : int
    input_layer_ : {"shared", "per_task"}
        The input layer fitted (``input_layer`` with ``"auto"`` resolved).
    n_tasks_, task_names_, net_, module_, history_, n_iter_, ...
        See :class:`skmtl.base.MultiTaskNetEstimator`.
"""


def _check_beta(beta, n_tasks=None):
    arr = np.asarray(beta, dtype=np.float64)
    if arr.ndim > 1 or arr.size == 0:
        raise ValueError(f"beta must be a float or a 1-D array of floats, got {beta!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"beta must be finite and >= 0, got {beta!r}")
    if n_tasks is not None and arr.ndim == 1 and arr.size not in (1, n_tasks):
        raise ValueError(
            f"beta has {arr.size} values but there are {n_tasks} tasks; give one value or one "
            "per task"
        )
    return arr


_PREDICT_NOISE = ("mean", "sample")


@training_parameters(batching="mixed")
class _HIBMixin:
    """Parameters, module construction, two-stage fit, prediction noise, task similarity."""

    _layer_size_params = ("hidden_layer_sizes", "head_hidden_layer_sizes")

    _hib_constraints = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left"), "array-like"],
        "hidden_layer_sizes": ["array-like"],
        "head_hidden_layer_sizes": ["array-like"],
        "noise": ["boolean"],
        "learn_noise": ["boolean"],
        "noise_init_std": [Interval(Real, 0, None, closed="left")],
        "fixed_noise_log_var": [Interval(Real, None, None, closed="neither")],
        "noise_refit_epochs": [Interval(Integral, 0, None, closed="left"), None],
        "log_var_lr_scale": [Interval(Real, 0, None, closed="neither")],
        "scale_inputs": ["boolean"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "input_layer": [StrOptions({"auto", "shared", "per_task"})],
    }

    def __init__(
        self,
        latent_dim=4,
        *,
        beta=0.1,
        hidden_layer_sizes=(32, 32),
        head_hidden_layer_sizes=(),
        noise=True,
        learn_noise=True,
        noise_init_std=0.01,
        fixed_noise_log_var=1.0,
        noise_refit_epochs=None,
        log_var_lr_scale=10.0,
        scale_inputs=True,
        activation="relu",
        input_layer="auto",
    ):
        self.latent_dim = latent_dim
        self.beta = beta
        self.hidden_layer_sizes = hidden_layer_sizes
        self.head_hidden_layer_sizes = head_hidden_layer_sizes
        self.noise = noise
        self.learn_noise = learn_noise
        self.noise_init_std = noise_init_std
        self.fixed_noise_log_var = fixed_noise_log_var
        self.noise_refit_epochs = noise_refit_epochs
        self.log_var_lr_scale = log_var_lr_scale
        self.scale_inputs = scale_inputs
        self.activation = activation
        self.input_layer = input_layer

    @property
    def _scale_inputs(self):
        return bool(self.scale_inputs)

    def _check_params(self):
        _check_beta(self.beta)

    def _build_module(self, spec):
        beta = _check_beta(self.beta, spec.n_tasks)
        return HierarchicalIBModule(
            n_features=self._input_widths(spec),
            n_outputs=spec.n_outputs,
            hidden_layer_sizes=tuple(int(h) for h in self.hidden_layer_sizes),
            latent_dim=int(self.latent_dim),
            head_hidden_layer_sizes=tuple(int(h) for h in self.head_hidden_layer_sizes),
            beta=beta.tolist() if beta.ndim else float(beta),
            noise=self.noise,
            learn_noise=self.learn_noise,
            noise_init_std=self.noise_init_std,
            fixed_noise_log_var=self.fixed_noise_log_var,
            activation=self.activation,
        )

    def _input_widths(self, spec):
        """The module's ``n_features``: one shared width, or every task's (per-task input)."""
        widths = [int(f) for f in spec.n_features]
        mode = self.input_layer
        if mode == "auto":
            mode = "shared" if len(set(widths)) == 1 else "per_task"
        if mode == "shared":
            if len(set(widths)) > 1:
                counts = ", ".join(f"task {i} has {k}" for i, k in enumerate(widths))
                raise ValueError(
                    f"input_layer='shared' needs every task to share one feature space (the "
                    f"same number of features): {counts}. Use input_layer='per_task' (or "
                    "'auto') to give every task its own first layer."
                )
            return widths[0]
        if len(self.hidden_layer_sizes) == 0:
            raise ValueError(
                "input_layer='per_task' maps every task into the first hidden layer of the "
                "encoder, but hidden_layer_sizes is empty; give at least one hidden layer "
                "(e.g. hidden_layer_sizes=(32,))."
            )
        return widths

    def _optimizer_param_groups(self):
        # the log-variances learn log_var_lr_scale times faster: their own parameter group
        if self.log_var_lr_scale == 1:
            return ()
        lr = self.lr * self.log_var_lr_scale
        return (("noise_log_var", {"lr": lr}), ("prior_log_var", {"lr": lr}))

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, metadata=None):
        """Fit on a list of tasks (of one width, or of several with a per-task input layer).

        With ``learn_noise=False`` this runs the paper's two-stage fixed-noise protocol: stage
        1 trains encoder and heads with fixed variances for ``max_epochs``; stage 2 freezes the
        encoder and trains the variances with the heads for ``noise_refit_epochs``.

        Parameters
        ----------
        X : list of (X_t, y_t), Tasks, tuple (X, y), or list of X_t
            The tasks. With ``input_layer="shared"`` every ``X_t`` must have the same
            number of columns; otherwise tasks may differ in width.
        y : list of array-like, default=None
            Targets, when ``X`` holds only features.
        metadata : ignored (accepted for API compatibility; a warning is raised).

        Returns
        -------
        self
        """
        tasks, _ = as_tasks(X, y, metadata)
        self._fit_tasks(tasks, train=True)
        n2 = self.max_epochs if self.noise_refit_epochs is None else self.noise_refit_epochs
        self.stage_epochs_ = (int(self.n_iter_), 0)
        if self.noise and not self.learn_noise and n2 > 0:
            n1 = int(self.n_iter_)
            self.module_.set_trainable(encoder=False, noise=True)
            try:  # stage 2 continues the fitted net for n2 epochs
                self._fit_tasks(tasks, train=True, stage={"max_epochs": int(n2)})
            finally:
                self.module_.set_trainable(encoder=True, noise=False)
            self.stage_epochs_ = (n1, int(self.n_iter_) - n1)
            self._on_fitted()
        return self

    def _on_fitted(self):
        module = self.module_
        self.latent_dim_ = int(module.latent_dim)
        self.input_layer_ = "per_task" if module.per_task_input else "shared"
        if module.noise:
            lv = module.noise_log_var.detach().cpu().double().numpy()
            self.noise_log_var_ = lv
            self.task_dissimilarity_ = noise_dissimilarity(lv)
        else:
            shape = (module.n_tasks, module.latent_dim)
            self.noise_log_var_ = np.full(shape, -np.inf)
            self.task_dissimilarity_ = np.zeros((module.n_tasks, module.n_tasks))
        self.prior_log_var_ = module.prior_log_var.detach().cpu().double().numpy()

    # ------------------------------------------------------------------ prediction noise
    @contextmanager
    def _prediction_noise(self, noise, random_state):
        """Predict inside the block with ``W = Z`` ("mean") or one seeded sample ("sample")."""
        if not isinstance(noise, str) or noise not in _PREDICT_NOISE:
            raise ValueError(f"noise must be one of {_PREDICT_NOISE}, got {noise!r}")
        check_is_fitted(self)
        if noise == "mean":
            yield
            return
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        with self.module_.posterior_sampling(seed):
            yield

    # ------------------------------------------------------------------ task similarity
    def cluster_tasks(self, n_clusters=2, *, distance_threshold=None, linkage="average"):
        """Cluster the tasks from ``task_dissimilarity_`` (agglomerative clustering).

        Parameters
        ----------
        n_clusters : int or None, default=2
            Number of clusters (None with ``distance_threshold``).
        distance_threshold : float, optional
            Cut the dendrogram at this linkage distance instead.
        linkage : {"average", "complete", "single"}, default="average"

        Returns
        -------
        ndarray of int, shape (n_tasks,)
            Cluster label of every task, in fit order.

        Examples
        --------
        See the class example; on a fitted model ``clf.cluster_tasks(2)`` returns e.g.
        ``array([0, 0, 1, 1])`` when tasks 0, 1 and tasks 2, 3 read the same latent dimensions.
        """
        check_is_fitted(self)
        return cluster_tasks(
            self.task_dissimilarity_,
            n_clusters,
            distance_threshold=distance_threshold,
            linkage=linkage,
        )

    def plot_task_similarity(self, task_names=None, *, axes=None):
        """Heatmap of ``task_dissimilarity_`` and of ``noise_log_var_`` (Figure 2).

        Needs matplotlib. Returns the matplotlib Figure.

        Examples
        --------
        >>> fig = clf.plot_task_similarity(["a", "b", "c", "d"])  # doctest: +SKIP
        >>> fig.savefig("hib_similarity.png")  # doctest: +SKIP
        """
        check_is_fitted(self)
        if not self.noise:
            raise ValueError("noise=False: there are no noise variances to plot")
        names = self.task_names_ if task_names is None else task_names
        return plot_task_dissimilarity(
            self.task_dissimilarity_, self.noise_log_var_, names, axes=axes
        )


class HierarchicalIBClassifier(_HIBMixin, LatentTransformerMixin, MultiTaskClassifier):
    __doc__ = (
        """Multi-task classifier with a hierarchical information bottleneck.

    A shared encoder gives the task-agnostic ``Z``; every task reads a noisy copy
    ``W_j = Z + N_j`` whose per-dimension noise variances are learned under an information
    bottleneck penalty, so each task keeps only the latent dimensions it needs. Tasks that
    use the same dimensions have similar noise log-variances: ``task_dissimilarity_`` (eq. 11)
    and :meth:`cluster_tasks` group related tasks.
"""
        + _MODEL_PARAMS_DOC
        + _FITTED_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.hib import HierarchicalIBClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 6))
    >>> tasks = [(X, X[:, 0] > 0), (X, X[:, 0] > 0.3), (X, X[:, 1] > 0), (X, X[:, 1] > -0.3)]
    >>> clf = HierarchicalIBClassifier(latent_dim=4, beta=0.1, lr=1e-2, max_epochs=30,
    ...                                early_stopping=False, random_state=0).fit(tasks)
    >>> clf.score(tasks) > 0.9
    True
    >>> clf.noise_log_var_.shape, clf.task_dissimilarity_.shape
    ((4, 4), (4, 4))
    >>> clf.transform(X, task=0).shape
    (300, 4)
    >>> labels = clf.cluster_tasks(n_clusters=2)  # tasks 0, 1 read x0; tasks 2, 3 read x1
    >>> bool(labels[0] == labels[1] != labels[2] == labels[3])
    True
    >>> sampled = clf.predict([X] * 4, noise="sample", random_state=0)  # one posterior draw
    >>> float(np.mean(sampled[0] == (X[:, 0] > 0))) > 0.8
    True
    """
    )

    _parameter_constraints = {
        **MultiTaskClassifier._parameter_constraints,
        **_HIBMixin._hib_constraints,
    }

    def predict_proba(self, X, *, noise="mean", random_state=0):
        """Class probabilities per task, with ``W_j = Z`` or one posterior sample.

        Parameters
        ----------
        X : list of array-like, Tasks, or array-like
            One feature matrix per fitted task, in fit order.
        noise : {"mean", "sample"}, default="mean"
            ``"mean"``: ``W_j = Z`` (deterministic). ``"sample"``: one draw
            ``W_j = Z + sigma_j * eps`` per row, as the paper evaluates.
        random_state : int, RandomState or None, default=0
            Seeds the noise of ``noise="sample"`` (the same seed and rows give the same
            probabilities); None draws fresh noise.

        Returns
        -------
        list of ndarray of shape (n_rows_t, n_classes_t), or one such array

        Examples
        --------
        See the class example: ``clf.predict_proba([X] * 4, noise="sample", random_state=1)``.
        """
        with self._prediction_noise(noise, random_state):
            return super().predict_proba(X)

    def predict(self, X, *, noise="mean", random_state=0):
        """Predicted labels per task; ``noise`` and ``random_state`` as :meth:`predict_proba`.

        Parameters
        ----------
        X : list of array-like, Tasks, or array-like
        noise : {"mean", "sample"}, default="mean"
        random_state : int, RandomState or None, default=0

        Returns
        -------
        list of ndarray of shape (n_rows_t,), or one such array

        Examples
        --------
        See the class example: ``clf.predict([X] * 4, noise="sample")``.
        """
        with self._prediction_noise(noise, random_state):  # the base's argmax of the probas
            return super().predict(X)


class HierarchicalIBRegressor(_HIBMixin, LatentTransformerMixin, MultiTaskRegressor):
    __doc__ = (
        """Multi-task regressor with a hierarchical information bottleneck.

    The regression twin of :class:`HierarchicalIBClassifier`: the cross-entropy of eq. (3) is
    replaced by a Gaussian negative log-likelihood with a learned variance per task and target
    column (targets are standardised per task for training), so the likelihood and the
    information penalty are both in nats.
"""
        + _MODEL_PARAMS_DOC
        + _FITTED_DOC
        + """    likelihood_log_var_ : ndarray of shape (n_tasks, n_outputs)
        Learned log-variance of the Gaussian likelihood, in standardised target units.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.hib import HierarchicalIBRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 5))
    >>> tasks = [(X, X[:, 0]), (X, X[:, 0] + 0.1 * X[:, 2]), (X, X[:, 1])]
    >>> reg = HierarchicalIBRegressor(latent_dim=3, beta=0.01, lr=1e-2, max_epochs=40,
    ...                               early_stopping=False, random_state=0).fit(tasks)
    >>> reg.score(tasks) > 0.8
    True
    """
    )

    _parameter_constraints = {
        **MultiTaskRegressor._parameter_constraints,
        **_HIBMixin._hib_constraints,
    }
    _task_kind = "regression"

    def _build_criterion(self, spec):
        return GaussianNLL(spec.n_outputs)

    def predict(self, X, *, noise="mean", random_state=0):
        """Predicted targets per task, with ``W_j = Z`` or one posterior sample.

        Parameters
        ----------
        X : list of array-like, Tasks, or array-like
        noise : {"mean", "sample"}, default="mean"
            ``"mean"``: ``W_j = Z`` (deterministic). ``"sample"``: one draw
            ``W_j = Z + sigma_j * eps`` per row, as the paper evaluates.
        random_state : int, RandomState or None, default=0
            Seeds the noise of ``noise="sample"``; None draws fresh noise.

        Returns
        -------
        list of ndarray of shape (n_rows_t,) or (n_rows_t, n_outputs), or one such array

        Examples
        --------
        See the class example: ``reg.predict([X] * 3, noise="sample", random_state=1)``.
        """
        with self._prediction_noise(noise, random_state):
            return super().predict(X)

    def _on_fitted(self):
        super()._on_fitted()
        crit = getattr(self.net_, "criterion_", None)
        if isinstance(crit, GaussianNLL):
            self.likelihood_log_var_ = (
                crit.log_var.detach().cpu().double().numpy()[:, : self.n_outputs_]
            )
