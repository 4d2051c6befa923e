"""Task-aware datasets and batch iterators (torch side).

A :class:`TaskDataset` stores every task's rows in one flat value buffer so that a
batch of rows from any mix of tasks is gathered, zero-padded and masked in a few tensor
operations (no Python loop over tasks). :class:`TaskBatchLoader` is the iterator skorch
calls every epoch: one task per step (the papers' training) or several tasks packed in
one padded step.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["TaskDataset", "TaskBatchLoader", "BATCHING_MODES", "TASK_SAMPLING"]

BATCHING_MODES = ("task", "mixed")
TASK_SAMPLING = ("proportional", "uniform", "sqrt")


class TaskDataset(torch.utils.data.Dataset):
    """Rows of several tasks of different widths, ready for padded gathering.

    Parameters
    ----------
    Xs : list of ndarray of shape (n_rows_t, n_features_t)
        Features per task (converted to float32).
    ys : list of ndarray or None
        Targets per task: int class codes (1-D) or float targets (2-D); None to predict.
    device : str or torch.device, default="cpu"
        Where the tensors live; batches come out on this device.

    Examples
    --------
    >>> import numpy as np
    >>> ds = TaskDataset([np.ones((3, 2)), np.ones((2, 4))], [np.array([0, 1, 0]), np.ones(2, int)])
    >>> Xi, yi = ds.gather(np.array([0, 3]))
    >>> tuple(Xi["X"].shape), Xi["mask"].sum(1).tolist()
    ((2, 4), [2, 4])
    """

    def __init__(self, Xs, ys=None, device="cpu"):
        self.device = torch.device(device)
        self.Xs = [np.ascontiguousarray(x, dtype=np.float32) for x in Xs]
        self.ys = ys
        self.sizes = np.array([x.shape[0] for x in self.Xs], dtype=np.int64)
        self.has_missing = any(np.isnan(x).any() for x in self.Xs)
        self.widths = np.array([x.shape[1] for x in self.Xs], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        value_offsets = np.concatenate([[0], np.cumsum(self.sizes * self.widths)])
        row_task = np.repeat(np.arange(len(self.Xs)), self.sizes)
        local = np.arange(len(row_task)) - self.offsets[row_task]
        row_start = value_offsets[row_task] + local * self.widths[row_task]
        dev = self.device
        flat = [torch.from_numpy(x.reshape(-1)) for x in self.Xs]
        self.values = (torch.cat(flat) if flat else torch.zeros(0)).to(dev)
        if self.values.numel() == 0:
            self.values = torch.zeros(1, device=dev)
        # every task's rows as a (n_rows, width) view, for one-task batches
        self.task_values = [
            self.values[value_offsets[t] : value_offsets[t + 1]].view(int(n), int(w))
            for t, (n, w) in enumerate(zip(self.sizes, self.widths))
        ]
        # tasks of one width: all rows as one (n_rows, width) matrix, no padding needed
        same_width = len(self.widths) > 0 and bool((self.widths == self.widths[0]).all())
        self.matrix = (
            self.values[: int(self.offsets[-1] * self.widths[0])].view(
                int(self.offsets[-1]), int(self.widths[0])
            )
            if same_width
            else None
        )
        self.row_task_np = row_task
        self.row_task = torch.as_tensor(row_task, dtype=torch.long, device=dev)
        self.row_start = torch.as_tensor(row_start, dtype=torch.long, device=dev)
        self.row_width = torch.as_tensor(self.widths[row_task], dtype=torch.long, device=dev)
        self.y = None
        if ys is not None:
            if all(np.asarray(y).dtype.kind in "iu" and np.asarray(y).ndim == 1 for y in ys):
                self.y = torch.as_tensor(np.concatenate(ys).astype(np.int64), device=dev)
            else:
                self.y = torch.as_tensor(
                    np.concatenate([np.asarray(y, dtype=np.float32) for y in ys]), device=dev
                )

    @property
    def n_tasks(self):
        return len(self.Xs)

    def __len__(self):
        return int(self.offsets[-1])

    def __getitem__(self, i):
        Xi, yi = self.gather(np.array([i]))
        Xi = {k: v[0] for k, v in Xi.items()}
        return Xi, (None if yi is None else yi[0])

    def gather(self, rows):
        """Padded batch of the given global rows.

        Parameters
        ----------
        rows : ndarray or tensor of int
            Global row indices.

        Returns
        -------
        Xi : dict
            ``X`` float32 (B, F) zero-padded, ``task`` int64 (B,), ``mask`` bool (B, F);
            F is the widest task among the rows.
        yi : tensor or None

        A missing value (NaN) is an absent variable: value 0 and ``mask`` False.
        """
        Xi, yi = self._gather(rows)
        if self.has_missing:
            missing = torch.isnan(Xi["X"])
            Xi = {**Xi, "X": Xi["X"].masked_fill(missing, 0.0), "mask": Xi["mask"] & ~missing}
        return Xi, yi

    def _gather(self, rows):
        if self.matrix is not None:
            rows = torch.as_tensor(rows, dtype=torch.long, device=self.device)
            X = self.matrix.index_select(0, rows)
            Xi = {
                "X": X,
                "task": self.row_task[rows],
                "mask": torch.ones(X.shape, dtype=torch.bool, device=self.device),
            }
            return Xi, (None if self.y is None else self.y[rows])
        if not torch.is_tensor(rows) and len(rows):
            rows = np.asarray(rows, dtype=np.int64)
            tasks = self.row_task_np[rows]
            t = int(tasks[0])
            if (tasks == t).all():  # one task: a plain row selection, nothing to pad
                rows = torch.as_tensor(rows, device=self.device)
                local = rows - int(self.offsets[t])
                X = self.task_values[t].index_select(0, local)
                Xi = {
                    "X": X,
                    "task": torch.full((len(rows),), t, dtype=torch.long, device=self.device),
                    "mask": torch.ones(X.shape, dtype=torch.bool, device=self.device),
                }
                return Xi, (None if self.y is None else self.y[rows])
        rows = torch.as_tensor(rows, dtype=torch.long, device=self.device)
        width = self.row_width[rows]
        n_cols = int(width.max()) if len(rows) else 0
        cols = torch.arange(n_cols, device=self.device)
        mask = cols.unsqueeze(0) < width.unsqueeze(1)
        index = (self.row_start[rows].unsqueeze(1) + cols.unsqueeze(0)).masked_fill(~mask, 0)
        X = self.values[index].masked_fill(~mask, 0.0)
        Xi = {"X": X, "task": self.row_task[rows], "mask": mask}
        return Xi, (None if self.y is None else self.y[rows])

    def subset(self, rows_per_task):
        """A new dataset keeping, for every task, the given local row indices."""
        Xs = [x[r] for x, r in zip(self.Xs, rows_per_task)]
        ys = None if self.ys is None else [np.asarray(y)[r] for y, r in zip(self.ys, rows_per_task)]
        return TaskDataset(Xs, ys, device=self.device)


class TaskBatchLoader:
    """Iterate over a :class:`TaskDataset` in task-aware mini-batches.

    Parameters
    ----------
    dataset : TaskDataset
    batch_size : int, default=128
    shuffle : bool, default=False
        False: every task's rows in order (prediction, validation): one task per batch
        with ``batching="task"``, consecutive rows of several tasks per batch with
        ``"mixed"``.
    batching : {"task", "mixed"}, default="task"
        ``"task"``: every step holds rows of one task (sample a task, then a batch from
        it, as the papers train). ``"mixed"``: every step holds rows of many tasks,
        zero-padded to the widest and masked, in one forward pass.
    task_sampling : {"proportional", "uniform", "sqrt"}, default="proportional"
        How often tasks are visited: in proportion to their rows (one pass over every
        row per epoch), uniformly (small tasks are then revisited more often), or in
        proportion to the square root of their rows (between the two: large tasks get
        more steps than under uniform, small tasks more than under proportional). An
        epoch has as many steps as the proportional pass over all rows.
    tasks_per_step : int or None, default=None
        With ``batching="mixed"`` and ``shuffle=True``: how many tasks fill one step.
        Each step draws this many distinct tasks (by ``task_sampling``) and takes the
        next ``ceil(batch_size / tasks_per_step)`` rows of each (fewer if the task is
        smaller), as if that many one-task steps were packed into one forward pass.
        Fewer tasks per step means fewer distinct variables, classes or task networks
        to compute per step. None: every row's task is drawn independently, so a large
        step touches nearly every task. Ignored otherwise.
    steps_per_epoch : int or None, default=None
        With ``shuffle=True``: training steps per epoch. None: as many as one pass over
        every row takes (``len`` above). A shorter epoch means more frequent validation,
        so early stopping and per-task model selection look at the weights more often.
        Row orders that are passes (proportional sampling) carry on from one step to the
        next within an epoch and start afresh, reshuffled, when a pass is used up.
    random_state : numpy.random.Generator, int or None, default=None
        Source of the order; a Generator passed in is advanced, so successive epochs
        differ while the whole run stays reproducible.

    Examples
    --------
    >>> import numpy as np
    >>> ds = TaskDataset([np.ones((5, 2)), np.ones((3, 4))], [np.zeros(5, int), np.ones(3, int)])
    >>> loader = TaskBatchLoader(ds, batch_size=2, shuffle=True, random_state=0)
    >>> sorted(int(Xi["task"][0]) for Xi, _ in loader)
    [0, 0, 0, 1, 1]
    """

    def __init__(
        self,
        dataset,
        batch_size=128,
        shuffle=False,
        batching="task",
        task_sampling="proportional",
        random_state=None,
        tasks_per_step=None,
        steps_per_epoch=None,
    ):
        if batching not in BATCHING_MODES:
            raise ValueError(f"batching must be one of {BATCHING_MODES}, got {batching!r}.")
        if task_sampling not in TASK_SAMPLING:
            raise ValueError(
                f"task_sampling must be one of {TASK_SAMPLING}, got {task_sampling!r}."
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.batching = batching
        self.task_sampling = task_sampling
        if tasks_per_step is not None and int(tasks_per_step) < 1:
            raise ValueError(f"tasks_per_step must be >= 1 or None, got {tasks_per_step!r}.")
        self.tasks_per_step = None if tasks_per_step is None else int(tasks_per_step)
        if steps_per_epoch is not None and int(steps_per_epoch) < 1:
            raise ValueError(f"steps_per_epoch must be >= 1 or None, got {steps_per_epoch!r}.")
        self.steps_per_epoch = None if steps_per_epoch is None else int(steps_per_epoch)
        self.rng = (
            random_state
            if isinstance(random_state, np.random.Generator)
            else np.random.default_rng(random_state)
        )

    def _task_weights(self, tasks):
        """Sampling probabilities of ``tasks`` (None: uniform)."""
        if self.task_sampling == "uniform":
            return None
        weights = self.dataset.sizes[tasks].astype(np.float64)
        if self.task_sampling == "sqrt":
            weights = np.sqrt(weights)
        return weights / weights.sum()

    def _sample_tasks(self, tasks, size):
        """Draw ``size`` tasks among ``tasks``, uniformly or by the root of their rows."""
        if self.task_sampling == "sqrt":
            return self.rng.choice(tasks, size=size, p=self._task_weights(tasks))
        return tasks[self.rng.integers(len(tasks), size=size)]

    def _n_task_batches(self):
        b = self.batch_size
        return [int(-(-n // b)) for n in self.dataset.sizes]

    def _pass_length(self):
        """Steps of one pass over every row."""
        if self.batching == "mixed":
            return int(-(-len(self.dataset) // self.batch_size))
        return int(sum(self._n_task_batches()))

    def __len__(self):
        if self.shuffle and self.steps_per_epoch is not None:
            return self.steps_per_epoch
        return self._pass_length()

    def _passes(self, n):
        """Permutations of ``range(n)``, one after another, as one endless stream."""
        while True:
            yield from self.rng.permutation(n)

    def __iter__(self):
        ds, b = self.dataset, self.batch_size
        offsets, sizes = ds.offsets, ds.sizes
        if not self.shuffle and self.batching == "mixed":
            for start in range(0, len(ds), b):  # rows in order, tasks packed together
                yield ds.gather(np.arange(start, min(start + b, len(ds))))
            return
        if not self.shuffle:
            for t in range(ds.n_tasks):
                for start in range(offsets[t], offsets[t + 1], b):
                    yield ds.gather(np.arange(start, min(start + b, offsets[t + 1])))
            return
        rng = self.rng
        nonempty = np.flatnonzero(sizes > 0)
        if len(nonempty) == 0:
            return
        if self.batching == "mixed" and self.tasks_per_step is not None:
            yield from self._grouped_steps(nonempty)
            return
        if self.batching == "mixed":
            n_steps = len(self)
            if self.task_sampling == "proportional":
                if n_steps == self._pass_length():  # one pass: consecutive slices of a shuffle
                    perm = rng.permutation(len(ds))
                    for s in range(n_steps):
                        yield ds.gather(np.sort(perm[s * b : (s + 1) * b]))
                    return
                stream = self._passes(len(ds))
                for _ in range(n_steps):
                    yield ds.gather(np.sort(np.fromiter(stream, np.int64, count=b)))
            else:
                for _ in range(n_steps):
                    tasks = self._sample_tasks(nonempty, b)
                    local = np.floor(rng.random(b) * sizes[tasks]).astype(np.int64)
                    yield ds.gather(np.sort(offsets[tasks] + local))
            return
        # one task per step
        rows = _RowCursor(ds, nonempty, rng)
        if self.task_sampling == "proportional":
            order = [(t, i) for t in nonempty for i in range(-(-int(sizes[t]) // b))]
            stream = self._passes(len(order))
            for s in range(len(self)):
                if s and s % len(order) == 0:  # a new pass: every task's rows reshuffled
                    rows = _RowCursor(ds, nonempty, rng)
                t, i = order[next(stream)]
                yield ds.gather(rows.perms[t][i * b : (i + 1) * b])
        else:
            for t in self._sample_tasks(nonempty, len(self)):
                yield ds.gather(rows.take(t, b))

    def _grouped_steps(self, nonempty):
        """Mixed steps of ``tasks_per_step`` distinct tasks, each giving its next rows."""
        k = min(self.tasks_per_step, len(nonempty))
        chunk = -(-self.batch_size // k)
        weights = self._task_weights(nonempty)
        rows = _RowCursor(self.dataset, nonempty, self.rng)
        for _ in range(len(self)):
            tasks = self.rng.choice(nonempty, size=k, replace=False, p=weights)
            yield self.dataset.gather(np.sort(np.concatenate([rows.take(t, chunk) for t in tasks])))


class _RowCursor:
    """Every task's rows in a shuffled order, handed out in consecutive chunks.

    ``take(t, n)`` returns the next (at most) ``n`` global rows of task ``t``; when a
    task's pass is used up, its rows are reshuffled and the next pass begins.
    """

    def __init__(self, dataset, tasks, rng):
        self.offsets, self.sizes, self.rng = dataset.offsets, dataset.sizes, rng
        self.perms = {t: self.offsets[t] + rng.permutation(self.sizes[t]) for t in tasks}
        self.cursor = dict.fromkeys(tasks, 0)

    def take(self, t, n):
        start = self.cursor[t]
        if start >= self.sizes[t]:
            self.perms[t] = self.offsets[t] + self.rng.permutation(self.sizes[t])
            start = 0
        self.cursor[t] = start + n
        return self.perms[t][start : start + n]
