"""One data-parallel SVE fit on real PMLB tasks; run by ``tests/test_distributed.py``.

Run in every process of a launch (``accelerate launch --cpu --num_processes 2
tests/distributed_fit.py OUT``) or alone (one process). Each process writes
``OUT/rank<r>.json``: the rows of every training batch it saw, its history, the per-task
selection, its test predictions, and the predictions after a ``save_params`` /
``load_params`` round trip (the weights file is ``OUT/params.pt``). With
``--every-estimator`` after ``OUT``: every accelerated estimator, tiny, on synthetic tasks;
each process writes its predictions.
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback

DATASETS = ["haberman", "heart_statlog", "ionosphere", "monk1", "breast_cancer_wisconsin"]
PARAMS = dict(
    embedding_dim=8,
    n_shared=8,
    hidden_dim=16,
    n_encoder_layers=1,
    n_core_layers=1,
    n_decoder_layers=1,
    lr=1e-2,
    batch_size=32,
    max_epochs=30,
    early_stopping="per_task",
    n_iter_no_change=5,
    validation_fraction=0.2,
    random_state=0,
)


class BatchLog(Callback):
    """Every training batch's (task, first row's sum of features), epoch by epoch."""

    def initialize(self):
        self.epochs_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.epochs_.append([])

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            Xi, _ = batch
            key = [int(Xi["task"][0]), len(Xi["X"]), float(Xi["X"].sum())]
            self.epochs_[-1].append(key)


def load_split():
    """The PMLB tasks, split 80/20 per task (stratified, seed 0)."""
    from skmtl import task_train_test_split
    from skmtl.datasets import load_pmlb_tasks

    tasks, _ = load_pmlb_tasks(DATASETS, min_class_count=2)
    return task_train_test_split(tasks, random_state=0)


def fit_every_estimator(out):
    """Every accelerated estimator, tiny, on synthetic tasks: each process's predictions."""
    from estimators import multitask_data, tiny_estimators

    from skmtl import distributed

    predictions = {}
    for name, plain in tiny_estimators().items():
        if not hasattr(plain, "_build_module"):
            continue
        plain.set_params(max_epochs=3, early_stopping="per_task", validation_fraction=0.2)
        est = getattr(distributed, "Accelerated" + type(plain).__name__)(**plain.get_params())
        tasks, meta = multitask_data(est, np.random.default_rng(0), rows=60)
        est.fit(tasks, metadata=meta)
        predictions[name] = [np.asarray(p).tolist() for p in est.predict([X for X, _ in tasks])]
    rank = est.net_.accelerator.process_index
    (Path(out) / f"rank{rank}.json").write_text(json.dumps(predictions))


def main(out):
    from skmtl.distributed import AcceleratedSharedVariableEmbeddingClassifier

    train, test = load_split()
    log = BatchLog()
    clf = AcceleratedSharedVariableEmbeddingClassifier(**PARAMS, callbacks=[("batch_log", log)])
    clf.fit(train)
    acc = clf.net_.accelerator
    out = Path(out)
    clf.save_params(f_params=out / "params.pt")  # every process calls it; the main one writes
    pred = [np.asarray(p).tolist() for p in clf.predict(test)]
    scores = clf.score_tasks(test).tolist()
    best = clf.task_best_epoch_.tolist()
    history = {k: [h[k] for h in clf.history_] for k in ("train_loss", "valid_loss")}
    clf.load_params(f_params=out / "params.pt")
    record = {
        "rank": acc.process_index,
        "num_processes": acc.num_processes,
        "batches": log.epochs_,
        **history,
        "task_best_epoch": best,
        "n_iter": clf.n_iter_,
        "test_scores": scores,
        "test_pred": pred,
        "loaded_pred": [np.asarray(p).tolist() for p in clf.predict(test)],
    }
    (out / f"rank{acc.process_index}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[2:] == ["--every-estimator"]:
        fit_every_estimator(sys.argv[1])
    else:
        main(sys.argv[1])
