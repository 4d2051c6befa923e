"""PMLB loader: unknown names get close matches, a dataset of the other kind is refused."""

import pytest

from skmtl.datasets import load_pmlb_tasks


def test_unknown_name_suggests_close_matches(data_home):
    with pytest.raises(ValueError, match=r"'irsi': did you mean \['iris'"):
        load_pmlb_tasks(["irsi"], data_home=data_home)


def test_kind_mismatch_is_refused(data_home):
    with pytest.raises(
        ValueError, match=r"\['1027_ESL'\] are regression datasets.*kind='regression'"
    ):
        load_pmlb_tasks(["1027_ESL"], kind="classification", data_home=data_home)
    with pytest.raises(ValueError, match=r"\['iris'\] are classification datasets"):
        load_pmlb_tasks(["iris"], kind="regression", data_home=data_home)
    tasks, _ = load_pmlb_tasks(["1027_ESL"], kind="regression", data_home=data_home)
    assert tasks.ys[0].dtype.kind == "f" or len(set(tasks.ys[0])) > 2
