"""Interpretation tools for fitted skmtl estimators (task similarity, clustering, plots)."""
