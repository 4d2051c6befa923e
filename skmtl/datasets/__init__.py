"""Real-data loaders and synthetic task generators."""

from skmtl.datasets._home import get_data_home
from skmtl.datasets.factors import load_dsprites, make_factor_tasks, make_mixed_factors, make_sprites
from skmtl.datasets.openml import load_openml_tasks
from skmtl.datasets.pmlb import load_pmlb_tasks

__all__ = [
    "get_data_home",
    "load_pmlb_tasks",
    "load_openml_tasks",
    "make_factor_tasks",
    "make_sprites",
    "load_dsprites",
    "make_mixed_factors",
]
