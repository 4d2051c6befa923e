"""skmtl: scikit-learn-compatible multi-task learning for tabular data.

Estimators take a list of heterogeneous ``(X, y)`` tasks (plus optional task metadata)
and fit one model across them; they work with ``clone``, pipelines, cross-validation,
grid search and pickling.
"""

from skmtl.baselines import PerTaskClassifier, PerTaskRegressor, SingleNetworkRegressor
from skmtl.hard_sharing import HardSharingClassifier, HardSharingRegressor
from skmtl.hib import HierarchicalIBClassifier, HierarchicalIBRegressor
from skmtl.hypernet import MultiTaskHypernetRegressor
from skmtl.model_selection import TaskStratifiedKFold, task_train_test_split
from skmtl.preprocessing import PerTaskTransformer, TaskStandardScaler
from skmtl.sve import SharedVariableEmbeddingClassifier
from skmtl.tasks import Tasks

__version__ = "0.1.0"

__all__ = [
    "Tasks",
    "SharedVariableEmbeddingClassifier",
    "HierarchicalIBClassifier",
    "HierarchicalIBRegressor",
    "MultiTaskHypernetRegressor",
    "HardSharingClassifier",
    "HardSharingRegressor",
    "PerTaskClassifier",
    "PerTaskRegressor",
    "SingleNetworkRegressor",
    "PerTaskTransformer",
    "TaskStandardScaler",
    "TaskStratifiedKFold",
    "task_train_test_split",
]
