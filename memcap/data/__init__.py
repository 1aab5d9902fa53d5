"""Datasets: random sparse pattern pairs (the report) and text (the proposal)."""

from memcap.data.patterns import active_bits, make_patterns, num_distinct_patterns

__all__ = ["active_bits", "make_patterns", "num_distinct_patterns"]
