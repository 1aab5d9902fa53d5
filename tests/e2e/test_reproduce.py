"""The report's numbers beside the framework's, and the rerun-vs-committed check (make reproduce-quick)."""

import math

import pandas as pd
import pytest

from memcap.aggregate import cli, load_dirs
from memcap.aggregate.compare import compare
from memcap.aggregate.published import PUBLISHED, beside_report, figure_beside_report, to_markdown
from tests.helpers import make_result, write_job


def frame(tmp_path, name, jobs):
    for i, job in enumerate(jobs):
        write_job(tmp_path / name / str(i), make_result(*job))
    df, skipped = load_dirs([tmp_path / name])
    assert not skipped
    return df


def test_published_tables_are_the_reports():
    """Spot checks against the report's Tables 1 and 2 (CITATION.cff's first reference)."""
    assert PUBLISHED[("simple", "bce", 1, 100)] == (283, 243, 23.95)
    assert PUBLISHED[("simple", "bce_ignore", 1, 500)] == (2008, 1904, 141.7)
    assert PUBLISHED[("recurrent", "bce_ignore", 3, 200)] == (1950, 1929.33, 14.7)
    assert len(PUBLISHED) == 10 + 8


def test_beside_report_matches_each_cell_to_its_published_row(tmp_path):
    df = frame(tmp_path, "s", [("simple", "bce", 1, 100, 300, 200, [290, 280, 270]),
                               ("simple", "bce_ignore", 1, 100, 400, 300, [380, 390, 370]),
                               ("recurrent", "bce_ignore", 2, 50, 600, 500, [560, 550]),
                               ("recurrent", "bce", 3, 50, 700, 650, [690, 680])])
    table = beside_report(df).set_index(["network", "N"])
    bce = table.loc[("simple · bce", 100)]
    assert (bce["max"], bce["report_max"], bce["report_mean"]) == (290, 283, 243)
    assert bce["vs_report_max"] == pytest.approx(290 / 283, abs=1e-3)
    assert bce["vs_gardner"] == pytest.approx(290 / (3.913 * 100), abs=2e-3)
    assert table.loc[("simple · bce_ignore", 100)]["report_max"] == 337
    recurrent = table.loc[("recurrent · bce_ignore · 2 steps", 50)]
    assert recurrent["report_max"] == 534
    assert math.isnan(recurrent["gardner_bound"])  # defined for the one-layer network only
    assert math.isnan(recurrent["report_loss"]) and math.isnan(bce["report_loss"])  # the same loss as the report's
    # The report trained its recurrent network with bce_ignore only: a cell trained with bce stands beside that row.
    other = table.loc[("recurrent · bce · 3 steps", 50)]
    assert (other["report_loss"], other["report_max"]) == ("bce_ignore", 589)


def test_beside_report_shows_the_oracles_interval_where_a_result_has_it(tmp_path):
    interval = dict(oracle_memorized=299.0, oracle_ratio=0.9, oracle_lower=299.0, oracle_upper=300.0,
                    oracle_ratio_upper=0.897)
    write_job(tmp_path / "0", make_result("simple", "bce", 1, 100, 300, 200, [290, 270], **interval))
    write_job(tmp_path / "1", make_result("simple", "bce_ignore", 1, 100, 400, 300, [380, 390],
                                          oracle_memorized=395.0, oracle_ratio=0.975))  # from before the interval
    df, _ = load_dirs([tmp_path])
    table = beside_report(df).set_index(["network", "N"])
    bce = table.loc[("simple · bce", 100)]
    assert (bce["oracle_lower"], bce["vs_oracle_lower"], bce["oracle_upper"], bce["vs_oracle_upper"]) == \
        (299.0, 0.9, 300.0, 0.897)
    old = table.loc[("simple · bce_ignore", 100)]
    assert old["oracle_lower"] == 395.0 and math.isnan(old["oracle_upper"]) and math.isnan(old["vs_oracle_upper"])


def test_beside_report_says_which_cells_are_lower_bounds(tmp_path):
    capped = make_result("simple", "bce", 1, 100, 300, 200, [290, 270], converged=False)
    for point in capped["points"]:  # the capacity DS's members ran to the step cap: the answer is a lower bound
        if point["DS"] == 300:
            point["stop"] = "cap"
    write_job(tmp_path / "0", capped)
    write_job(tmp_path / "1", make_result("simple", "bce_ignore", 1, 100, 400, 300, [380, 390], converged=True,
                                          capped=True))
    write_job(tmp_path / "2", make_result("simple", "hinge", 1, 100, 400, 300, [380, 390], converged=True))
    table = beside_report(load_dirs([tmp_path])[0]).set_index("network")["lower_bound"]
    # Its runs at the cap also make its mean a lower bound (‡).
    assert table["simple · bce"] == "† step cap; ‡ mean: runs before their plateau"
    assert table["simple · bce_ignore"] == "≥ search ceiling"
    assert math.isnan(table["simple · hinge"])


