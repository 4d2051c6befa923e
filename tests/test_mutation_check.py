"""The mutation list of tools/mutation_check.py still applies to the code.

Running the mutations is slow and not part of the default suite (see the script's docstring:
``python tools/mutation_check.py``); this only checks that every listed change still finds
its original line exactly once and names test paths that exist, so the list cannot rot.
"""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location(
        "mutation_check", ROOT / "tools/mutation_check.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_check"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_mutation_applies_and_names_existing_tests():
    mc = _load()
    assert mc.check_applies() == []
    names = [m.name for m in mc.MUTATIONS]
    assert len(names) == len(set(names)) and len(names) >= 10
    for m in mc.MUTATIONS:
        assert all((ROOT / t).exists() for t in m.tests), m.name
    # the four changes of issue 21 are listed
    assert {
        "factor_vae-no-global-std",
        "dci-entropy-in-nats",
        "sap-abs-corr-not-r2",
        "hypernet-new-task-first-embedding",
    } <= set(names)


def test_check_applies_reports_a_stale_mutation(tmp_path):
    mc = _load()
    (tmp_path / "a.py").write_text("x = 1\nx = 1\n")
    stale = [
        mc.Mutation("twice", "a.py", "x = 1", "x = 2", ()),
        mc.Mutation("absent", "a.py", "y = 1", "y = 2", ()),
    ]
    problems = mc.check_applies(stale, root=tmp_path)
    assert len(problems) == 2 and "2 times" in problems[0] and "0 times" in problems[1]
