"""Long-run memory check: one model fitted on every cached PMLB classification task.

Protocol: all PMLB classification datasets in the cache that pass PMLB's filter (< 1,000
features, < 500,000 rows; 159 with the shared cache); classes with a single row dropped;
every task subsampled to ``--rows-per-task`` rows (stratified, seed 0) so the run fits a
CI-sized budget; SharedVariableEmbeddingClassifier, "small" preset, ``--epochs`` epochs,
one task per step. Records the process RSS after data loading and after every epoch,
and the peak RSS. Prints one JSON row per epoch and a summary with the bound check:
RSS growth from the end of epoch 1 to the last epoch must stay under ``--growth-mb``
(no per-step growth), and peak RSS under ``--peak-mb``.

Run: ``SKMTL_DATA_HOME=../shared/data python benchmarks/memory_pmlb.py``
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import _common  # puts the repository on sys.path
import numpy as np
from skorch.callbacks import Callback

from skmtl.datasets import load_pmlb_tasks
from skmtl.model_selection import task_train_test_split
from skmtl.sve import SharedVariableEmbeddingClassifier


def rss_mb():
    """Current resident set size of this process, in MiB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RSSRecorder(Callback):
    """Record RSS after every epoch into the history (``rss_mb``)."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("rss_mb", rss_mb())


def run(rows_per_task=150, epochs=3, growth_mb=64.0, peak_mb=4096.0, limit=None, out=None):
    """Fit on every cached PMLB task; ``out(row)`` receives every JSON row (default: print)."""
    out = out or _common.JsonEmitter()
    t0 = time.perf_counter()
    tasks, info = load_pmlb_tasks(None, min_class_count=2)
    keep = []
    for t in range(tasks.n_tasks if limit is None else min(limit, tasks.n_tasks)):
        n = tasks.sizes[t]
        frac = min(1.0, rows_per_task / n)
        if frac < 1.0:
            part, _ = task_train_test_split(
                tasks.take_rows(np.arange(tasks.offsets[t], tasks.offsets[t + 1])),
                test_size=1 - frac,
                random_state=0,
            )
        else:
            part = tasks.take_rows(np.arange(tasks.offsets[t], tasks.offsets[t + 1]))
        keep.append((part.Xs[t], part.ys[t]))
    load_s = time.perf_counter() - t0
    rss_loaded = rss_mb()
    model = SharedVariableEmbeddingClassifier.from_preset(
        "small",
        max_epochs=epochs,
        early_stopping=False,
        validation_fraction=0.0,
        callbacks=[("rss", RSSRecorder())],
        random_state=0,
    )
    t1 = time.perf_counter()
    model.fit(keep)
    fit_s = time.perf_counter() - t1
    rss = [h["rss_mb"] for h in model.history_]
    for epoch, value in enumerate(rss, 1):
        out({"epoch": epoch, "rss_mb": round(value, 1)})
    growth = rss[-1] - rss[0]
    peak = peak_rss_mb()
    summary = {
        "summary": True,
        "protocol": {
            "datasets": len(keep),
            "rows_per_task": rows_per_task,
            "epochs": epochs,
            "steps": model.n_steps_,
            "model": "SharedVariableEmbeddingClassifier small preset",
            "device": "cpu",
            "filter": info["filter"],
            **_common.environment(),
        },
        "rows": int(sum(len(y) for _, y in keep)),
        "load_s": round(load_s, 1),
        "fit_s": round(fit_s, 1),
        "rss_after_load_mb": round(rss_loaded, 1),
        "rss_epoch1_mb": round(rss[0], 1),
        "rss_last_mb": round(rss[-1], 1),
        "growth_mb": round(growth, 1),
        "peak_rss_mb": round(peak, 1),
        "bounds": {"growth_mb": growth_mb, "peak_mb": peak_mb},
        "within_bounds": bool(growth < growth_mb and peak < peak_mb),
    }
    out(summary)
    return summary


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rows-per-task", type=int, default=150)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--growth-mb", type=float, default=64.0)
    p.add_argument("--peak-mb", type=float, default=4096.0)
    args = p.parse_args(argv)
    _common.pin_threads()
    summary = run(args.rows_per_task, args.epochs, args.growth_mb, args.peak_mb)
    return 0 if summary["within_bounds"] else 1


if __name__ == "__main__":
    sys.exit(main())
