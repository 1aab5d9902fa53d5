"""How numbers are written for people: durations and ranges over seeds, the same in every table."""

import math

import pandas as pd

from memcap.formatting import duration, span


def test_a_range_over_seeds_reads_the_same_from_a_list_and_from_a_pandas_column():
    assert span([710, 700, 705]) == "700–710"
    assert span(pd.Series([700.0, float("nan"), 710.0]), "{:.0f}") == "700–710"  # a seed without the number
    assert span([0.51, 0.512], "{:.2f}") == "0.51"  # both ends read the same: one value
    assert span([3, None]) == "3"


def test_a_range_of_nothing_says_so():
    assert span([]) == "–"
    assert span(pd.Series([math.nan])) == "–"
    assert span([], empty="") == ""


def test_a_duration_is_written_in_the_unit_a_person_reads_at_a_glance():
    assert (duration(None), duration(45), duration(720), duration(12240)) == ("", "45 s", "12 min", "3.4 h")
