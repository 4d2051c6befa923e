"""Real-data loaders and synthetic task generators."""

from skmtl.datasets._home import get_data_home
from skmtl.datasets.factors import (
    load_dsprites,
    make_factor_tasks,
    make_mixed_factors,
    make_sprites,
)
from skmtl.datasets.hypernet import load_hypernet_tasks
from skmtl.datasets.mnist import load_mnist, make_grouped_mnist_tasks, make_multimnist
from skmtl.datasets.openml import load_openml_tasks
from skmtl.datasets.pmlb import load_pmlb_tasks
from skmtl.datasets.synthetic import make_cubic_tasks, make_robot_arm_tasks

__all__ = [
    "get_data_home",
    "load_pmlb_tasks",
    "load_openml_tasks",
    "load_hypernet_tasks",
    "load_mnist",
    "make_grouped_mnist_tasks",
    "make_multimnist",
    "make_cubic_tasks",
    "make_robot_arm_tasks",
    "make_factor_tasks",
    "make_sprites",
    "load_dsprites",
    "make_mixed_factors",
]
