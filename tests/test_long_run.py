"""Long-run memory test (marked slow; run with ``pytest -m slow``)."""

import pytest


@pytest.mark.slow
def test_all_pmlb_tasks_stay_within_memory_bound(data_home):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from memory_pmlb import run

    summary = run(rows_per_task=100, epochs=3, out=lambda *_: None)
    assert summary["protocol"]["datasets"] >= 150
    assert summary["within_bounds"], summary
