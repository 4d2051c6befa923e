"""Shared variable embeddings (SVE) and the Traveling Observer Model (TOM) as a classifier.

Paper: Żelaszczyk and Mańdziuk (2024), *Interpretable Multi-task Learning with Shared
Variable Embeddings*. The torch network lives in :mod:`skmtl.nn.sve`; the concept tables and
plots in :mod:`skmtl.interpret.sve`. See ``docs/sve.md`` for the method and how every
equation maps to code.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skmtl._selection import PerTaskCheckpoint, TaskSnapshots
from skmtl._training import _seed_context, continue_training, train_net
from skmtl.base import MultiTaskClassifier, training_parameters
from skmtl.interpret import sve as _interp
from skmtl.nn.attention import ALPHA_MAX, ALPHA_MIN
from skmtl.nn.losses import MaskedSquaredHinge
from skmtl.nn.sve import (
    EnsembleCriterion,
    SharedVariableEmbeddingEnsemble,
    SharedVariableEmbeddingNet,
)
from skmtl.tasks import TaskSpec, as_tasks

__all__ = ["SharedVariableEmbeddingClassifier", "PRESETS", "training_budget"]

#: Named parameter sets for :meth:`SharedVariableEmbeddingClassifier.from_preset`.
#: ``"paper"``: the paper's setting (Appendix D: C = D = H = 128, 10 layers per network, sum
#: pooling, no dropout, Adam lr 1e-3, weight decay 1e-5, embeddings ~ N(0, 1), 1.05-entmax with
#: learned alpha; one sampled task of 128 rows per step, early stopping on the validation loss).
#: ``"small"``: the CPU-sized model of the earlier PMLB benchmark runs (C = 32, D = 128, H = 64,
#: 2 layers per network, lr 2e-3, batches of 128 rows); its training settings are the defaults.
PRESETS = {
    "paper": dict(
        embedding_dim=128,
        n_shared=128,
        hidden_dim=128,
        n_encoder_layers=10,
        n_core_layers=10,
        n_decoder_layers=10,
        dropout=0.0,
        aggregation="sum",
        lr=1e-3,
        weight_decay=1e-5,
        batch_size=128,
        batching="task",
        task_sampling="uniform",
        tasks_per_step=None,
        steps_per_epoch=None,
        early_stopping=True,
        max_epochs=100,
        n_iter_no_change=10,
    ),
    "small": dict(
        embedding_dim=32,
        n_shared=128,
        hidden_dim=64,
        n_encoder_layers=2,
        n_core_layers=2,
        n_decoder_layers=2,
        dropout=0.0,
        lr=2e-3,
        weight_decay=1e-5,
        batch_size=128,
    ),
}

#: rows each task gives to a training step when ``batch_size="auto"``
ROWS_PER_TASK_STEP = 32
#: most distinct tasks in one mixed step when ``tasks_per_step="auto"``
MAX_TASKS_PER_STEP = 32


def training_budget(
    train_sizes,
    *,
    batching="mixed",
    batch_size="auto",
    tasks_per_step="auto",
    steps_per_epoch="auto",
):
    """Step size and epoch length of a fit, derived from the training rows of every task.

    ``"auto"`` values are resolved as follows (explicit values are kept):

    * ``tasks_per_step``: ``min(n_tasks, MAX_TASKS_PER_STEP)`` with mixed batching (None
      with one task per step);
    * ``batch_size``: ``ROWS_PER_TASK_STEP`` rows from each task of a step, i.e.
      ``32 * tasks_per_step`` rows per mixed step and 32 per one-task step;
    * ``steps_per_epoch``: the steps that take the median task once through its rows, i.e.
      ``ceil(n_tasks / tasks_per_step * median(rows) / rows_per_task_per_step)``. Small
      tasks are then seen several times per epoch, large ones in part, and validation (and
      per-task selection) happens at the same pace whatever the number of tasks.

    Parameters
    ----------
    train_sizes : sequence of int
        Training rows of every task.
    batching : {"mixed", "task"}, default="mixed"
    batch_size, tasks_per_step, steps_per_epoch : int, None or "auto", default="auto"

    Returns
    -------
    dict
        ``batch_size``, ``tasks_per_step`` and ``steps_per_epoch``, resolved.

    Examples
    --------
    >>> training_budget([100, 300, 500])
    {'batch_size': 96, 'tasks_per_step': 3, 'steps_per_epoch': 10}
    >>> training_budget([1000], batching="task")
    {'batch_size': 32, 'tasks_per_step': None, 'steps_per_epoch': 32}
    """
    sizes = np.asarray(train_sizes, dtype=np.int64)
    n_tasks = len(sizes)
    if tasks_per_step == "auto":
        tasks_per_step = min(n_tasks, MAX_TASKS_PER_STEP) if batching == "mixed" else None
    if batching == "mixed":
        per_step = n_tasks if tasks_per_step is None else min(int(tasks_per_step), n_tasks)
    else:
        per_step = 1
    if batch_size == "auto":
        batch_size = ROWS_PER_TASK_STEP * per_step
    if steps_per_epoch == "auto":
        chunk = math.ceil(batch_size / per_step)
        median = max(1.0, float(np.median(sizes)))
        steps_per_epoch = max(1, math.ceil(n_tasks / per_step * median / chunk))
    return {
        "batch_size": int(batch_size),
        "tasks_per_step": tasks_per_step,
        "steps_per_epoch": steps_per_epoch,
    }


@training_parameters(
    lr=2e-3,
    max_epochs=300,
    batch_size="auto",
    batching="mixed",
    task_sampling="uniform",
    tasks_per_step="auto",
    steps_per_epoch="auto",
    weight_decay=1e-5,
    early_stopping="per_task",
    n_iter_no_change=20,
)
class SharedVariableEmbeddingClassifier(MultiTaskClassifier):
    """Multi-task classifier with (shared) variable embeddings — SVE and TOM.

    Every input variable of every task is a (value, embedding) pair and every class of
    every task is an output variable with its own embedding, so tasks of any width and any
    number of classes train together in one network (paper eqs. 2, 3, 6):

    ``score_j = g2(g1(pool_i f(x_i, f_i)), z_j)``

    ``f`` is a FiLM-conditioned encoder, ``g1`` a core of residual blocks, ``g2`` a
    FiLM-conditioned decoder. With ``n_shared`` set, the processed embedding ``f_i`` of a
    variable is its raw embedding's attention over ``n_shared`` learned shared embeddings
    (eq. 5, softmax or alpha-entmax); with ``n_shared=None`` it is the raw embedding (the
    vanilla variable-embedding model, TOM). Training minimises the squared hinge loss on a
    +1/-1 encoding of the classes (eq. 7) plus optional regularisers of the shared base
    (Appendix A).

    Parameters
    ----------
    embedding_dim : int, default=32
        Dimension ``C`` of variable and shared embeddings (the paper: 128).
    n_shared : int or None, default=128
        Number ``D`` of shared embeddings; ``None`` gives vanilla variable embeddings (TOM).
    hidden_dim : int, default=64
        Latent width ``H`` of encoder, core and decoder (the paper: 128).
    n_encoder_layers, n_core_layers, n_decoder_layers : int, default=2
        Layers of ``f``, ``g1``, ``g2`` (the paper: 10 each), counted as TOM counts them:
        the encoder's FiLM input layer and the decoder's target-conditioned output layer
        are one layer each, the others are pre-activation residual blocks.
    dropout : float, default=0.0
        Dropout of every residual branch, after the encoder's input layer and before the
        output layer (the paper's main results: 0).
    attention : {"entmax", "softmax"}, default="entmax"
        Normaliser of the shared-embedding attention: alpha-entmax (sparse, exact zeros;
        the paper's best model) or softmax (the paper's base SVE).
    alpha : float, default=1.05
        Entmax alpha, or its initial value with ``learn_alpha`` (range [1.01, 4]).
    learn_alpha : bool, default=True
        Learn alpha by gradient descent (Table 3).
    embedding_std : float or None, default=None
        Standard deviation of the normal initialisation of every embedding. ``None``: 1.0
        with shared embeddings and 1e-3 for vanilla TOM, as in the paper (Appendix D).
    orthogonal_weight : float, default=0.0
        Weight ``alpha_orth`` of the orthogonality penalty ``||S^T S - I||_F^2`` (eq. 8).
    stable_rank_weight : float, default=0.0
        Weight ``alpha_sr`` of the stable-rank penalty ``C - sr(S)`` (eq. 10).
    von_neumann_weight : float, default=0.0
        Weight ``alpha_vN`` of the negative von Neumann entropy of the row-normalised ``S``
        (eq. 12). Several penalties may be combined.
    aggregation : {"mean", "sum"}, default="mean"
        Pooling of the encoded variables: ``"sum"`` is the paper's eq. 2; ``"mean"`` divides
        by the number of variables of the row (still order-free). Mean is the default
        because it trained markedly better in our CPU runs (see ``docs/sve.md``).
    n_concept_variables : int, default=5
        ``K``, the variables listed per shared embedding in ``concepts_`` (eq. 16).
    n_estimators : int, default=1
        Members of an ensemble inside the estimator: ``n_estimators`` independently
        initialised networks trained on the same batches with the sum of their losses
        (each trains as it would alone), whose class scores are averaged for validation,
        per-task selection and prediction. ``concepts_``, ``attention_``, the embeddings,
        ``alpha_`` and ``stable_rank_`` describe the first member (``module_.members[0]``):
        embeddings of different members live in unrelated spaces and are not averaged.
    refine_epochs : int, default=0
        Most epochs of a per-task refinement stage after joint training (0: none; needs
        ``early_stopping="per_task"`` and validation rows). The stage continues training
        every parameter from the joint stage's last weights, on the same training rows
        and step sizes, but draws the tasks of each step in proportion to their training
        rows (the joint stage draws them uniformly), so large tasks get the steps they
        lacked without taking any from the small ones: every task keeps its joint-stage
        weights unless its own validation loss falls below its joint-stage best (the
        per-task selection continues across both stages). It stops early when the
        row-weighted mean of the per-task best validation losses stalls for
        ``n_iter_no_change`` epochs. ``refined_tasks_`` says which tasks moved.
    refine_lr : float or None, default=None
        Learning rate of the refinement stage; ``lr`` when None.
    lr : float, default=2e-3
        Adam learning rate (paper: 1e-3).
    max_epochs : int, default=300
        Most epochs; with the default ``steps_per_epoch="auto"`` an epoch is the steps
        that take the median task once through its rows.
    batch_size : int or "auto", default="auto"
        Rows per training step. ``"auto"``: 32 rows from each task of a step (see
        :func:`training_budget`); resolved at fit time into ``batch_size_``.
    batching : {"mixed", "task"}, default="mixed"
        ``"mixed"``: rows of ``tasks_per_step`` tasks per step, zero-padded and masked (one
        forward pass); ``"task"``: sample a task, then a batch of its rows (the paper's
        training).
    task_sampling : {"uniform", "proportional", "sqrt"}, default="uniform"
        Uniform: every task is drawn equally often (the paper's "sample a task");
        ``"sqrt"``: in proportion to the square root of its rows, which gives large
        tasks more steps (a departure from the paper, see ``docs/sve.md``).
    tasks_per_step : int, None or "auto", default="auto"
        Distinct tasks per mixed step; ``"auto"``: ``min(n_tasks, 32)``. Resolved into
        ``tasks_per_step_``.
    steps_per_epoch : int, None or "auto", default="auto"
        Steps between two validations; ``"auto"``: the steps that take the median task
        once through its rows; None: one pass over every row. Resolved into
        ``steps_per_epoch_``.
    early_stopping : bool or "per_task", default="per_task"
        ``"per_task"``: every task predicts with the weights of the epoch where its own
        validation loss was lowest (see :class:`skmtl.base.MultiTaskNetEstimator`).
    n_iter_no_change : int, default=20
        Epochs without improvement before training stops.
    optimizer, validation_fraction, tol, callbacks, warm_start, verbose, device, random_state
        Training parameters shared by every skmtl network; see
        :class:`skmtl.base.MultiTaskNetEstimator`. ``verbose=1`` prints one line per
        epoch (skorch's table: losses, validation score, duration).
    weight_decay : float, default=1e-5
        Paper: 1e-5.

    Attributes
    ----------
    shared_embeddings_ : ndarray of shape (D, C) or None
        The shared base ``S`` (None for vanilla).
    variable_embeddings_ : list of ndarray of shape (n_features_t, C)
        Raw input-variable embeddings ``z_i`` per task.
    processed_embeddings_ : list of ndarray of shape (n_features_t, C)
        Processed embeddings ``f_i = A(z_i, S, S)`` (eq. 5); equal to the raw ones for vanilla.
    output_embeddings_ : list of ndarray of shape (n_classes_t, C)
        Embeddings of every task's class (target) variables.
    attention_ : list of ndarray of shape (n_features_t, D) or None
        Attention weights of every input variable over the shared base (rows sum to 1;
        exact zeros under entmax).
    alpha_ : float or None
        Effective entmax alpha after training (None for softmax / vanilla).
    stable_rank_ : float or None
        Stable rank ``||S||_F^2 / ||S||_2^2`` (eq. 9) of the shared base.
    concepts_ : pandas.DataFrame or None
        One row per (shared embedding, rank): the ``n_concept_variables`` input variables
        whose processed embeddings are most cosine-similar to each shared embedding
        (eq. 16), with columns ``shared_embedding``, ``rank``, ``task``, ``variable``,
        ``similarity``, ``attention``. None for vanilla.
    batch_size_, tasks_per_step_, steps_per_epoch_ : int or None
        The step size, tasks per step and epoch length this fit used (``"auto"`` resolved
        from the training rows of every task, see :func:`training_budget`).
    best_epoch_ : int or None
        Epoch (1-based) with the best validation loss (the weights kept by early stopping).
    add_tasks_history_, add_tasks_budget_ : skorch History, dict
        After :meth:`add_tasks`: the last stage's history and the step sizes resolved from
        the new tasks' rows (``history_`` and ``batch_size_`` still describe the fit).
    n_steps_to_best_ : int or None
        Optimizer steps up to the end of ``best_epoch_``.
    n_refine_epochs_ : int
        Epochs the refinement stage ran (0 without one); the last ``n_refine_epochs_``
        epochs of ``history_``.
    refined_tasks_ : ndarray of bool of shape (n_tasks,) or None
        Which tasks predict with weights of the refinement stage (None without per-task
        selection).
    classes_, task_classes_, n_tasks_, task_names_, net_, module_, history_, n_steps_, ...
        See :class:`skmtl.base.MultiTaskClassifier`.

    Notes
    -----
    ``predict_proba`` normalises the per-class hinge scores: each score is clipped to the
    margin ``[-1, 1]`` and mapped to ``[0, 1]``, a ``1e-3 * softmax(scores)`` tie-breaker is
    added (so the ordering of the raw scores is kept), and the row is divided by its sum.
    ``predict`` is the argmax, i.e. the class with the largest raw score.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.sve import SharedVariableEmbeddingClassifier
    >>> rng = np.random.default_rng(0)
    >>> X1, X2 = rng.normal(size=(150, 3)), rng.normal(size=(120, 5))
    >>> tasks = [(X1, X1[:, 0] > 0), (X2, np.digitize(X2[:, 1], [-0.5, 0.5]))]
    >>> clf = SharedVariableEmbeddingClassifier.from_preset(
    ...     "small", max_epochs=30, random_state=0).fit(tasks)
    >>> clf.score(tasks) > 0.8
    True
    >>> clf.shared_embeddings_.shape, [a.shape for a in clf.attention_]
    ((128, 32), [(3, 128), (5, 128)])
    >>> list(clf.concepts_.columns)[:4]
    ['shared_embedding', 'rank', 'task', 'variable']
    """

    #: a missing value (NaN) is an absent variable, masked out of the pooled sum / mean
    _missing_values = "mask"

    _parameter_constraints = {
        **MultiTaskClassifier._parameter_constraints,
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "n_shared": [Interval(Integral, 1, None, closed="left"), None],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "n_encoder_layers": [Interval(Integral, 1, None, closed="left")],
        "n_core_layers": [Interval(Integral, 0, None, closed="left")],
        "n_decoder_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "attention": [StrOptions({"softmax", "entmax"})],
        "alpha": [Interval(Real, ALPHA_MIN, ALPHA_MAX, closed="both")],
        "learn_alpha": ["boolean"],
        "embedding_std": [Interval(Real, 0, None, closed="neither"), None],
        "orthogonal_weight": [Interval(Real, 0, None, closed="left")],
        "stable_rank_weight": [Interval(Real, 0, None, closed="left")],
        "von_neumann_weight": [Interval(Real, 0, None, closed="left")],
        "aggregation": [StrOptions({"sum", "mean"})],
        "n_concept_variables": [Interval(Integral, 1, None, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "refine_epochs": [Interval(Integral, 0, None, closed="left")],
        "refine_lr": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "tasks_per_step": [Interval(Integral, 1, None, closed="left"), None, StrOptions({"auto"})],
        "steps_per_epoch": [
            Interval(Integral, 1, None, closed="left"),
            None,
            StrOptions({"auto"}),
        ],
    }

    def __init__(
        self,
        embedding_dim=32,
        *,
        n_shared=128,
        hidden_dim=64,
        n_encoder_layers=2,
        n_core_layers=2,
        n_decoder_layers=2,
        dropout=0.0,
        attention="entmax",
        alpha=1.05,
        learn_alpha=True,
        embedding_std=None,
        orthogonal_weight=0.0,
        stable_rank_weight=0.0,
        von_neumann_weight=0.0,
        aggregation="mean",
        n_concept_variables=5,
        n_estimators=1,
        refine_epochs=0,
        refine_lr=None,
    ):
        self.embedding_dim = embedding_dim
        self.n_shared = n_shared
        self.hidden_dim = hidden_dim
        self.n_encoder_layers = n_encoder_layers
        self.n_core_layers = n_core_layers
        self.n_decoder_layers = n_decoder_layers
        self.dropout = dropout
        self.attention = attention
        self.alpha = alpha
        self.learn_alpha = learn_alpha
        self.embedding_std = embedding_std
        self.orthogonal_weight = orthogonal_weight
        self.stable_rank_weight = stable_rank_weight
        self.von_neumann_weight = von_neumann_weight
        self.aggregation = aggregation
        self.n_concept_variables = n_concept_variables
        self.n_estimators = n_estimators
        self.refine_epochs = refine_epochs
        self.refine_lr = refine_lr

    @classmethod
    def from_preset(cls, preset="small", **params):
        """Build an estimator from a named parameter set, overridden by ``params``.

        Parameters
        ----------
        preset : {"paper", "small"}, default="small"
            See :data:`PRESETS`.
        **params
            Any constructor parameter; wins over the preset.

        Returns
        -------
        SharedVariableEmbeddingClassifier

        Examples
        --------
        >>> clf = SharedVariableEmbeddingClassifier.from_preset("small", n_shared=None)
        >>> clf.embedding_dim, clf.n_shared, clf.n_encoder_layers
        (32, None, 2)
        """
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}.")
        return cls(**{**PRESETS[preset], **params})

    # ------------------------------------------------------------------ hooks
    def _regularizers(self):
        return {
            "orthogonal": float(self.orthogonal_weight),
            "stable_rank": float(self.stable_rank_weight),
            "von_neumann": float(self.von_neumann_weight),
        }

    def _check_params(self):
        if self.n_shared is None and any(w > 0 for w in self._regularizers().values()):
            raise ValueError(
                "orthogonal_weight, stable_rank_weight and von_neumann_weight regularise the "
                "shared embeddings; they need n_shared (got n_shared=None)."
            )

    def _training_budget(self, train_sizes):
        budget = training_budget(
            train_sizes,
            batching=self.batching,
            batch_size=self.batch_size,
            tasks_per_step=self.tasks_per_step,
            steps_per_epoch=self.steps_per_epoch,
        )
        self.batch_size_ = budget["batch_size"]
        self.tasks_per_step_ = budget["tasks_per_step"]
        self.steps_per_epoch_ = budget["steps_per_epoch"]
        return {**budget, "eval_batch_size": self._eval_batch_size()}

    def _later_stage(self, spec):
        """The per-task refinement stage (``refine_epochs``), or None."""
        self.n_refine_epochs_ = 0
        if not self.refine_epochs or self.early_stopping != "per_task":
            return None

        def refine(net, ds_train, ds_valid, rng):
            first = dict(net.callbacks_).get("per_task_checkpoint")
            if ds_valid is None or first is None or first.best_epoch_ is None:
                return
            n_joint = len(net.history)
            config = dataclasses.replace(
                self._training_config(),
                lr=self.lr if self.refine_lr is None else float(self.refine_lr),
                max_epochs=int(self.refine_epochs),
                task_sampling="proportional",
                batch_size=self.batch_size_,
                tasks_per_step=self.tasks_per_step_,
                steps_per_epoch=self.steps_per_epoch_,
            )
            checkpoint = PerTaskCheckpoint(
                patience=first.patience,
                tol=first.tol,
                sink=first.sink,
                initial=first,
                weights=ds_train.sizes,
            )
            callbacks = [
                (name, cb)
                for name, cb in self._callbacks(spec, True)
                if name != "per_task_checkpoint"
            ]
            callbacks.append(("per_task_checkpoint", checkpoint))
            continue_training(net, config, ds_train, ds_valid, callbacks=callbacks, loader_rng=rng)
            checkpoint.initial = None  # the joint stage's snapshots are not kept in the model
            self.n_refine_epochs_ = len(net.history) - n_joint

        return refine

    def _eval_batch_size(self):
        # rows are cheap to evaluate: validation and prediction in batches of >= 1,024 rows
        return max(getattr(self, "batch_size_", 0), 1024)

    def _embedding_std(self):
        if self.embedding_std is not None:
            return float(self.embedding_std)
        return 1e-3 if self.n_shared is None else 1.0

    def _build_module(self, spec):
        params = dict(
            embedding_dim=self.embedding_dim,
            n_shared=self.n_shared,
            hidden_dim=self.hidden_dim,
            n_encoder_layers=self.n_encoder_layers,
            n_core_layers=self.n_core_layers,
            n_decoder_layers=self.n_decoder_layers,
            dropout=self.dropout,
            attention=self.attention,
            alpha=self.alpha,
            learn_alpha=self.learn_alpha,
            embedding_std=self._embedding_std(),
            regularizers=self._regularizers(),
            aggregation=self.aggregation,
        )
        if self.n_estimators == 1:
            return SharedVariableEmbeddingNet(spec.n_features, spec.n_outputs, **params)
        return SharedVariableEmbeddingEnsemble(
            self.n_estimators, spec.n_features, spec.n_outputs, **params
        )

    def _build_criterion(self, spec):
        criterion = MaskedSquaredHinge(spec.n_outputs)
        return criterion if self.n_estimators == 1 else EnsembleCriterion(criterion)

    def _described_module(self):
        """The network the fitted attributes describe (the first member of an ensemble)."""
        module = self.module_
        return module.members[0] if isinstance(module, SharedVariableEmbeddingEnsemble) else module

    def _proba_from_outputs(self, out):
        scores = out.float()
        p = (scores.clamp(-1.0, 1.0) + 1.0) / 2.0 + 1e-3 * torch.softmax(scores, dim=1)
        return p / p.sum(dim=1, keepdim=True)

    def _on_fitted(self):
        module = self._described_module()
        with torch.no_grad():
            F, W = module.processed_embeddings()
            Z = module.input_table().detach()
            Zo = module.output_table().detach()
            F = F.detach().float().cpu().numpy().astype(np.float64)
            Z = Z.float().cpu().numpy().astype(np.float64)
            Zo = Zo.float().cpu().numpy().astype(np.float64)
            W = None if W is None else W.detach().float().cpu().numpy().astype(np.float64)
        in_off = np.concatenate([[0], np.cumsum(module.n_features)])
        out_off = np.concatenate([[0], np.cumsum(module.n_outputs)])
        per_task = [slice(in_off[t], in_off[t + 1]) for t in range(module.n_tasks)]
        self.variable_embeddings_ = [Z[s] for s in per_task]
        self.processed_embeddings_ = [F[s] for s in per_task]
        self.output_embeddings_ = [Zo[out_off[t] : out_off[t + 1]] for t in range(module.n_tasks)]
        self.attention_ = None if W is None else [W[s] for s in per_task]
        if module.shared_embeddings is None:
            self.shared_embeddings_ = None
        else:
            self.shared_embeddings_ = (
                module.shared_embeddings.detach().float().cpu().numpy().astype(np.float64)
            )
        self.alpha_ = module.alpha_value()
        self.stable_rank_ = module.stable_rank()
        self.concepts_ = None if W is None else self.concepts(self.n_concept_variables)
        self.best_epoch_, self.n_steps_to_best_ = _best_epoch(self.history_)
        n_all = len(self.history_)
        n_joint = n_all - getattr(self, "n_refine_epochs_", 0)
        best = self.task_best_epoch_
        self.refined_tasks_ = (
            None if best is None else (np.asarray(best) > n_joint) & (np.asarray(best) <= n_all)
        )

    # ------------------------------------------------------------ new tasks
    def add_tasks(self, X, y=None, *, lr=None, max_epochs=None, fine_tune=False, fine_tune_lr=None):
        """Learn new tasks on the fitted model: new embeddings, the shared network frozen.

        Every new task gets embeddings for its input variables and its classes, drawn as
        at fit and trained on the new tasks' rows while every other parameter (shared
        embeddings, attention, encoder, core, decoder, the fitted tasks' embeddings) is
        frozen, through the same training layer, budget rules (:func:`training_budget`
        of the new tasks' rows) and selection as :meth:`fit` (``early_stopping``, a
        validation split of the new tasks' training rows). A small new table thus reuses
        what the network learned from the fitted tasks. Afterwards ``predict``,
        ``score``, ``score_tasks`` and the fitted attributes (``n_tasks_``,
        ``task_names_``, ``task_classes_``, feature names, ``variable_embeddings_``,
        ``attention_``, ``concepts_``, ...) cover the fitted tasks followed by the new
        ones. The fitted tasks predict exactly as before, with or without ``fine_tune``.

        Parameters
        ----------
        X : list of (X_t, y_t), Tasks, tuple (X, y), list of X_t, or array-like
            The new tasks, in any form :meth:`fit` takes. Names must differ from the
            fitted tasks' names; unnamed tasks (default names ``task_0``, ``task_1``,
            ...) are numbered after the fitted ones (``task_<n_tasks_>``, ...).
        y : list of array-like or array-like, default=None
            Targets, when ``X`` holds only features.
        lr : float, default=None
            Learning rate of the frozen stage; the estimator's ``lr`` when None.
        max_epochs : int, default=None
            Most epochs of each stage; the estimator's ``max_epochs`` when None.
        fine_tune : bool, default=False
            After the frozen stage, train every parameter on the new tasks' rows for a
            second stage at ``fine_tune_lr``; each new task keeps the stage whose
            validation loss (same validation rows) was lower. The fitted tasks keep the
            weights they predicted with (per-task snapshots), so they are unaffected.
        fine_tune_lr : float, default=None
            Learning rate of the fine-tuning stage; the estimator's ``lr / 10`` when None.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X1, X2 = rng.normal(size=(120, 3)), rng.normal(size=(60, 2))
        >>> clf = SharedVariableEmbeddingClassifier(max_epochs=5, random_state=0)
        >>> clf = clf.fit([(X1, X1[:, 0] > 0)])
        >>> clf = clf.add_tasks([(X2, X2[:, 1] > 0)])
        >>> clf.n_tasks_, clf.task_names_, [len(e) for e in clf.variable_embeddings_]
        (2, ['task_0', 'task_1'], [3, 2])
        """
        check_is_fitted(self)
        self._validate_params()
        lr, fine_tune_lr = self._check_add_tasks_args(lr, max_epochs, fine_tune, fine_tune_lr)
        tasks = _named_after(as_tasks(X, y)[0], self.task_names_)
        new = clone(self)
        Xs, ys, spec = new._prepare_tasks(tasks, warm=False)  # validated, encoded, scaled
        n_old, module = self.n_tasks_, self.module_
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        with _seed_context(self.random_state is not None, str(self.device)):
            torch.manual_seed(seed)  # the new embeddings' draw follows random_state
            added = module.add_tasks(spec.n_features, spec.n_outputs, self._embedding_std())
        full = _joined_spec(self.spec_, spec)
        data = (
            [np.zeros((0, w), np.float32) for w in self.n_features_per_task_] + Xs,
            [np.zeros(0, dtype=ys[0].dtype) for _ in range(n_old)] + ys,
        )
        config = dataclasses.replace(
            self._training_config(),
            random_state=seed,
            max_epochs=max_epochs or self.max_epochs,
            lr=lr,
        )
        with _trained_only(module, added):
            net = self._train_added(config, data, full)
        stage1 = _checkpoint(net)
        _compose_selected(module, stage1, range(n_old, full.n_tasks))
        stages = [(stage1, _state_copy(module))]
        if fine_tune:
            net = self._train_added(dataclasses.replace(config, lr=fine_tune_lr), data, full, net)
            stages.append((_checkpoint(net), _state_copy(module)))
        self._extend_fitted(new, full, net)
        self._select_added(n_old, stages)
        self._on_fitted()
        return self

    def _check_add_tasks_args(self, lr, max_epochs, fine_tune, fine_tune_lr):
        """Validate add_tasks' own arguments; return both stages' learning rates."""
        if not isinstance(fine_tune, (bool, np.bool_)):
            raise TypeError(f"fine_tune must be True or False, got {fine_tune!r}.")
        if max_epochs is not None and not (isinstance(max_epochs, Integral) and max_epochs >= 1):
            raise ValueError(f"max_epochs must be a positive int or None, got {max_epochs!r}.")
        rates = []
        for name, value, default in [
            ("lr", lr, self.lr),
            ("fine_tune_lr", fine_tune_lr, self.lr / 10),
        ]:
            if value is not None and (not isinstance(value, Real) or not value > 0):
                raise ValueError(f"{name} must be a positive float or None, got {value!r}.")
            rates.append(default if value is None else float(value))
        return rates

    def _train_added(self, config, data, spec, net=None):
        """One add_tasks stage: the training layer on the new tasks' rows (old ones empty)."""

        def budget(sizes):  # "auto" step sizes from the new tasks' training rows only
            new = training_budget(
                [n for n in sizes if n > 0],
                batching=self.batching,
                batch_size=self.batch_size,
                tasks_per_step=self.tasks_per_step,
                steps_per_epoch=self.steps_per_epoch,
            )
            self.add_tasks_budget_ = new
            return {**new, "eval_batch_size": self._eval_batch_size()}

        return train_net(
            config,
            *data,
            callbacks=lambda has_valid: self._callbacks(spec, has_valid),
            build=lambda: (self.module_, self._build_criterion(spec)),
            net_class=self._net_class,
            net=net,
            budget=budget,
        )

    def _extend_fitted(self, new, spec, net):
        """Append the new tasks' fitted attributes (from ``new``, fitted on them) to ours."""
        for name in (
            "task_names_",
            "n_features_per_task_",
            "feature_names_per_task_",
            "task_feature_names_in_",
            "task_n_features_in_",
            "input_mean_",
            "input_scale_",
            "task_classes_",
        ):
            setattr(self, name, list(getattr(self, name)) + list(getattr(new, name)))
        self.n_tasks_ = spec.n_tasks
        self.classes_ = self.task_classes_
        encoder = copy.copy(self.input_encoder_)
        encoder.plans_ = encoder.plans_ + new.input_encoder_.plans_
        encoder.feature_names_out_ = (
            encoder.feature_names_out_ + new.input_encoder_.feature_names_out_
        )
        encoder.n_tasks_ = spec.n_tasks
        self.input_encoder_ = encoder
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self, attr) and not hasattr(new, attr):
                delattr(self, attr)
            elif hasattr(self, attr) and not np.array_equal(
                getattr(self, attr), getattr(new, attr)
            ):
                delattr(self, attr)
        self.spec_ = spec
        self.net_ = net
        self.add_tasks_history_ = net.history

    def _select_added(self, n_old, stages):
        """Weights every task predicts with after add_tasks (old tasks: as before)."""
        old = self._task_snapshots
        frozen_state = stages[0][1]
        if old is None and len(stages) == 1:
            return  # the module holds every task's weights: old ones untouched, new composed
        key = max([len(self.history_), *([] if old is None else old.snapshots)]) + 1
        if old is None:
            old = TaskSnapshots(np.full(n_old, key), {key: frozen_state})
            key += 1
        snapshots = {e: {**frozen_state, **s} for e, s in old.snapshots.items()}
        best = np.concatenate([old.best_epoch, np.full(self.n_tasks_ - n_old, old.default_epoch)])
        if len(stages) > 1:
            (first, _), (second, tuned_state) = stages
            better = _improved(first, second, self.n_tasks_)
            epochs = _stage_epochs(second, self.n_tasks_)
            for t in range(n_old, self.n_tasks_):
                if better[t]:
                    best[t] = key + epochs[t]
                    snap = tuned_state if second is None else second.snapshots_[epochs[t]]
                    snapshots[key + epochs[t]] = snap
        used = set(best.tolist())
        snaps = TaskSnapshots(best, {e: s for e, s in snapshots.items() if e in used})
        self._task_snapshots = snaps
        self.task_best_epoch_ = snaps.best_epoch
        self.module_.load_state_dict(snaps.snapshots[snaps.default_epoch])

    # ------------------------------------------------------------- analysis
    def _check_shared(self, what):
        check_is_fitted(self)
        if self.shared_embeddings_ is None:
            raise ValueError(
                f"{what} needs shared embeddings; this model was fitted with n_shared=None "
                "(vanilla variable embeddings)."
            )

    def concepts(self, k=None):
        """Concept table: the ``k`` most similar input variables of every shared embedding.

        Similarity is the cosine similarity between the shared embedding ``s_p`` and the
        processed embedding ``f_i`` of each variable (eq. 16). Reading it: a shared
        embedding whose top variables come from different tasks but share a meaning (e.g.
        all physical measurements) is a reusable concept; one whose top variables all come
        from one task is tied to that dataset.

        Parameters
        ----------
        k : int, optional
            Variables per shared embedding; ``n_concept_variables`` by default.

        Returns
        -------
        pandas.DataFrame
            Columns ``shared_embedding``, ``rank``, ``task``, ``variable``, ``similarity``,
            ``attention`` (the variable's attention weight on that shared embedding).

        Examples
        --------
        >>> import numpy as np
        >>> from skmtl.sve import SharedVariableEmbeddingClassifier
        >>> X = np.random.default_rng(0).normal(size=(60, 3))
        >>> clf = SharedVariableEmbeddingClassifier.from_preset(
        ...     "small", n_shared=4, max_epochs=2, random_state=0).fit([(X, X[:, 0] > 0)])
        >>> clf.concepts(k=2).shape
        (8, 6)
        """
        self._check_shared("concepts")
        return _interp.concept_table(
            self.shared_embeddings_,
            self.processed_embeddings_,
            self.task_names_,
            self.feature_names_per_task_,
            k=self.n_concept_variables if k is None else int(k),
            attention=self.attention_,
        )

    def commonly_shared(self, threshold=0.1, n_embeddings=5, n_tasks=5):
        """Shared embeddings used by the most tasks (paper Appendix G).

        A task shares an embedding when one of its variables gives it an attention weight
        above ``threshold``; the ``n_embeddings`` embeddings shared by the most tasks are
        listed with the ``n_tasks`` tasks closest to them (max cosine similarity).

        Parameters
        ----------
        threshold : float, default=0.1
        n_embeddings : int, default=5
        n_tasks : int, default=5

        Returns
        -------
        pandas.DataFrame
            See :func:`skmtl.interpret.sve.commonly_shared`.

        Examples
        --------
        >>> import numpy as np
        >>> from skmtl.sve import SharedVariableEmbeddingClassifier
        >>> X = np.random.default_rng(0).normal(size=(60, 3))
        >>> clf = SharedVariableEmbeddingClassifier.from_preset(
        ...     "small", n_shared=4, max_epochs=2, random_state=0)
        >>> clf = clf.fit([(X, X[:, 0] > 0), (X, X[:, 1] > 0)])
        >>> clf.commonly_shared(n_embeddings=2).shape[0]
        4
        """
        self._check_shared("commonly_shared")
        return _interp.commonly_shared(
            self.attention_,
            self.shared_embeddings_,
            self.processed_embeddings_,
            self.task_names_,
            threshold=threshold,
            n_embeddings=n_embeddings,
            n_tasks=n_tasks,
        )

    def plot_attention(self, how="max", ax=None, **kwargs):
        """Heat map of every task's attention over the shared base (needs matplotlib).

        Parameters
        ----------
        how : {"max", "mean"}, default="max"
            Aggregate over each task's variables.
        ax : matplotlib Axes, optional
        **kwargs
            Passed to :func:`skmtl.interpret.sve.plot_task_attention`.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> ax = clf.plot_attention()  # doctest: +SKIP
        >>> ax.figure.savefig("attention.png")  # doctest: +SKIP
        """
        self._check_shared("plot_attention")
        return _interp.plot_task_attention(
            self.attention_, self.task_names_, how=how, ax=ax, **kwargs
        )


def _best_epoch(history):
    """(best epoch, steps up to it) from a skorch history with ``valid_loss_best``."""
    if history is None or len(history) == 0:
        return None, None
    best, steps, total = None, None, 0
    for i, row in enumerate(history, start=1):
        total += int(row.get("train_batch_count", 0))
        if row.get("valid_loss_best"):
            best, steps = i, total
    if best is None:
        return len(history), total
    return best, steps


def _named_after(tasks, fitted):
    """``tasks`` with default names numbered after the fitted tasks; names checked."""
    names = list(tasks.names)
    if names == [f"task_{i}" for i in range(len(names))]:
        names = [f"task_{len(fitted) + i}" for i in range(len(names))]
    clash = [n for n in names if n in fitted]
    if clash:
        raise ValueError(
            f"add_tasks: the new task name(s) {clash} are already fitted tasks "
            f"({list(fitted)}); give the new tasks other names, e.g. Tasks(..., names=[...])."
        )
    renamed = copy.copy(tasks)
    renamed.names = names
    return renamed


def _joined_spec(old, new):
    """The :class:`~skmtl.tasks.TaskSpec` of the fitted tasks followed by new ones."""
    both = old.metadata is not None and new.metadata is not None
    return TaskSpec(
        n_tasks=old.n_tasks + new.n_tasks,
        task_names=[*old.task_names, *new.task_names],
        n_features=[*old.n_features, *new.n_features],
        feature_names=[*old.feature_names, *new.feature_names],
        n_outputs=[*old.n_outputs, *new.n_outputs],
        metadata=np.vstack([old.metadata, new.metadata]) if both else None,
        metadata_names=list(old.metadata_names) if both else [],
    )


@contextlib.contextmanager
def _trained_only(module, params):
    """Freeze every parameter of ``module`` but ``params`` (restored on exit).

    A frozen parameter gets no gradient, so the optimizer (Adam, weight decay included)
    leaves it exactly as it is.
    """
    keep = {id(p) for p in params}
    frozen = [p for p in module.parameters() if id(p) not in keep and p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in frozen:
            p.requires_grad_(True)


def _checkpoint(net):
    """The per-task checkpoint callback of a trained net (None without per-task selection)."""
    cb = dict(net.callbacks_).get("per_task_checkpoint")
    return None if cb is None or cb.best_epoch_ is None or not cb.snapshots_ else cb


def _state_copy(module):
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def _compose_selected(module, checkpoint, tasks):
    """Give each of ``tasks`` its own rows from its best epoch's snapshot.

    With the shared network frozen, a task's embedding rows get gradients from its own rows
    only (Adam is element-wise), so the composed state predicts every task exactly as the
    snapshot of its best epoch would.
    """
    if checkpoint is None:
        return
    state = _state_copy(module)
    for t in tasks:
        epoch = int(checkpoint.best_epoch_[t])
        if epoch == 0:  # never improved (no validation rows): keep the last weights
            continue
        for key, rows in module.embedding_rows(t).items():
            state[key][rows] = checkpoint.snapshots_[epoch][key][rows]
    module.load_state_dict(state)


def _improved(first, second, n_tasks):
    """Per task: whether the fine-tuning stage's best validation loss beat the frozen one's."""
    if first is None or second is None:
        return np.ones(n_tasks, dtype=bool)  # no per-task losses: the last stage is kept
    return np.asarray(second.best_loss_) < np.asarray(first.best_loss_)


def _stage_epochs(checkpoint, n_tasks):
    """Every task's best epoch in a stage (0: the stage's last weights)."""
    if checkpoint is None:
        return np.zeros(n_tasks, dtype=int)
    return np.asarray(checkpoint.best_epoch_, dtype=int)
