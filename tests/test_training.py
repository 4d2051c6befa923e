"""The training layer: one net configuration for cold and warm fits, and its hooks."""

import numpy as np
import pytest
import torch
from toy import ToyClassifier, ToyRegressor

from skmtl._batching import TaskBatchLoader, TaskDataset
from skmtl._skorch import TaskNet
from skmtl._training import TrainingConfig, net_params


def _tasks(rng, n=(60, 45), widths=(3, 4)):
    out = []
    for rows, w in zip(n, widths):
        X = rng.normal(size=(rows, w))
        out.append((X, X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=rows)))
    return out


def test_warm_start_applies_changed_optimizer_settings(rng):
    # the bug this layer fixes: the warm path kept the old lr and weight decay
    tasks = _tasks(rng)
    reg = ToyRegressor(lr=1e-2, max_epochs=2, random_state=0, validation_fraction=0.0).fit(tasks)
    groups = reg.net_.optimizer_.param_groups
    assert {g["lr"] for g in groups} == {1e-2} and {g["weight_decay"] for g in groups} == {0.0}
    steps = reg.n_steps_
    reg.set_params(lr=0.5, weight_decay=0.1, warm_start=True, max_epochs=1).fit(tasks)
    groups = reg.net_.optimizer_.param_groups
    assert {g["lr"] for g in groups} == {0.5}
    assert {g["weight_decay"] for g in groups} == {0.1}
    # same optimizer class: Adam's running state carries on (its step count is the total)
    state = next(iter(reg.net_.optimizer_.state.values()))
    assert int(state["step"]) == reg.n_steps_ > steps
    reg.set_params(optimizer="sgd", lr=0.05).fit(tasks)
    assert isinstance(reg.net_.optimizer_, torch.optim.SGD)
    assert reg.net_.optimizer_.param_groups[0]["lr"] == 0.05
    reg.set_params(device=torch.device("cpu")).fit(tasks)
    assert reg.net_.device == "cpu"


def test_warm_start_equals_one_longer_fit_when_nothing_changes(rng):
    # 3 + 2 warm epochs == 5 epochs in one go would need the same batch order; instead the
    # invariant checked is that an unchanged warm fit continues from the fitted weights
    tasks = _tasks(rng)
    reg = ToyRegressor(max_epochs=3, random_state=0, validation_fraction=0.0).fit(tasks)
    w = reg.module_.out.weight.detach().clone()
    reg.set_params(warm_start=True, max_epochs=1, lr=1e-12).fit(tasks)
    np.testing.assert_allclose(reg.module_.out.weight.detach(), w, atol=1e-8)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_warm_start_moves_to_a_new_device(rng):
    tasks = _tasks(rng)
    reg = ToyRegressor(max_epochs=2, random_state=0).fit(tasks)
    reg.set_params(device="cuda", warm_start=True, max_epochs=1).fit(tasks)
    assert next(reg.module_.parameters()).is_cuda
    assert reg.predict([x for x, _ in tasks])[0].shape == (60,)


def test_cold_and_warm_nets_get_the_same_settings(rng):
    tasks = _tasks(rng)
    reg = ToyRegressor(max_epochs=1, random_state=0, batch_size=8).fit(tasks)
    reg.set_params(batch_size=16, batching="mixed", tasks_per_step=2, warm_start=True).fit(tasks)
    cold = ToyRegressor(max_epochs=1, random_state=0, batch_size=16, batching="mixed")
    cold.set_params(tasks_per_step=2).fit(tasks)
    for name in (
        "batch_size",
        "iterator_train__batching",
        "iterator_train__tasks_per_step",
        "iterator_valid__batch_size",
        "lr",
        "optimizer__weight_decay",
        "max_epochs",
    ):
        assert getattr(reg.net_, name) == getattr(cold.net_, name), name


def test_net_params_is_the_one_configuration():
    config = TrainingConfig(lr=0.3, weight_decay=0.2, optimizer="sgd", batch_size=7)
    params = net_params(config, callbacks=[], train_split=None, loader_rng=None)
    assert params["optimizer"] is torch.optim.SGD and params["optimizer__foreach"]
    assert (params["lr"], params["optimizer__weight_decay"], params["batch_size"]) == (0.3, 0.2, 7)
    assert params["callbacks__print_log"] is None  # silent: no per-epoch table


def test_net_class_is_looked_up_on_the_estimator(rng):
    built = []

    class RecordingNet(TaskNet):
        def initialize(self):
            built.append(type(self).__name__)
            return super().initialize()

    class Recording(ToyClassifier):
        _net_class = RecordingNet

    X = rng.normal(size=(30, 2))
    Recording(max_epochs=1, random_state=0).fit(X, (X[:, 0] > 0).astype(int))
    assert built == ["RecordingNet"]


