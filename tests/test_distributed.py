"""Data-parallel training through accelerate: sharding, agreement across processes, saving.

``test_two_cpu_processes_fit_sve_on_pmlb`` launches two gloo processes with
``torch.distributed.run`` (about 30 s on an idle 2-core machine).
"""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from estimators import multitask_data, tiny_estimators
from sklearn.base import clone

pytest.importorskip("accelerate", reason="needs the 'distributed' extra")

from skmtl import distributed  # noqa: E402
from skmtl.distributed import (  # noqa: E402
    AcceleratedHardSharingClassifier,
    ShardedBatches,
)

REPO = Path(__file__).resolve().parents[1]
ACCELERATED = {
    "SharedVariableEmbeddingClassifier": "AcceleratedSharedVariableEmbeddingClassifier",
    "HierarchicalIBClassifier": "AcceleratedHierarchicalIBClassifier",
    "HierarchicalIBRegressor": "AcceleratedHierarchicalIBRegressor",
    "MultiTaskHypernetRegressor": "AcceleratedMultiTaskHypernetRegressor",
    "HardSharingRegressor": "AcceleratedHardSharingRegressor",
    "HardSharingClassifier": "AcceleratedHardSharingClassifier",
    "SingleNetworkRegressor-onehot": "AcceleratedSingleNetworkRegressor",
}


def _pair(name):
    plain = tiny_estimators()[name].set_params(max_epochs=3)
    accelerated = getattr(distributed, ACCELERATED[name])(**plain.get_params())
    return plain, accelerated


@pytest.mark.parametrize("name", list(ACCELERATED))
def test_one_process_fit_equals_the_plain_estimator(name, rng):
    plain, accelerated = _pair(name)
    assert accelerated.get_params() == {**plain.get_params(), "accelerator": None}
    assert clone(accelerated).get_params() == accelerated.get_params()
    tasks, meta = multitask_data(plain, rng)
    plain.fit(tasks, metadata=meta)
    accelerated.fit(tasks, metadata=meta)
    assert accelerated.net_.accelerator.num_processes == 1
    for a, b in zip(
        plain.predict([X for X, _ in tasks]), accelerated.predict([X for X, _ in tasks])
    ):
        np.testing.assert_array_equal(a, b)
    assert [h["train_loss"] for h in plain.history_] == [
        h["train_loss"] for h in accelerated.history_
    ]


def test_sharded_batches_are_disjoint_equal_and_cover_the_sequence():
    sequence = [f"b{i}" for i in range(11)]
    shards = [list(ShardedBatches(sequence, r, 3)) for r in range(3)]
    assert (
        [len(s) for s in shards]
        == [3, 3, 3]
        == [len(ShardedBatches(sequence, r, 3)) for r in range(3)]
    )
    assert shards[1] == ["b1", "b4", "b7"]
    assert sorted(sum(shards, [])) == sorted(sequence[:9])  # b9, b10: the remainder


def _hard_sharing(**params):
    return AcceleratedHardSharingClassifier(
        hidden_layer_sizes=(8,), latent_dim=3, max_epochs=4, random_state=0, **params
    )


