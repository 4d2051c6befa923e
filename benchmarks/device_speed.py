"""CPU against CUDA for every neural estimator: fit time, predict time and score.

Protocol: each estimator is fitted on the same real or generated tasks, with the same
parameters and seed, once with ``device="cpu"`` and once with ``device="cuda"``, in one
process; early stopping is off so both run the same number of epochs. Reported per
estimator and device: fit wall time, training rows/s, predict wall time over the training
inputs, and the mean task score on held-out rows (accuracy or R^2), so a CUDA path that
trains to a different quality shows up beside its speed. Ratios are CPU time over CUDA
time measured in the same run. Without a GPU the CUDA rows are skipped and say why.

Workloads (``--scale 1`` is the recorded run; ``--scale 0.1`` a quick check):

* ``sve_task`` / ``sve_mixed``: SharedVariableEmbeddingClassifier, paper preset
  (C = D = H = 128, 10 layers per network), on the 30 largest cached PMLB classification
  datasets with < 1,000 features, training rows capped at 2,000 per dataset; one sampled
  task per step (``task``) against padded multi-task steps of 1,024 rows (``mixed``).
* ``hib``: HierarchicalIBClassifier on Grouped-MNIST (5 groups, the 10,000 cached images).
* ``hypernet``: MultiTaskHypernetRegressor on Robot Arm tasks (20 tasks, 2,000 rows each).
* ``hard_sharing``: HardSharingRegressor on 10 random-network tasks over 8 factors.

Usage::

    python benchmarks/device_speed.py              # CPU and CUDA (when present)
    python benchmarks/device_speed.py --scale 0.1  # quick
"""

from __future__ import annotations

import argparse
import os
import time

import _common
import numpy as np


def _parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="fraction of rows and epochs")
    p.add_argument("--workloads", default="sve_task,sve_mixed,hib,hypernet,hard_sharing")
    p.add_argument("--devices", default="cpu,cuda")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def _workload(name, scale, seed):
    """``(estimator, train tasks, test tasks, metadata)`` of one workload."""
    from skmtl.datasets import make_robot_arm_tasks
    from skmtl.datasets.factors import make_factor_tasks
    from skmtl.datasets.mnist import load_mnist, make_grouped_mnist_tasks
    from skmtl.hard_sharing import HardSharingRegressor
    from skmtl.hib import HierarchicalIBClassifier
    from skmtl.hypernet import MultiTaskHypernetRegressor
    from skmtl.sve import SharedVariableEmbeddingClassifier

    epochs = max(1, int(round(10 * scale)))
    common = dict(max_epochs=epochs, early_stopping=False, validation_fraction=0.0)
    common["random_state"] = seed
    if name.startswith("sve"):
        from sve_pmlb import select_datasets  # the PMLB benchmark's dataset filter

        from skmtl.datasets.pmlb import load_pmlb_tasks

        names = select_datasets(subset=10**6)[-30:]  # sorted by rows: the 30 largest
        tasks, _ = load_pmlb_tasks(names, min_class_count=2)
        cap = max(400, int(2000 * scale))
        rng = np.random.default_rng(seed)
        pairs = []
        for X, y in zip(tasks.Xs, tasks.ys):
            idx = rng.permutation(len(y))[: int(cap / 0.8)]
            pairs.append((np.asarray(X)[idx], np.asarray(y)[idx]))
        train, test = _common.holdout(pairs, seed=seed)
        mixed = name == "sve_mixed"
        est = SharedVariableEmbeddingClassifier.from_preset(
            "paper",
            attention="entmax",
            alpha=1.05,
            learn_alpha=True,
            batching="mixed" if mixed else "task",
            batch_size=1024 if mixed else 128,
            **common,
        )
        return est, train, test, None
    if name == "hib":
        X, y = load_mnist()
        n = max(500, int(len(y) * scale))
        groups = [(0, 1), (1, 2), (3, 4), (4, 5), (6, 7)]
        tasks = make_grouped_mnist_tasks(groups, X[:n], y[:n], as_tasks=True)
        train, test = _common.holdout(tasks, seed=seed)
        est = HierarchicalIBClassifier(latent_dim=16, hidden_layer_sizes=(256, 128), **common)
        return est, train, test, None
    if name == "hypernet":
        tasks, meta = make_robot_arm_tasks(
            n_tasks=20, n_samples=max(100, int(2000 * scale)), random_state=seed
        )
        train, test = _common.holdout(tasks, seed=seed)
        est = MultiTaskHypernetRegressor(batch_size=256, **common)
        return est, train, test, meta
    if name == "hard_sharing":
        rng = np.random.default_rng(seed)
        factors = rng.uniform(-1, 1, size=(max(500, int(20_000 * scale)), 8))
        Y = make_factor_tasks(factors, n_tasks=10, random_state=seed)
        train, test = _common.holdout([(factors, Y[:, i]) for i in range(Y.shape[1])], seed=seed)
        est = HardSharingRegressor(
            hidden_layer_sizes=(256, 256), latent_dim=8, batch_size=256, **common
        )
        return est, train, test, None
    raise ValueError(f"unknown workload {name!r}")


