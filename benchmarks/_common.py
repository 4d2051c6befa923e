"""What every benchmark script shares: thread pinning, JSON rows, the environment record.

Each benchmark prints one JSON object a line (and copies it to ``--out`` when given), and
ends with a summary that carries :func:`environment` so a figure can be traced to the
machine, versions and command that produced it.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

# Benchmarks run from a checkout without installing: make ``import skmtl`` find it.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


def pin_threads(default=1):
    """Set torch's intra-op threads from ``OMP_NUM_THREADS`` (or ``default``); return it."""
    import torch

    n = int(os.environ.get("OMP_NUM_THREADS", default))
    torch.set_num_threads(n)
    return n


class JsonEmitter:
    """Print JSON rows, flushed, and copy them to a file when ``path`` is given.

    Use as a context manager, or call :meth:`close` when done.
    """

    def __init__(self, path=None):
        self._file = open(path, "w") if path else None  # noqa: SIM115

    def __call__(self, row):
        line = json.dumps(row)
        print(line, flush=True)
        if self._file is not None:
            self._file.write(line + "\n")
            self._file.flush()
        return row

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def environment(**extra):
    """Versions, threads, load average, device and the command line, plus ``extra``."""
    import numpy as np
    import sklearn
    import skorch
    import torch

    env = {
        "command": "python " + " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "sklearn": sklearn.__version__,
            "skorch": skorch.__version__,
        },
    }
    env.update(extra)
    return env


def holdout(tasks, test_size=0.2, seed=0, stratify=True):
    """Hold out ``test_size`` of every task's rows: ``(train, test)`` lists of ``(X, y)``.

    Built on :func:`skmtl.task_train_test_split` (stratified by label for
    classification tasks, ``floor(test_size * n)`` rows of every task or class held out,
    every class keeping a training row), so every benchmark splits the same way.
    """
    from skmtl import task_train_test_split

    train, test = task_train_test_split(
        tasks, test_size=test_size, stratify=stratify, random_state=seed
    )
    return list(zip(train.Xs, train.ys)), list(zip(test.Xs, test.ys))
