"""Every public skmtl estimator in a tiny, fast configuration, for the conformance tests."""

import numpy as np

from skmtl import PerTaskClassifier, PerTaskRegressor, SingleNetworkRegressor
from skmtl.hard_sharing import HardSharingClassifier, HardSharingRegressor
from skmtl.hib import HierarchicalIBClassifier, HierarchicalIBRegressor
from skmtl.hypernet import MultiTaskHypernetRegressor
from skmtl.sve import SharedVariableEmbeddingClassifier

FAST = dict(lr=1e-2, max_epochs=10, batch_size=32, random_state=0)
# SVE's defaults derive step sizes from the data and select per task; the API checks use
# the fixed settings every other estimator trains with
SVE_FIXED = dict(tasks_per_step=None, steps_per_epoch=None, early_stopping=True)


def tiny_estimators():
    """name -> estimator instance (unfitted), small enough for sklearn's checks."""
    return {
        "SharedVariableEmbeddingClassifier": SharedVariableEmbeddingClassifier(
            embedding_dim=8,
            n_shared=4,
            hidden_dim=8,
            n_encoder_layers=1,
            n_core_layers=1,
            n_decoder_layers=1,
            **FAST,
            **SVE_FIXED,
        ),
        "SharedVariableEmbeddingClassifier-vanilla": SharedVariableEmbeddingClassifier(
            embedding_dim=8,
            n_shared=None,
            hidden_dim=8,
            n_encoder_layers=1,
            n_core_layers=1,
            n_decoder_layers=1,
            **{**FAST, "max_epochs": 30},  # TOM's tiny embeddings start near 0: more epochs
            **SVE_FIXED,
        ),
        "HierarchicalIBClassifier": HierarchicalIBClassifier(
            latent_dim=3, hidden_layer_sizes=(8,), **FAST
        ),
        "HierarchicalIBRegressor": HierarchicalIBRegressor(
            latent_dim=3, hidden_layer_sizes=(8,), **FAST
        ),
        "MultiTaskHypernetRegressor": MultiTaskHypernetRegressor(
            hidden_layer_sizes=(8,), embedding_dim=3, hyper_layers=1, hyper_width=8, **FAST
        ),
        "HardSharingRegressor": HardSharingRegressor(
            hidden_layer_sizes=(8,), latent_dim=3, head_hidden_sizes=(8,), **FAST
        ),
        "HardSharingClassifier": HardSharingClassifier(
            hidden_layer_sizes=(8,), latent_dim=3, head_hidden_sizes=(8,), **FAST
        ),
        "SingleNetworkRegressor-onehot": SingleNetworkRegressor(
            hidden_layer_sizes=(8,), task_encoding="onehot", scaling="task", **FAST
        ),
        "PerTaskClassifier": PerTaskClassifier(),
        "PerTaskRegressor": PerTaskRegressor(),
    }


def is_neural(est):
    return hasattr(est, "_build_module")


def multitask_data(est, rng, n_tasks=3, rows=40):
    """Tasks suited to ``est``: heterogeneous widths unless it needs one feature space."""
    from sklearn.base import is_classifier

    same = getattr(est, "_require_same_n_features", False)
    tasks = []
    for t in range(n_tasks):
        width = 4 if same else 3 + t
        X = rng.normal(size=(rows + 5 * t, width))
        signal = X[:, 0] - X[:, 1] * (t % 2 * 2 - 1)
        if is_classifier(est):
            y = np.where(signal > 0, f"yes{t}", f"no{t}") if t % 2 else (signal > 0).astype(int)
        else:
            y = 2.0 * signal + 0.1 * rng.normal(size=len(X))
        tasks.append((X, y))
    metadata = np.arange(n_tasks, dtype=float).reshape(-1, 1) if _uses_metadata(est) else None
    return tasks, metadata


def _uses_metadata(est):
    return getattr(est, "_uses_metadata", False)
