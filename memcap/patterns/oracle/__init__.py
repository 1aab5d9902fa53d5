"""The most patterns the one-layer network can recall, bracketed by LP and MILP.

z = sigmoid(X Wᵀ + b) recalls a pattern when every pre-activation a = x·w_j + b_j
has the target's sign (a >= 0 reads as 1). The output neurons share no
parameters, so each one is a perceptron on its own column of Y, and "can some
W, b store all patterns" splits into one LP per neuron: is that column
linearly separable? Which patterns to give up when not all fit is NP-hard, so
the optimum is reported as an interval (``oracle_interval``):

- ``lower``: what a heuristic achieves (``lp_memorized``: hinge LPs, the worst
  pattern dropped greedily), recalled by its float32 weights. Not always the
  optimum.
- ``upper``: proven. Every set of bits no hyperplane realizes (a Farkas
  certificate, checked in exact arithmetic) holds a wrong bit of any W, b, so
  a covering MILP over the sets found bounds the patterns lost from below.
  Where the MILP's cover is realized by weights, lower = upper: the optimum.

The oracle thus tells apart "the architecture cannot store this" from
"training did not find it", and says how far training is from the best.

Modules: ``separability`` (``perfect_recall``: each neuron's labels separable
or not, decided exactly, cheapest proof first), ``lp`` (the per-neuron hinge
LPs, the greedy heuristic ``lp_memorized``), ``certificates`` (circuits found
by LP, verified in exact arithmetic), ``cover`` (the covering MILP), ``interval`` (``oracle_interval``,
the loop that joins them), ``tolerance`` (``tolerant_witness``: weights that store a dataset under the
bits-to-ignore tolerance, errors placed within each pattern's budget) and ``metrics`` (``oracle_metrics``: what a job
calls, its datasets in worker processes). ``last_step`` applies the same per-neuron LPs to the
recurrent network at 2 time steps, whose last step is linear in R once W and b are held.
"""

from __future__ import annotations

from memcap.patterns.oracle.interval import OracleInterval, oracle_interval
from memcap.patterns.oracle.lp import LPResult, lp_memorized
from memcap.patterns.oracle.metrics import TrainedOptimum, oracle_metrics
from memcap.patterns.oracle.separability import PerfectRecall, perfect_recall, recalled_by, separable
from memcap.patterns.oracle.tolerance import tolerant_witness
from memcap.patterns.sizes import MAX_ORACLE_BYTES, check_oracle_size

__all__ = [
    "MAX_ORACLE_BYTES",
    "LPResult",
    "OracleInterval",
    "PerfectRecall",
    "TrainedOptimum",
    "check_oracle_size",
    "lp_memorized",
    "oracle_interval",
    "oracle_metrics",
    "perfect_recall",
    "recalled_by",
    "separable",
    "tolerant_witness",
]
