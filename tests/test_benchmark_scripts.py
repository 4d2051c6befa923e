"""Command-line plumbing of the benchmark scripts (one tiny fit for the LR schedule)."""

import sys
from pathlib import Path

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
