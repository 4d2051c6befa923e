"""Persistence, determinism, warm start and the CUDA path, for every neural estimator."""

import pickle

import numpy as np
import pytest
import torch
from estimators import is_neural, multitask_data, tiny_estimators
from sklearn.base import clone, is_classifier

NEURAL = {n: e for n, e in tiny_estimators().items() if is_neural(e)}
NAMES = list(NEURAL)
# These draw training noise (W = Z + N) from the device's own generator, and CUDA's stream
# differs from the CPU's: their CPU and CUDA fits differ as two seeds do, while each device
# on its own is deterministic (checked below).
NOISY_TRAINING = {"HierarchicalIBClassifier", "HierarchicalIBRegressor"}


def _outputs(est, Xs):
    return est.predict_proba(Xs) if is_classifier(est) else est.predict(Xs)


def _fit(name, rng, **params):
    est = clone(NEURAL[name]).set_params(**{"max_epochs": 3, **params})
    tasks, meta = multitask_data(est, rng)
    return est.fit(tasks, metadata=meta), tasks, meta


@pytest.mark.parametrize("name", NAMES)
def test_pickle_round_trip_keeps_predictions(name, fitted_tiny):
    est, tasks, _ = fitted_tiny(name)
    Xs = [X for X, _ in tasks]
    restored = pickle.loads(pickle.dumps(est))
    for a, b in zip(_outputs(est, Xs), _outputs(restored, Xs)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_params_round_trip(name, fitted_tiny, tmp_path):
    est, tasks, meta = fitted_tiny(name)
    est.save_params(f_params=tmp_path / "p.pt", f_history=tmp_path / "h.json")
    fresh = clone(est).set_params(random_state=123).initialize(tasks, metadata=meta)
    fresh.load_params(f_params=tmp_path / "p.pt", f_history=tmp_path / "h.json")
    Xs = [X for X, _ in tasks]
    for a, b in zip(_outputs(est, Xs), _outputs(fresh, Xs)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert len(fresh.history_) == len(est.history_)


@pytest.mark.parametrize("name", NAMES)
def test_same_random_state_same_predictions(name, rng):
    tasks, meta = multitask_data(NEURAL[name], rng)
    Xs = [X for X, _ in tasks]
    runs = [
        _outputs(
            clone(NEURAL[name]).set_params(max_epochs=3, random_state=s).fit(tasks, metadata=meta),
            Xs,
        )
        for s in (7, 7, 8)
    ]
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, c) for a, c in zip(runs[0], runs[2]))


@pytest.mark.parametrize("name", NAMES)
def test_warm_start(name, rng):
    est, tasks, meta = _fit(name, rng, early_stopping=False)
    assert len(est.history_) == 3
    est.fit(tasks, metadata=meta)
    assert len(est.history_) == 3  # warm_start=False: a fresh fit
    est.set_params(warm_start=True).fit(tasks, metadata=meta)
    assert len(est.history_) == 6  # continued


@pytest.mark.parametrize("name", NAMES)
def test_cuda_without_gpu_fails_clearly(name, rng):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: see the cuda-marked tests")
    est = clone(NEURAL[name]).set_params(device="cuda")
    tasks, meta = multitask_data(est, rng)
    with pytest.raises(ValueError, match="CUDA is not available on this machine"):
        est.fit(tasks, metadata=meta)


@pytest.mark.cuda
@pytest.mark.parametrize("name", NAMES)
def test_cuda_fit_predict_and_load_on_cpu(name, rng, tmp_path):
    if not torch.cuda.is_available():
        pytest.fail("the cuda mark needs a GPU")
    gpu, tasks, meta = _fit(name, rng, device="cuda")
    assert next(gpu.module_.parameters()).is_cuda
    Xs = [X for X, _ in tasks]
    cpu = _fit(name, np.random.default_rng(0), device="cpu")[0]
    for a, b in zip(_outputs(gpu, Xs), _outputs(cpu, Xs)):
        assert a.shape == b.shape and np.all(np.isfinite(a))
        if name not in NOISY_TRAINING:  # same seed, within tolerance
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)
    again = _fit(name, np.random.default_rng(0), device="cuda")[0]
    for a, b in zip(_outputs(gpu, Xs), _outputs(again, Xs)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    gpu.save_params(f_params=tmp_path / "gpu.pt")
    on_cpu = clone(gpu).set_params(device="cpu").initialize(tasks, metadata=meta)
    on_cpu.load_params(f_params=tmp_path / "gpu.pt")
    for a, b in zip(_outputs(gpu, Xs), _outputs(on_cpu, Xs)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    gpu.set_params(device="cpu")  # and back
    assert not next(iter(gpu.predict(Xs)))[0:0].size
    assert not next(gpu.module_.parameters()).is_cuda


@pytest.mark.parametrize("name", NAMES)
def test_per_task_selection_fits_and_pickles(name, rng):
    est, tasks, meta = _fit(name, rng, early_stopping="per_task", max_epochs=4)
    epochs = est.task_best_epoch_
    assert epochs is not None and len(epochs) == len(tasks)
    assert np.all((epochs >= 1) & (epochs <= est.n_iter_))
    Xs = [X for X, _ in tasks]
    outs = _outputs(est, Xs)
    assert all(np.all(np.isfinite(o)) for o in outs)
    for a, b in zip(outs, _outputs(pickle.loads(pickle.dumps(est)), Xs)):
        np.testing.assert_array_equal(a, b)
