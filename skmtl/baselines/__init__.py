"""Baselines in the multi-task API."""

from skmtl.baselines.per_task import PerTaskClassifier, PerTaskRegressor

__all__ = ["PerTaskClassifier", "PerTaskRegressor"]
