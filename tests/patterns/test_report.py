"""What a pattern job reports: the bits a recalled pattern is worth under the criterion's tolerance."""

import math

import pytest

from memcap.patterns.report import capacity_metrics, recount_bits
from memcap.theory import bits_per_pattern, log2_binom


def test_capacity_metrics_count_fewer_bits_under_bits_to_ignore():
    exact = capacity_metrics(100, 0.1, 10100, 360, 360, [360, 340, 340], bti=0)
    tolerant = capacity_metrics(100, 0.1, 10100, 360, 360, [360, 340, 340], bti=1)
    assert exact["bits_per_param"] == 360 * log2_binom(100, 10) / 10100
    # A = (1 + 10) * (1 + 90) outputs are accepted for each target at bti = 1.
    assert tolerant["bits_per_param"] == pytest.approx(360 * (log2_binom(100, 10) - math.log2(11 * 91)) / 10100)
    assert tolerant["bits_per_param"] < exact["bits_per_param"]
    assert capacity_metrics(100, 0.1, 10100, None, None, [], bti=1)["bits_per_param"] is None


def test_recount_bits_counts_a_stored_result_as_a_job_does_now():
    """A bce_ignore file written with log2 C(N, k) per pattern reads with log2 C(N, k) - log2 A, each pruning round
    too; a bce file reads as written."""
    old = 360 * log2_binom(100, 10) / 10100
    rounds = [{"round": 0, "memorized_max": 360, "params": 10100, "bits_per_param": old},
              {"round": 1, "memorized_max": 0, "params": 5100, "bits_per_param": 0.0}]
    stored = {"memorized_max": 360, "params": 10100, "bits_per_param": old, "rounds": rounds}
    ignore = recount_bits({"loss": "bce_ignore", "N": 100, "s": 0.1}, stored)
    assert ignore["bits_per_param"] == 360 * bits_per_pattern(100, 10, 1) / 10100 < old
    assert [r["bits_per_param"] for r in ignore["rounds"]] == [ignore["bits_per_param"], 0.0]
    assert stored["bits_per_param"] == old and rounds[0]["bits_per_param"] == old  # the stored dicts are left alone
    assert recount_bits({"loss": "bce", "N": 100, "s": 0.1}, stored)["bits_per_param"] == old
    nothing = {"memorized_max": None, "params": 10100, "bits_per_param": None}
    assert recount_bits({"loss": "bce_ignore", "N": 100, "s": 0.1}, nothing)["bits_per_param"] is None


def test_the_most_stored_is_the_best_count_at_any_ds_tried_and_old_files_read_the_same(tmp_path):
    """The report's maximum is the count at the capacity DS; a run at a larger DS may store more."""
    from memcap.aggregate import load_dirs
    from memcap.patterns.report import most_stored
    from tests.helpers import make_result, write_job

    points = [{"DS": 300, "run": 0, "memorized": 300}, {"DS": 400, "run": 0, "memorized": 350},
              {"DS": 500, "run": 1, "memorized": 350}, {"DS": 350, "run": 0, "memorized": None}]
    assert most_stored(points) == {"max_stored": 350, "max_stored_ds": 400}  # ties: the smaller DS
    assert most_stored([]) == {"max_stored": None, "max_stored_ds": None}
    old = make_result("simple", "bce", 1, 100, 320, 320, [320] * 5)
    old["points"].append({"DS": 420, "run": 2, "memorized": 371, "loss": 0.3, "steps": 900, "seconds": 1.0,
                          "stop": "plateau"})
    write_job(tmp_path / "old", old)
    df, _ = load_dirs([tmp_path])
    assert (df["max_stored"].iloc[0], df["max_stored_ds"].iloc[0], df["memorized_max"].iloc[0]) == (371, 420, 320)
