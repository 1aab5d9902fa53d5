"""The notebook API (memcap.api), as the README shows it: compose, run, load, figure, table."""

from __future__ import annotations

import memcap


def test_a_notebook_runs_a_job_and_draws_it(tmp_path):
    for N in (20, 24):
        cfg = memcap.compose(f"N={N}", "DS=30", "runs=2", "logger=none", "trainer.max_steps=100")
        result = memcap.run(cfg, tmp_path / f"n{N}")
        assert result["status"] == "ok" and result["config"]["N"] == N
    again = memcap.run(cfg, tmp_path / "n24")  # the same job: read back, not trained again
    assert again["wall_time"] == result["wall_time"]

    df = memcap.load(tmp_path)
    assert sorted(df["N"]) == [20, 24] and df.attrs["skipped"] == []
    figure = memcap.figure("figure1_memorized", df, style="single")
    assert figure.get_size_inches()[0] < 4  # a single-column figure
    assert "simple" in memcap.table(df)


def test_unknown_figures_say_which_exist(tmp_path):
    try:
        memcap.figure("figure9", memcap.load(tmp_path))
    except KeyError as error:
        assert "figure1_memorized" in str(error)
    else:
        raise AssertionError("an unknown figure name was accepted")
