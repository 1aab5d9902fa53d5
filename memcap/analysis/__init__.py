"""The two analyses the report wished it had made (its Discussion).

overlap (how much the patterns of a dataset share active bits) against the
number memorized, and variance (how much of the run-to-run spread comes from
the data and how much from the initialization); studies trains the members for
both through the engine, figures draws them.
"""

from memcap.analysis.overlap import correlations, dataset_overlap, pattern_overlap
from memcap.analysis.variance import variance_components, variance_summary

__all__ = ["correlations", "dataset_overlap", "pattern_overlap", "variance_components", "variance_summary"]