def test_predict_goes_through_forward_iter(rng):
    tasks = _tasks(rng)
    reg = ToyRegressor(max_epochs=2, random_state=0).fit(tasks)
    calls = []
    original = reg.net_.forward_iter

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    reg.net_.forward_iter = counting
    pred = reg.predict([x for x, _ in tasks])
    del reg.net_.forward_iter
    assert calls and len(pred) == 2
    # and equals the module applied directly to the scaled rows
    x = torch.as_tensor(reg._scale([tasks[1][0]], [1])[0])
    with torch.no_grad():
        reg.module_.eval()
        out, _ = reg.module_(
            x, torch.ones(len(x), dtype=torch.long), torch.ones_like(x, dtype=bool)
        )
    direct = out[:, 0].numpy() * reg.target_scale_[1][0] + reg.target_mean_[1][0]
    np.testing.assert_allclose(pred[1], direct, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "mode, tol, name", [(True, 0.05, "early_stopping"), ("per_task", 0.2, "per_task_checkpoint")]
)
def test_tol_reaches_the_stopping_callback(rng, mode, tol, name):
    reg = ToyRegressor(max_epochs=2, random_state=0, early_stopping=mode, tol=tol)
    cb = dict(reg.fit(_tasks(rng)).net_.callbacks_)[name]
    assert (cb.threshold if mode is True else cb.tol) == tol
    default = dict(ToyRegressor(max_epochs=2, early_stopping=mode).fit(_tasks(rng)).net_.callbacks_)
    assert (default[name].threshold if mode is True else default[name].tol) == (
        1e-4 if mode is True else 1e-3
    )


def test_a_large_tol_stops_early(rng):
    tasks = _tasks(rng)
    loose = ToyRegressor(max_epochs=60, random_state=0, n_iter_no_change=2, tol=0.5).fit(tasks)
    tight = ToyRegressor(max_epochs=60, random_state=0, n_iter_no_change=2, tol=0.0).fit(tasks)
    assert loose.n_iter_ < tight.n_iter_


def test_loader_rejects_misspelt_options():
    ds = TaskDataset([np.ones((3, 2))], [np.zeros(3, int)])
    with pytest.raises(TypeError, match="batchig"):
        TaskBatchLoader(ds, batchig="mixed")


def test_hib_noise_learning_rate_is_a_parameter_group(rng):
    from skmtl.hib import HierarchicalIBClassifier

    X = rng.normal(size=(40, 3))
    tasks = [(X, (X[:, 0] > 0).astype(int)), (X, (X[:, 1] > 0).astype(int))]
    clf = HierarchicalIBClassifier(latent_dim=2, hidden_layer_sizes=(4,), lr=0.01, max_epochs=1)
    clf.set_params(log_var_lr_scale=10.0, random_state=0).fit(tasks)
    named = dict(clf.module_.named_parameters())
    lr_of = {id(p): g["lr"] for g in clf.net_.optimizer_.param_groups for p in g["params"]}
    assert lr_of[id(named["noise_log_var"])] == pytest.approx(0.1)
    assert lr_of[id(named["prior_log_var"])] == pytest.approx(0.1)
    assert lr_of[id(named["encoder.0.weight"])] == pytest.approx(0.01)
    clf.set_params(lr=0.02, warm_start=True).fit(tasks)  # the groups follow a new lr
    lr_of = {id(p): g["lr"] for g in clf.net_.optimizer_.param_groups for p in g["params"]}
    assert lr_of[id(named["noise_log_var"])] == pytest.approx(0.2)
    plain = clf.set_params(log_var_lr_scale=1.0, warm_start=False).fit(tasks)
    assert len(plain.net_.optimizer_.param_groups) == 1


def test_hib_second_stage_leaves_the_parameters_alone(rng):
    from skmtl.hib import HierarchicalIBClassifier

    X = rng.normal(size=(40, 3))
    tasks = [(X, (X[:, 0] > 0).astype(int)), (X, (X[:, 1] > 0).astype(int))]
    clf = HierarchicalIBClassifier(
        latent_dim=2,
        hidden_layer_sizes=(4,),
        learn_noise=False,
        noise_refit_epochs=2,
        max_epochs=3,
        early_stopping=False,
        random_state=0,
    )
    before = clf.get_params()
    clf.fit(tasks)
    assert clf.get_params() == before  # no max_epochs / warm_start edits between stages
    assert clf.stage_epochs_ == (3, 2) and clf.n_iter_ == 5
    # the noise variances moved in stage 2 only (they start at fixed_noise_log_var = 1)
    assert not np.allclose(clf.noise_log_var_, 1.0)
    assert not clf.module_.noise_log_var.requires_grad  # frozen again after the fit