def test_save_params_load_params_and_no_pickle(rng, tmp_path):
    tasks, _ = multitask_data(_hard_sharing(), rng)
    Xs = [X for X, _ in tasks]
    clf = _hard_sharing().fit(tasks)
    clf.save_params(f_params=tmp_path / "w.pt", f_history=tmp_path / "h.json")
    plain = clf.get_params()
    del plain["accelerator"]
    from skmtl.hard_sharing import HardSharingClassifier

    restored = HardSharingClassifier(**plain).initialize(tasks)
    restored.load_params(f_params=tmp_path / "w.pt", f_history=tmp_path / "h.json")
    again = _hard_sharing().initialize(tasks).load_params(f_params=tmp_path / "w.pt")
    for a, b, c in zip(clf.predict_proba(Xs), restored.predict_proba(Xs), again.predict_proba(Xs)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert len(restored.history_) == 4
    with pytest.raises(TypeError, match="cannot be pickled.*save_params"):
        pickle.dumps(clf)
    assert pickle.loads(pickle.dumps(_hard_sharing())).get_params()["max_epochs"] == 4


def test_warm_start_continues_training(rng):
    tasks, _ = multitask_data(_hard_sharing(), rng)
    clf = _hard_sharing(warm_start=True, early_stopping=False).fit(tasks)
    weights = [p.detach().clone() for p in clf.module_.parameters()]
    clf.fit(tasks)
    assert len(clf.history_) == 8
    assert any(not torch.equal(a, b) for a, b in zip(weights, clf.module_.parameters()))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without a GPU")
def test_cuda_without_a_gpu_fails_clearly(rng):
    tasks, _ = multitask_data(_hard_sharing(), rng)
    with pytest.raises(ValueError, match="CUDA is not available"):
        _hard_sharing(device="cuda").fit(tasks)


def test_several_processes_need_an_int_seed_and_unused_parameter_search(monkeypatch):
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    monkeypatch.setattr(Accelerator, "num_processes", property(lambda self: 2))
    with pytest.raises(ValueError, match="random_state must be an int"):
        _hard_sharing().set_params(random_state=None)._fit_accelerator()
    strict = Accelerator(cpu=True, kwargs_handlers=[DistributedDataParallelKwargs()])
    with pytest.raises(ValueError, match="find_unused_parameters=True"):
        _hard_sharing(accelerator=strict)._fit_accelerator()
    assert _hard_sharing()._fit_accelerator().ddp_handler.find_unused_parameters
    with pytest.raises(TypeError, match="accelerator must be"):
        _hard_sharing(accelerator="cpu")._fit_accelerator()


def _launch(out, n_processes, data_home, *extra):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "SKMTL_DATA_HOME": str(data_home),
        "OMP_NUM_THREADS": "1",
    }
    script = [str(REPO / "tests" / "distributed_fit.py"), str(out), *extra]
    if n_processes > 1:
        launcher = ["-m", "torch.distributed.run", "--standalone"]
        script = [*launcher, "--nproc_per_node", str(n_processes), *script]
    out.mkdir()
    return subprocess.Popen(
        [sys.executable, *script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _records(out, n):
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(n)]


def _wait(runs):
    for n, proc in runs.items():
        log = proc.communicate(timeout=600)[0].decode()
        assert proc.returncode == 0, f"{n}-process run failed:\n{log[-3000:]}"


@pytest.mark.slow
def test_every_estimator_trains_on_two_processes(tmp_path, data_home):
    _wait({2: _launch(tmp_path / "p2", 2, data_home, "--every-estimator")})
    r0, r1 = _records(tmp_path / "p2", 2)
    assert set(ACCELERATED) < set(r0) and r0 == r1  # 8 models: SVE shared and vanilla


def test_two_cpu_processes_fit_sve_on_pmlb(tmp_path, data_home):
    _wait({n: _launch(tmp_path / f"p{n}", n, data_home) for n in (1, 2)})
    (one,), (r0, r1) = _records(tmp_path / "p1", 1), _records(tmp_path / "p2", 2)
    assert one["num_processes"] == 1 and r0["num_processes"] == r1["num_processes"] == 2
    # every process trained on different batches: each the every-other batch of the
    # one-process run's (same-seeded) sequence, the same number of steps each
    first = [[tuple(b) for b in r["batches"][0]] for r in (one, r0, r1)]
    assert len(first[1]) == len(first[2]) == len(first[0]) // 2
    assert first[1] == first[0][0 : 2 * len(first[1]) : 2]
    assert first[2] == first[0][1 : 2 * len(first[2]) : 2]
    assert not set(first[1]) & set(first[2])
    # validation is not sharded: both processes select and stop identically
    for key in ("valid_loss", "train_loss", "task_best_epoch", "n_iter", "test_pred"):
        assert r0[key] == r1[key], key
    # as accurate as one process: mean test accuracy within 0.03
    mean1, mean2 = np.mean(one["test_scores"]), np.mean(r0["test_scores"])
    assert mean1 > 0.75 and mean2 > mean1 - 0.03, (mean1, mean2)
    # save_params on the main process, load_params on every process: same predictions
    assert r0["loaded_pred"] == r1["loaded_pred"]
    from distributed_fit import PARAMS, load_split

    from skmtl import SharedVariableEmbeddingClassifier

    train, test = load_split()
    plain = SharedVariableEmbeddingClassifier(**PARAMS).initialize(train)
    plain.load_params(f_params=tmp_path / "p2" / "params.pt")
    assert [np.asarray(p).tolist() for p in plain.predict(test)] == r0["loaded_pred"]
    assert r0["loaded_pred"] != one["loaded_pred"]  # a different model from the 1-process fit


def test_scaling_benchmark_worker_fits_and_writes_its_result(data_home, tmp_path, monkeypatch):
    """``benchmarks/scaling.py``'s one-process fit runs on the current API and reports rows/s."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    import scaling

    scaling.main(["--worker", str(tmp_path), "--subset", "3", "--epochs", "1"])
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["processes"] == 1 and result["datasets"] == 3
    assert result["rows_trained"] > 0 and result["steps_per_process"] > 0
    # fit_s is rounded to 0.01 s: the seconds implied by rows / (rows/s) agree to that
    assert result["rows_trained"] / result["rows_per_s"] == pytest.approx(result["fit_s"], abs=6e-3)
    assert 0.0 <= result["test_accuracy_mean"] <= 1.0
