"""Command-line plumbing of the benchmark scripts (no fitting)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def test_sve_pmlb_preset_overrides_reach_the_model_parameters():
    import sve_pmlb

    assert sve_pmlb.preset_overrides(sve_pmlb._parse([])) == {}
    args = sve_pmlb._parse(["--dropout", "0.3", "--lr", "1e-3"])
    assert sve_pmlb.preset_overrides(args) == {"dropout": 0.3, "lr": 1e-3}