def test_compare_accepts_noise_and_rejects_a_real_change(tmp_path):
    committed = frame(tmp_path, "old", [("simple", "bce", 1, 100, 300, 200, [290, 280, 270]),
                                        ("simple", "bce", 1, 50, 200, 150, [180, 185, 190])])
    same = frame(tmp_path, "same", [("simple", "bce", 1, 100, 300, 200, [291, 279, 270]),
                                    ("simple", "bce", 1, 50, 200, 150, [180, 185, 190])])
    assert compare(committed, same)["reproduced"].all()
    worse = frame(tmp_path, "worse", [("simple", "bce", 1, 100, 300, 200, [250, 240, 245]),  # 35 fewer on average
                                      ("simple", "bce", 1, 50, 400, 150, [380, 385, 390])])  # capacity 2 steps off
    assert not compare(committed, worse)["reproduced"].any()
    partial = frame(tmp_path, "partial", [("simple", "bce", 1, 100, 300, 200, [290, 280, 270])])
    reproduced = compare(committed, partial).set_index("N")["reproduced"]
    assert reproduced[100] and not reproduced[50]  # N=50 missing from the rerun: not reproduced


def test_the_figure_draws_ours_the_reports_points_gardner_and_the_lower_bounds(tmp_path):
    unconverged = make_result("simple", "bce", 1, 200, 600, 500, [590, 580, 570], converged=False)
    for point in unconverged["points"]:
        if point["DS"] == 600:
            point["stop"] = "cap"  # the capacity DS's members ran to the step cap: 590 is only a lower bound
    write_job(tmp_path / "s" / "0", make_result("simple", "bce", 1, 100, 300, 200, [290, 280, 270]))
    write_job(tmp_path / "s" / "1", unconverged)
    write_job(tmp_path / "s" / "2", make_result("recurrent", "bce_ignore", 2, 50, 600, 500, [560, 550]))
    fig = figure_beside_report(load_dirs([tmp_path / "s"])[0])
    simple, recurrent = fig.axes  # one panel per network type: their scales differ
    lines = {line.get_label(): line for line in simple.get_lines()}
    assert list(lines["simple · bce"].get_ydata()) == [290, 590]
    assert list(lines["report: simple · bce"].get_ydata()) == [283, 580]  # Table 1's maxima up to N=200
    assert list(lines[r"Gardner $\alpha_c(0.1)\cdot N$"].get_ydata()) == pytest.approx([391.3, 782.6], abs=0.1)
    triangles = [line for line in simple.get_lines() if line.get_marker() == "^"]
    assert [list(line.get_xdata()) for line in triangles] == [[200]]  # the unconverged cell, and only it
    legend = [text.get_text() for text in fig.legends[0].get_texts()]  # one, under both panels
    assert {"simple · bce", "report: simple · bce", "a lower bound: capped (≥) or unconverged (†)"} <= set(legend)
    recurrent_lines = {line.get_label() for line in recurrent.get_lines()}
    assert "report: recurrent · bce_ignore · 2 steps" in recurrent_lines
    assert not any(label.startswith("Gardner") for label in recurrent_lines)  # not a bound on this network


def test_memcap_aggregate_writes_the_table_beside_the_report_when_asked(tmp_path):
    write_job(tmp_path / "s" / "0", make_result("simple", "bce", 1, 100, 300, 200, [290, 280, 270]))
    write_job(tmp_path / "s" / "1", make_result("simple", "bce", 1, 200, 600, 500, [590, 580, 570]))
    assert cli.main([str(tmp_path / "s"), "--out", str(tmp_path / "plain"), "--formats", "md"]) == 0
    assert not list((tmp_path / "plain").glob("beside_report*"))
    assert cli.main([str(tmp_path / "s"), "--out", str(tmp_path / "out"), "--formats", "md,csv",
                     "--beside-report"]) == 0
    assert {p.name for p in (tmp_path / "out").glob("beside_report*")} == \
        {"beside_report.md", "beside_report.csv", "beside_report.png", "beside_report.pdf"}
    table = pd.read_csv(tmp_path / "out" / "beside_report.csv").set_index("N")
    assert list(table["report_max"]) == [283, 580] and list(table["wall_time_s"]) == [2, 2]  # 1.5 s a job, rounded
    markdown = (tmp_path / "out" / "beside_report.md").read_text()
    assert markdown == to_markdown(beside_report(load_dirs([tmp_path / "s"])[0]))
    assert "oracle_upper" not in markdown  # a column empty throughout is left out