def _run(est, train, test, meta, device):
    import torch
    from sklearn.base import clone

    est = clone(est).set_params(device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    n_rows = sum(len(y) for _, y in train)
    t0 = time.perf_counter()
    est.fit(train, metadata=meta)
    sync()
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    est.predict([X for X, _ in train])
    sync()
    predict_s = time.perf_counter() - t0
    score = est.score([X for X, _ in test], [y for _, y in test])
    return {
        "fit_s": round(fit_s, 3),
        "train_rows_per_s": round(n_rows * est.n_iter_ / fit_s, 1),
        "steps": int(est.n_steps_),
        "predict_s": round(predict_s, 3),
        "test_score": round(float(score), 4),
    }


def main(argv=None):
    args = _parse(argv)
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
    if "SKMTL_DATA_HOME" not in os.environ and os.path.isdir(shared):
        os.environ["SKMTL_DATA_HOME"] = os.path.normpath(shared)
    import torch

    _common.pin_threads(default=torch.get_num_threads())  # OMP_NUM_THREADS when set
    emit = _common.JsonEmitter()
    has_cuda = torch.cuda.is_available()
    rows = []
    for name in [w for w in args.workloads.split(",") if w]:
        est, train, test, meta = _workload(name, args.scale, args.seed)
        row = {"kind": "workload", "workload": name, "estimator": type(est).__name__}
        row["n_tasks"] = len(train)
        row["train_rows"] = int(sum(len(y) for _, y in train))
        row["epochs"] = est.max_epochs
        for device in [d for d in args.devices.split(",") if d]:
            if device.startswith("cuda") and not has_cuda:
                row[device] = "skipped: CUDA is not available on this machine"
                continue
            row[device] = _run(est, train, test, meta, device)
        if isinstance(row.get("cpu"), dict) and isinstance(row.get("cuda"), dict):
            row["fit_speedup_cuda_over_cpu"] = round(row["cpu"]["fit_s"] / row["cuda"]["fit_s"], 2)
            row["predict_speedup_cuda_over_cpu"] = round(
                row["cpu"]["predict_s"] / row["cuda"]["predict_s"], 2
            )
        rows.append(emit(row))
    summary = {"kind": "summary", "workloads": [r["workload"] for r in rows]}
    task, mixed = (
        next((r for r in rows if r["workload"] == w), None) for w in ("sve_task", "sve_mixed")
    )
    for device in ("cpu", "cuda"):
        if (
            task
            and mixed
            and isinstance(task.get(device), dict)
            and isinstance(mixed.get(device), dict)
        ):
            summary[f"sve_mixed_over_task_rows_per_s_{device}"] = round(
                mixed[device]["train_rows_per_s"] / task[device]["train_rows_per_s"], 2
            )
    summary["protocol"] = _common.environment(scale=args.scale, seed=args.seed)
    return emit(summary)


if __name__ == "__main__":
    main()
