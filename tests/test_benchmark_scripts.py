"""Command-line plumbing of the benchmark scripts (one tiny fit for the LR schedule)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def test_sve_pmlb_preset_overrides_reach_the_model_parameters():
    import sve_pmlb

    assert sve_pmlb.preset_overrides(sve_pmlb._parse([])) == {}
    args = sve_pmlb._parse(["--dropout", "0.3", "--lr", "1e-3"])
    assert sve_pmlb.preset_overrides(args) == {"dropout": 0.3, "lr": 1e-3}


def test_sve_pmlb_step_budget_counts_epochs_of_the_chosen_length():
    import sve_pmlb

    n_train = [100, 1000]  # one-task epoch of batch 128: ceil(90/128) + ceil(900/128) = 9
    args = sve_pmlb._parse(["--steps", "90"])
    assert sve_pmlb.epoch_budget(args, n_train, 128) == (10, 9)
    args = sve_pmlb._parse(["--steps", "14904", "--steps-per-epoch", "81"])
    assert sve_pmlb.epoch_budget(args, n_train, 128) == (184, 81)
    assert sve_pmlb.epoch_budget(sve_pmlb._parse(["--max-epochs", "7"]), n_train, 128) == (7, 9)


def test_sve_pmlb_other_batching_keeps_rows_per_epoch_and_total_steps():
    import sve_pmlb

    args = sve_pmlb._parse(
        ["--batching", "mixed", "--mixed-batch-size", "1024", "--steps-per-epoch", "81"]
    )
    mixed = sve_pmlb.epoch_shape(args, 184, 1024)
    assert mixed == {"steps_per_epoch": 81, "max_epochs": 184, "n_iter_no_change": 10}
    task = sve_pmlb.epoch_shape(args, 184, 128)  # the one-task model of --throughput
    assert task["steps_per_epoch"] == 648  # 81 steps of 1,024 rows = 648 of 128
    assert task["max_epochs"] * 648 >= 184 * 81 > (task["max_epochs"] - 1) * 648
    plain = sve_pmlb.epoch_shape(sve_pmlb._parse([]), 5, 128)
    assert plain == {"steps_per_epoch": None, "max_epochs": 5, "n_iter_no_change": 10}


def test_sve_pmlb_cosine_schedule_decays_the_learning_rate_over_the_epoch_budget():
    import numpy as np
    import sve_pmlb

    from skmtl.sve import SharedVariableEmbeddingClassifier

    assert sve_pmlb._parse([]).lr_schedule == "constant"
    rng = np.random.default_rng(0)
    tasks = [(rng.normal(size=(40, 3)), np.arange(40) % 2) for _ in range(2)]
    clf = SharedVariableEmbeddingClassifier.from_preset(
        "small",
        max_epochs=8,
        early_stopping=False,
        callbacks=[("lr_schedule", sve_pmlb.cosine_schedule(2e-3, 8))],
        random_state=0,
    ).fit(tasks)
    lrs = [h["event_lr"] for h in clf.history_]
    assert len(lrs) == 8 and lrs[0] == 2e-3
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
    assert lrs[-1] < 2e-4  # the last epoch runs near lr / 100


def test_hypernet_selection_grid_metric_and_split():
    import hypernet
    import numpy as np

    args = hypernet.parse(["--lrs", "1e-3", "1e-4", "--depths", "0", "2"])
    assert len(hypernet.candidates("hypernet_meta", args)) == 4
    assert hypernet.candidates("sluice", args) == [{"lr": 1e-3}, {"lr": 1e-4}]
    rows = [
        {"dataset": "cubic", "method": "stl", "lr": lr, "valid_loss": v}
        for lr, v in ((1e-3, 0.5), (1e-3, 0.7), (1e-4, 0.55), (1e-4, 0.6))
    ]
    assert hypernet.select(rows, args)[("cubic", "stl")] == {"lr": 1e-4}  # mean 0.575 < 0.6
    # pooled over rows and target columns, not a mean of per-task MSEs
    tasks = [(None, np.zeros(1)), (None, np.zeros(3))]
    assert hypernet.pooled_mse([np.ones(1), np.zeros(3)], tasks) == 0.25
    # a task without test rows (a Chlorophyll lake with at most 10 rows) adds nothing
    empty = (None, np.zeros((0, 1)))
    assert hypernet.pooled_mse([np.ones(1), np.zeros((0, 1))], [tasks[0], empty]) == 1.0


def test_hypernet_reuse_matches_rows_to_jobs(tmp_path):
    import json

    import hypernet

    rows = [
        {"dataset": "cubic", "seed": 0, "method": "hypernet", "stage": "evaluation", "lr": 1e-3,
         "hyper_layers": 1, "mse": 0.1},
        {"dataset": "cubic", "seed": 0, "method": "hide_a", "stage": "table4", "lr": 1e-3,
         "hyper_layers": 0, "hidden": "a", "mse": 0.2},
        {"summary": {}},
    ]  # fmt: skip
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = hypernet.reusable_rows(path)
    job = ("cubic", 0, "hypernet", {"lr": 1e-3, "hyper_layers": 1}, "evaluation")
    hidden = ("cubic", 0, "hide_a", {"lr": 1e-3, "hyper_layers": 0, "hide": "a"}, "table4")
    assert done[hypernet.job_key(job)]["mse"] == 0.1
    assert done[hypernet.job_key(hidden)]["mse"] == 0.2
    other = ("cubic", 1, "hypernet", {"lr": 1e-3, "hyper_layers": 1}, "evaluation")
    assert hypernet.job_key(other) not in done and len(done) == 2
    # the protocol: Chlorophyll with 10 train+validation rows per lake (Table 1's N = 796)
    assert hypernet.PROTOCOL["chlorophyll"] == (None, 10, 0)


def test_disentangle_paired_comparison_by_hand():
    import disentangle

    rows = [
        {m: {"rmse": r, **dict.fromkeys(disentangle.METRICS, v)} for m, (r, v) in pair.items()}
        for pair in (
            {"multi-head": (0.7, 0.5), "one-head": (0.8, 0.4)},  # diff +0.1
            {"multi-head": (0.7, 0.5), "one-head": (0.8, 0.2)},  # diff +0.3
            {"multi-head": (0.9, 0.5), "one-head": (0.8, 0.3)},  # diff +0.2; rmse worse
        )
    ]
    result = disentangle.paired(rows)
    mig = result["mig"]
    assert mig["n"] == 3 and mig["a_better"] == 3
    assert mig["mean_diff"] == pytest.approx(0.2)
    assert mig["se"] == pytest.approx(0.1 / np.sqrt(3))  # std(ddof=1) of (.1, .3, .2) = .1
    assert mig["sign_p"] == pytest.approx(0.25)  # 3 of 3: 2 * 0.5^3
    assert result["rmse"]["a_better"] == 2  # lower is better for RMSE
    assert disentangle.task_factor_subsets("disjoint", 4, 5, 0) == [[0, 1, 2], [3, 4]] * 2
    subsets = disentangle.task_factor_subsets("random", 6, 5, 0)
    assert len(subsets) == 6 and all(0 < len(s) <= 5 for s in subsets)


@pytest.mark.slow  # about 30 s of CPU: three tiny runs, disentanglement_lib's DCI on each code
def test_disentangle_scripts_smoke(tmp_path, capsys, one_torch_thread):
    import disentangle
    import disentangle_representations as reps

    tiny = ["--dataset", "tabular", "--n-train", "60", "--n-test", "40", "--n-tasks", "2"]
    tiny += ["--epochs", "1", "--fv-votes", "20"]
    out = tmp_path / "heads.jsonl"
    disentangle.main(
        [*tiny, "--seeds", "2", "--models", "one-head", "multi-head", "--json", str(out)]
    )
    disentangle.main(
        [*tiny, "--seeds", "1", "--models", "multi-head", "--task-factors", "disjoint"]
    )
    disentangle.report([str(out)], None)
    assert "multi-head - one-head, paired over seeds" in capsys.readouterr().out
    out = tmp_path / "reps.jsonl"
    reps.main(
        [*tiny, "--seeds", "1", "--ae-epochs", "1", "--discriminator", "8", "2", "--json", str(out)]
        + ["--representations", "ae", "factor_vae", "ground-truth"]
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["representation"] for r in rows[:-1]] == ["ae", "factor_vae", "ground-truth"]
    assert rows[-1]["kind"] == "summary"
    # the ground-truth "codes" are the factor values: the metrics see them as disentangled
    assert rows[2]["mig"] > 0.5 and rows[2]["dci_disentanglement_dlib"] > 0.5
    reps.report([str(out)])
    assert "| ground-truth |" in capsys.readouterr().out


def test_sve_new_tasks_smoke_run_reports_every_model_and_the_time_ratio(capsys):
    import sve_new_tasks

    base, held = sve_new_tasks.held_out_indices([5, 1, 4, 2, 3, 9], list("abcdef"), 2, 4, 0)
    assert sorted(base + held) == list(range(6)) and len(held) == 2
    summary = sve_new_tasks.main(["--smoke"])
    models = summary["models"]
    assert {"add_tasks", "sve_alone", "lr", "base_fit"} <= set(models)
    assert 0 < models["add_tasks"]["time_ratio_vs_base_fit"]
    assert set(models["add_tasks"]["wins_losses"]) == {"sve_alone", "lr"}
    assert '"kind": "dataset"' in capsys.readouterr().out


def test_sve_pmlb_report_merges_runs_of_other_models_and_seeds():
    import sve_pmlb

    def dataset(seed, name, n_train, acc):
        return {
            "kind": "dataset",
            "split_seed": seed,
            "dataset": name,
            "n_train": n_train,
            "n_features": 3,
            "n_classes": 2,
            "test_acc": acc,
        }

    def model(seed, name, wall):
        return {"kind": "model", "split_seed": seed, "model": name, "wall_s": wall}

    baselines = [dataset(s, d, n, {"lr": 0.5}) for s in (0, 1) for d, n in (("a", 50), ("b", 500))]
    baselines += [model(0, "lr", 1.0), model(1, "lr", 3.0)]
    fits = [dataset(0, "a", 50, {"refine": 1.0}), dataset(0, "b", 500, {"refine": 0.0})]
    fits += [dataset(1, "a", 50, {"refine": 1.0}), dataset(1, "b", 500, {"refine": 1.0})]
    fits += [model(0, "refine", 10.0), model(1, "refine", 20.0)]
    rows = sve_pmlb.merge_runs([baselines, fits])
    summary = rows[-1]["models"]
    assert summary["refine"]["per_seed"] == [0.5, 1.0]
    assert summary["refine"]["mean_test_acc"] == 0.75
    assert summary["refine"]["se"] == 0.25  # std of (0.5, 1.0) over sqrt(2)
    assert summary["refine"]["wins"] == {"lr": 1.5} and summary["refine"]["losses"] == {"lr": 0.5}
    assert summary["lr"]["wall_s"] == 2.0
    assert summary["refine"]["bins"]["0-100"] == {"datasets": 1, "acc": 1.0}
    text = sve_pmlb.report([json.dumps(r) for r in baselines], [[json.dumps(r) for r in fits]])
    assert "| refine | 0.7500 | 0.2500 |" in text
    # a model measured on fewer seeds leaves only the seeds every model has
    partial = [r for r in fits if r["split_seed"] == 0]
    assert sve_pmlb.merge_runs([baselines, partial])[-1]["models"]["lr"]["per_seed"] == [0.5]


def test_disentangle_analysis_traversal_by_hand():
    import disentangle_analysis as da

    assert da.TRAVERSAL.tolist() == [round(-1 + 0.1 * i, 1) for i in range(21)]  # the study's
    # a linear "decoder": output column 0 = 3 * z0, column 1 = z1; z2 is ignored
    decode = lambda z: np.column_stack([3 * z[:, 0], z[:, 1]])  # noqa: E731
    code = np.array([0.5, -0.2, 7.0])
    dec = da.traversals(decode, code)
    assert dec.shape == (3, 21, 2)
    assert np.allclose(dec[0, :, 0], 3 * da.TRAVERSAL) and np.allclose(dec[0, :, 1], -0.2)
    s = da.traversal_summary(dec, data_variance=2.0)
    v = da.TRAVERSAL.var()  # population variance of -1..1 step 0.1 = 0.367
    assert np.allclose(s["spread"], [9 * v / 2, v / 2, 0.0])  # mean over the 2 columns
    assert np.allclose(s["share"], [0.9, 0.1, 0.0])
    assert s["max_share"] == pytest.approx(0.9)
    assert s["effective_components"] == pytest.approx(1 / (0.81 + 0.01))
    assert s["total_spread_rel"] == pytest.approx(5 * v / 2.0)
    # second scale: centre + t * scale
    dec = da.traversals(decode, code, center=np.array([1.0, 0, 0]), scale=np.array([2.0, 1, 1]))
    assert np.allclose(dec[0, :, 0], 3 * (1 + 2 * da.TRAVERSAL))


def test_disentangle_analysis_smoke(tmp_path, capsys, one_torch_thread):
    import disentangle_analysis as da

    out = tmp_path / "analysis.jsonl"
    tiny = ["--n-train", "40", "--n-test", "30", "--n-tasks", "2", "--epochs", "1"]
    tiny += ["--decoder-epochs", "1", "--latent-dim", "3", "--conv-channels", "4", "4"]
    da.main([*tiny, "--dataset", "sprites", "--no-umap", "--json", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r.get("encoder") for r in rows] == [*da.ENCODERS, None]
    for r in rows[:-1]:
        assert 0 <= r["n_retrieved"] <= 5 and len(r["matched_factor"]) == 3
        assert r["recon_mse"] > 0 and len(r["trav_raw_share"]) == 3
        assert r["recon_mse_mean_baseline"] > 0 and "umap_knn_acc_mean" not in r
    da.report([str(out)])
    assert "| multi-task |" in capsys.readouterr().out


@pytest.mark.slow  # UMAP compiles its numba code on the first call of a process (~25 s)
def test_disentangle_analysis_umap_part(tmp_path, one_torch_thread):
    pytest.importorskip("umap", reason="umap-learn not installed (pip install 'skmtl[umap]')")
    import disentangle_analysis as da

    out = tmp_path / "analysis.jsonl"
    tiny = ["--n-train", "40", "--n-test", "40", "--n-tasks", "2", "--epochs", "1"]
    tiny += ["--decoder-epochs", "1", "--hidden", "8", "--decoder-hidden", "8"]
    da.main([*tiny, "--dataset", "tabular", "--encoders", "random", "--json", str(out)])
    row = json.loads(out.read_text().splitlines()[0])
    assert len(row["umap_knn_acc"]) == 5 and 0 <= row["umap_trustworthiness"] <= 1


def test_disentangle_analysis_says_what_to_install_without_umap(monkeypatch):
    import disentangle_analysis as da

    monkeypatch.setitem(sys.modules, "umap", None)  # "import umap" raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'skmtl\[umap\]'"):
        da.main(["--dataset", "tabular"])
