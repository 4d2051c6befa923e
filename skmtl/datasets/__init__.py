"""Real-data loaders and synthetic task generators."""

from skmtl.datasets._home import get_data_home
from skmtl.datasets.openml import load_openml_tasks
from skmtl.datasets.pmlb import load_pmlb_tasks

__all__ = ["get_data_home", "load_pmlb_tasks", "load_openml_tasks"]
