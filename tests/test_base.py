"""The shared estimator machinery, exercised through a tiny toy estimator."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from skorch.callbacks import Callback
from toy import ToyClassifier, ToyRegressor

from skmtl import Tasks, TaskStratifiedKFold


def make_tasks(rng, n=(120, 90), widths=(3, 5)):
    tasks = []
    for k, (rows, w) in enumerate(zip(n, widths)):
        X = rng.normal(size=(rows, w))
        logit = X[:, 0] - X[:, 1] if k == 0 else X[:, 2] + X[:, 1]
        y = np.where(logit > 0, "pos", "neg") if k == 0 else (logit > 0).astype(int) * 7 + 3
        tasks.append((X, y))
    return tasks


def test_fit_predict_heterogeneous_tasks(rng):
    tasks = make_tasks(rng)
    clf = ToyClassifier(random_state=0).fit(tasks)
    preds = clf.predict([X for X, _ in tasks])
    assert isinstance(preds, list) and [p.shape for p in preds] == [(120,), (90,)]
    assert set(preds[0]) <= {"pos", "neg"} and set(preds[1]) <= {3, 10}
    proba = clf.predict_proba([X for X, _ in tasks])
    np.testing.assert_allclose(proba[1].sum(1), 1.0, rtol=1e-5)
    scores = clf.score_tasks(tasks)
    assert scores.shape == (2,) and np.all(scores > 0.8)  # chance is 0.5
    assert clf.score(tasks) == pytest.approx(scores.mean())
    assert clf.n_tasks_ == 2 and clf.n_features_per_task_ == [3, 5]
    assert "valid_loss" in clf.history_[-1] and "valid_score" in clf.history_[-1]


def test_single_task_input_returns_arrays(rng):
    X, y = make_tasks(rng)[0]
    clf = ToyClassifier(random_state=0, max_epochs=5).fit(X, y)
    assert isinstance(clf.predict(X), np.ndarray) and clf.predict(X).shape == (120,)
    assert list(clf.classes_) == ["neg", "pos"]
    assert clf.n_features_in_ == 3


@pytest.mark.parametrize("batching", ["task", "mixed"])
@pytest.mark.parametrize("sampling", ["proportional", "uniform", "sqrt"])
def test_batching_modes_train(rng, batching, sampling):
    tasks = make_tasks(rng)
    clf = ToyClassifier(batching=batching, task_sampling=sampling, random_state=0).fit(tasks)
    assert clf.score(tasks) > 0.8


class _TasksPerStep(Callback):
    """Distinct tasks in every training step."""

    def initialize(self):
        self.counts = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.counts.append(len(np.unique(batch[0]["task"].numpy())))


def test_tasks_per_step_limits_the_tasks_of_a_mixed_step(rng):
    tasks = make_tasks(rng) + make_tasks(np.random.default_rng(1))  # four tasks
    seen = _TasksPerStep()
    clf = ToyClassifier(
        batching="mixed",
        batch_size=64,
        tasks_per_step=2,
        callbacks=[("steps", seen)],
        random_state=0,
    ).fit(tasks)
    assert set(seen.counts) == {2} and clf.score(tasks) > 0.8
    clf.set_params(tasks_per_step=None, warm_start=True, max_epochs=2).fit(tasks)
    assert max(seen.counts) == 4  # the change reaches a warm-started net


def test_steps_per_epoch_shortens_the_epoch(rng):
    tasks = make_tasks(rng)
    clf = ToyClassifier(
        steps_per_epoch=3, max_epochs=4, early_stopping="per_task", random_state=0
    ).fit(tasks)
    counts = [h["train_batch_count"] for h in clf.history_]
    assert counts == [3, 3, 3, 3] and clf.n_steps_ == 12
    assert len(clf.task_best_epoch_) == 2 and clf.score(tasks) > 0.6
    full = ToyClassifier(max_epochs=1, random_state=0).fit(tasks)
    assert full.history_[0]["train_batch_count"] > 3  # default: one pass over the rows
    clf.set_params(steps_per_epoch=5, warm_start=True, max_epochs=1).fit(tasks)
    assert clf.history_[-1]["train_batch_count"] == 5  # the change reaches a warm-started net


def test_regressor_scales_targets_back(rng):
    X = rng.normal(size=(150, 2))
    tasks = [(X, 1000 + 50 * X[:, 0]), (X[:, :1], -3 * X[:, 0])]
    reg = ToyRegressor(random_state=0, max_epochs=60).fit(tasks)
    pred = reg.predict([X, X[:, :1]])
    assert abs(pred[0].mean() - 1000) < 10
    assert reg.score(tasks) > 0.9


def test_random_state_reproducible_and_torch_rng_untouched(rng):
    import torch

    tasks = make_tasks(rng)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = ToyClassifier(random_state=0, max_epochs=5).fit(tasks)
    after = torch.rand(1)
    assert torch.equal(before, after)  # fitting did not consume the global generator
    b = ToyClassifier(random_state=0, max_epochs=5).fit(tasks)
    c = ToyClassifier(random_state=1, max_epochs=5).fit(tasks)
    Xs = [X for X, _ in tasks]
    np.testing.assert_array_equal(a.predict_proba(Xs)[0], b.predict_proba(Xs)[0])
    assert not np.allclose(a.predict_proba(Xs)[0], c.predict_proba(Xs)[0])


def test_clone_get_params_and_pickle(rng):
    tasks = make_tasks(rng)
    clf = ToyClassifier(hidden=8, lr=0.02, random_state=0, max_epochs=5)
    assert clone(clf).get_params() == clf.get_params()
    clf.fit(tasks)
    assert not hasattr(clone(clf), "net_")
    restored = pickle.loads(pickle.dumps(clf))
    Xs = [X for X, _ in tasks]
    np.testing.assert_array_equal(restored.predict_proba(Xs)[1], clf.predict_proba(Xs)[1])


def test_save_and_load_params(rng, tmp_path):
    tasks = make_tasks(rng)
    clf = ToyClassifier(random_state=0, max_epochs=5).fit(tasks)
    clf.save_params(f_params=tmp_path / "params.pt")
    fresh = clone(clf).set_params(random_state=1)
    with pytest.raises(ValueError, match="must be initialized before load_params"):
        fresh.load_params(f_params=tmp_path / "params.pt")
    fresh.initialize(tasks).load_params(f_params=tmp_path / "params.pt")
    Xs = [X for X, _ in tasks]
    np.testing.assert_allclose(fresh.predict_proba(Xs)[0], clf.predict_proba(Xs)[0], rtol=1e-6)


def test_warm_start_continues_cold_start_resets(rng):
    tasks = make_tasks(rng)
    clf = ToyClassifier(random_state=0, max_epochs=3, early_stopping=False, warm_start=True)
    clf.fit(tasks)
    first = len(clf.history_)
    clf.fit(tasks)
    assert len(clf.history_) == first + 3
    clf.set_params(warm_start=False).fit(tasks)
    assert len(clf.history_) == 3
    clf.set_params(warm_start=True)
    with pytest.raises(ValueError, match="warm_start=True continues training"):
        clf.fit(tasks[:1])


def test_early_stopping_stops_and_callbacks_run(rng):
    tasks = make_tasks(rng)

    class Count(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kw):
            self.epochs += 1

    counter = Count()
    clf = ToyClassifier(
        random_state=0, max_epochs=300, n_iter_no_change=3, lr=0.05, callbacks=[("count", counter)]
    ).fit(tasks)
    assert clf.n_iter_ < 300
    assert dict(clf.net_.callbacks_)["count"].epochs == clf.n_iter_


def test_per_task_selection_uses_each_tasks_best_epoch(rng, tmp_path):
    # task 0 is learnable and large, task 1 is tiny and pure noise: it should pick an early
    # epoch while task 0 keeps improving, and each predicts with its own weights
    X0 = rng.normal(size=(400, 3))
    y0 = (X0[:, 0] > 0).astype(int)
    X1 = rng.normal(size=(40, 3))
    y1 = rng.integers(0, 2, size=40)
    tasks = [(X0, y0), (X1, y1)]
    clf = ToyClassifier(
        random_state=0, max_epochs=40, lr=0.05, early_stopping="per_task", n_iter_no_change=40
    ).fit(tasks)
    epochs = clf.task_best_epoch_
    assert epochs.shape == (2,) and np.all((epochs >= 1) & (epochs <= clf.n_iter_))
    assert epochs[0] > epochs[1]
    snaps = clf._task_snapshots
    assert set(snaps.snapshots) == set(epochs.tolist())  # nothing unreferenced kept
    assert "valid_tasks_improved" in clf.history_[-1]

    # each task's outputs are those of its own epoch's weights, through every entry point;
    # prediction never swaps the module's weights (it runs functional_call on a snapshot)
    module = clf.net_.module_
    before = {k: v.clone() for k, v in module.state_dict().items()}
    proba = clf.predict_proba([X0, X1])
    for k, v in module.state_dict().items():
        assert (v == before[k]).all()
    for t in range(2):
        own = clone(clf).initialize(tasks)
        own.net_.module_.load_state_dict(snaps.snapshots[int(epochs[t])])
        np.testing.assert_allclose(proba[t], own.predict_proba([X0, X1])[t], rtol=1e-6)
    # module_ holds the weights of the epoch most tasks chose
    default = snaps.snapshots[snaps.default_epoch]
    for k, v in module.state_dict().items():
        assert (v == default[k]).all()
    # a single task asked alone gets its own weights too
    np.testing.assert_allclose(
        clf._forward_outputs(X1, task=1)[0][0].numpy(),
        clf._forward_outputs([X0, X1])[0][1].numpy(),
        rtol=1e-6,
    )

    # pickling keeps the selections; save_params keeps module_ only
    again = pickle.loads(pickle.dumps(clf))
    for a, b in zip(proba, again.predict_proba([X0, X1])):
        np.testing.assert_array_equal(a, b)
    clf.save_params(f_params=tmp_path / "p.pt")
    fresh = clone(clf).initialize(tasks)
    fresh.load_params(f_params=tmp_path / "p.pt")
    assert fresh.task_best_epoch_ is None


def test_per_task_selection_stops_when_no_task_improves(rng):
    tasks = make_tasks(rng)
    clf = ToyClassifier(
        random_state=0, max_epochs=300, lr=0.05, early_stopping="per_task", n_iter_no_change=3
    ).fit(tasks)
    assert clf.n_iter_ < 300
    assert ToyClassifier(random_state=0, max_epochs=3).fit(tasks).task_best_epoch_ is None
    with pytest.raises(ValueError, match="early_stopping"):
        ToyClassifier(early_stopping="per_row").fit(tasks)


@pytest.mark.parametrize("batching", ["task", "mixed"])
def test_validation_runs_the_module_once_per_epoch(rng, batching):
    # valid_loss, valid_score and the per-task losses all come from one validation pass
    tasks = make_tasks(rng)
    calls = []

    class CountForwards(Callback):
        def on_train_begin(self, net, **kwargs):
            net.module_.register_forward_hook(
                lambda m, inp, out: calls.append(m.training), prepend=False
            )

    clf = ToyClassifier(
        random_state=0,
        max_epochs=2,
        batching=batching,
        batch_size=16,
        early_stopping="per_task",
        n_iter_no_change=5,
        callbacks=[CountForwards()],
    ).fit(tasks)
    n_valid = 12 + 9  # 10% of 120 and 90 rows, stratified
    per_epoch = -(-n_valid // 16) if batching == "mixed" else -(-12 // 16) + -(-9 // 16)
    assert calls.count(False) == 2 * per_epoch
    h = clf.history_[-1]
    assert 0.0 <= h["valid_score"] <= 1.0 and np.isfinite(h["valid_loss_per_task_best"])


def test_task_mean_score_averages_tasks_not_rows():
    import torch

    from skmtl._skorch import task_mean_score

    task = torch.tensor([0, 0, 1, 1, 1, 2])
    out = torch.eye(3)[[0, 1, 1, 1, 0, 2]] * 5.0  # argmax: 0, 1, 1, 1, 0, 2
    y = torch.tensor([0, 2, 1, 1, 0, 0])
    # task 0: 1/2 right; task 1 (2 classes): 3/3; task 2: 0/1 -> mean 0.5, rows 4/6
    assert task_mean_score("classification", [3, 2, 3], out, y, task) == pytest.approx(0.5)
    y_reg = torch.tensor([[1.0], [3.0], [0.0], [1.0], [2.0], [5.0]])
    pred = torch.tensor([[1.0], [3.0], [1.0], [1.0], [1.0], [0.0]])
    # task 0 exact (R^2 1), task 1 R^2 = 1 - 2/2 = 0, task 2 one row (ss_tot 0) -> 0
    assert task_mean_score("regression", [1, 1, 1], pred, y_reg, task) == pytest.approx(1 / 3)


def test_validation_disabled(rng):
    clf = ToyClassifier(random_state=0, max_epochs=3, validation_fraction=0.0).fit(make_tasks(rng))
    assert "valid_loss" not in clf.history_[-1]


def test_cuda_fails_clearly_without_gpu(rng):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="CUDA is not available on this machine"):
        ToyClassifier(device="cuda").fit(make_tasks(rng))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"device": "tpu"}, "device"),
        ({"lr": 0.0}, "'lr' parameter"),
        ({"lr": -1.0}, "'lr' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"max_epochs": 0}, "'max_epochs' parameter"),
        ({"batching": "both"}, "'batching' parameter"),
        ({"tasks_per_step": 0}, "'tasks_per_step' parameter"),
        ({"steps_per_epoch": 0}, "'steps_per_epoch' parameter"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
    ],
)
def test_bad_parameters(rng, params, match):
    with pytest.raises(ValueError, match=match):
        ToyClassifier(**params).fit(make_tasks(rng))


def test_training_data_errors(rng):
    X, y = make_tasks(rng)[0]
    with pytest.raises(ValueError, match=r"task 1 has only one class \(3\)"):
        ToyClassifier().fit([(X, y), (X, np.full(len(X), 3))])
    with pytest.raises(ValueError, match="task 1 has no rows"):
        ToyClassifier().fit([(X, y), (X[:0], y[:0])])
    clf = ToyClassifier(random_state=0, max_epochs=2).fit([(X, y), (X[:, :2], y)])
    with pytest.raises(
        ValueError, match="task 1: X has 3 features, but ToyClassifier is expecting 2"
    ):
        clf.predict([X, X])
    with pytest.raises(ValueError, match="3 tasks were given but the model was fitted on 2"):
        clf.predict([X, X[:, :2], X])
    with pytest.warns(UserWarning, match="does not use task metadata"):
        ToyClassifier(max_epochs=1).fit([(X, y), (X, y)], metadata=[[1.0], [2.0]])


def test_cross_val_score_and_grid_search(rng):
    T = Tasks(*zip(*make_tasks(rng)))
    est = ToyClassifier(random_state=0, max_epochs=5)
    scores = cross_val_score(est, T, T.y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and np.all(scores > 0.6)
    scores = cross_val_score(est, T, T.y, cv=TaskStratifiedKFold(3, random_state=0))
    assert np.all(scores > 0.6)
    grid = GridSearchCV(est, {"hidden": [4, 16]}, cv=TaskStratifiedKFold(2, random_state=0))
    grid.fit(T)
    assert grid.best_params_["hidden"] in (4, 16) and grid.best_score_ > 0.6


def test_transform_style_module_method(rng):
    tasks = make_tasks(rng)
    clf = ToyClassifier(hidden=6, random_state=0, max_epochs=2).fit(tasks)
    Z = clf._apply_module("encode", [X for X, _ in tasks])
    assert [z.shape for z in Z] == [(120, 6), (90, 6)]


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_optimizer_uses_one_kernel_for_all_parameters(rng, optimizer):
    import torch

    clf = ToyClassifier(optimizer=optimizer, max_epochs=2, random_state=0).fit(make_tasks(rng))
    defaults = clf.net_.optimizer_.defaults
    if optimizer != "sgd" and torch.__version__ >= "2.4":
        assert defaults["fused"] is True
    else:
        assert defaults["foreach"] is True


def test_silent_fit_prints_nothing_and_verbose_fit_logs(rng, capsys):
    tasks = make_tasks(rng)
    clf = ToyClassifier(max_epochs=2, random_state=0).fit(tasks)
    assert "print_log" not in dict(clf.net_.callbacks_)
    assert capsys.readouterr().out == ""
    ToyClassifier(max_epochs=2, verbose=1, random_state=0).fit(tasks)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out


def test_training_mode_is_restored_for_every_submodule(rng):
    """Every submodule trains in training mode and predicts in eval mode (skorch's switch)."""
    tasks = make_tasks(rng)
    clf = ToyClassifier(max_epochs=1, random_state=0).fit(tasks)
    module = clf.net_.module_
    modes = []
    module.register_forward_hook(lambda m, i, o: modes.append([s.training for s in m.modules()]))
    module.eval()
    next(module.children()).train()  # one submodule out of step with the others
    clf.predict([X for X, _ in tasks])
    assert modes and not any(any(step) for step in modes)
    modes.clear()
    module.train()
    next(module.children()).eval()
    clf.set_params(warm_start=True, validation_fraction=0.0).fit(tasks)
    assert modes and all(all(step) for step in modes)
