"""Data-parallel scaling on CPU: N gloo processes against one, in one command.

The same fit of ``AcceleratedSharedVariableEmbeddingClassifier`` (small preset, one
task per step, a fixed number of epochs, no early stopping, 10 % of every task's
training rows for validation) on the ``--subset`` smallest cached PMLB classification
datasets, split as ``sve_pmlb.py`` splits them (stratified 80/20, seed 0), runs three
times, one after another:

* ``1x1``: one process, one thread (the baseline);
* ``1xN``: one process, N threads (the same cores used by torch's intra-op threads);
* ``Nx1``: N processes of one thread, launched with
  ``python -m torch.distributed.run --standalone --nproc_per_node N`` (gloo backend);
  every process trains on every N-th task batch of the same sequence.

Each run reports training rows per second over the whole fit (rows trained by all
processes / wall time of ``fit``, validation passes included), test accuracy, and the
ratio of its rows/s to the ``1x1`` run. The machine's load average is recorded before
and after every run: on a shared machine the ratios move with the load.

Usage::

    python benchmarks/scaling.py --subset 30 --epochs 4 --processes 2 --out scaling.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common
import numpy as np

HERE = Path(__file__).resolve().parent


def _parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--subset", type=int, default=30, help="the N smallest PMLB datasets")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--out", default=None, help="also write the JSON lines to this file")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # internal: result dir
    return p.parse_args(argv)


def fit_once(args):
    """One fit in this process (or in every process of a launch); rank 0 writes the result."""
    from sve_pmlb import load_datasets, split_tasks

    from skmtl import Tasks
    from skmtl.distributed import AcceleratedSharedVariableEmbeddingClassifier, default_accelerator

    _common.pin_threads()
    tasks = load_datasets(subset=args.subset)
    names = tasks.names
    acc = default_accelerator("cpu")
    train, test = split_tasks(tasks, 20_000, seed=0)
    clf = AcceleratedSharedVariableEmbeddingClassifier.from_preset(
        "small",
        max_epochs=args.epochs,
        early_stopping=False,
        validation_fraction=0.1,
        random_state=0,
        accelerator=acc,
    )
    acc.wait_for_everyone()
    start = time.perf_counter()
    clf.fit(Tasks([X for X, _ in train], [y for _, y in train], names=names))
    acc.wait_for_everyone()
    wall = time.perf_counter() - start
    if acc.is_main_process:
        batches = [b for h in clf.history_ for b in h["batches"] if "train_loss" in b]
        rows = sum(b["train_batch_size"] for b in batches)  # over all processes
        result = {
            "processes": acc.num_processes,
            "threads_per_process": _common.pin_threads(),
            "datasets": len(names),
            "fit_s": round(wall, 2),
            "rows_trained": int(rows),
            "rows_per_s": round(rows / wall, 1),
            "steps_per_process": clf.n_steps_,
            "test_accuracy_mean": round(float(np.mean(clf.score_tasks(test))), 4),
        }
        Path(args.worker, "result.json").write_text(json.dumps(result))


def launch(args, processes, threads, out_dir):
    """Run :func:`fit_once` in ``processes`` processes of ``threads`` threads; its result."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    script = [str(HERE / "scaling.py"), "--worker", str(out_dir)]
    script += ["--subset", str(args.subset), "--epochs", str(args.epochs)]
    if processes > 1:
        script = ["-m", "torch.distributed.run", "--standalone"] + [
            "--nproc_per_node",
            str(processes),
            *script,
        ]
    load_before = os.getloadavg()[0]
    subprocess.run([sys.executable, *script], env=env, check=True)
    result = json.loads(Path(out_dir, "result.json").read_text())
    load_after = os.getloadavg()[0]
    return {**result, "load_before": round(load_before, 2), "load_after": round(load_after, 2)}


def main(argv=None):
    args = _parse(argv)
    if args.worker:
        return fit_once(args)
    n = args.processes
    rows = {}
    with _common.JsonEmitter(args.out) as emit, tempfile.TemporaryDirectory() as tmp:
        runs = {"1x1": (1, 1), f"1x{n}": (1, n), f"{n}x1": (n, 1)}
        for name, (processes, threads) in runs.items():
            out = Path(tmp, name)
            out.mkdir()
            row = launch(args, processes, threads, out)
            row["ratio_to_1x1"] = round(row["rows_per_s"] / rows.get("1x1", row)["rows_per_s"], 3)
            rows[name] = emit({"run": name, **row})
        ratio = rows[f"{n}x1"]["rows_per_s"] / rows[f"1x{n}"]["rows_per_s"]
        summary = {
            "summary": "scaling",
            "protocol": f"SVE small preset, {args.epochs} epochs, {args.subset} smallest PMLB",
            f"{n}x1_over_1x1": rows[f"{n}x1"]["ratio_to_1x1"],
            f"{n}x1_over_1x{n}": round(ratio, 3),
            # the launcher's own torch threads say nothing: each run's are in its row
            "environment": _common.environment(runs_processes_threads=runs),
        }
        emit(summary)
    return rows


if __name__ == "__main__":
    main()
