"""Aggregation end to end, on result.json files written by hand (docs/result-schema.md).

The sweep: simple · bce and recurrent · bce_ignore · 2 steps, each at N = 10 and 20,
two runs per job, s = 0.1 (so k = round(N s) = 1 or 2 active bits).
"""

import json
import math
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import matplotlib.text
import pandas as pd
import pytest

from memcap.aggregate import cli, figures, load_dirs, load_wandb, points_frame, report_tables, sources, tables
from memcap.aggregate.tables import to_csv, to_latex, to_markdown
from tests.helpers import ROOT as REPO
from tests.helpers import make_result, write_job

# (model, loss, steps, N, capacity_ds, perfect_ds, memorized_runs at capacity_ds)
SWEEP = [
    ("simple", "bce", 1, 10, 40, 30, [38, 34]),
    ("simple", "bce", 1, 20, 80, 60, [76, 72]),
    ("recurrent", "bce_ignore", 2, 10, 60, 40, [57, 51]),
    ("recurrent", "bce_ignore", 2, 20, 120, 100, [114, 110]),
]


@pytest.fixture
def sweep(tmp_path) -> Path:
    for i, job in enumerate(SWEEP):
        write_job(tmp_path / "sweep" / str(i), make_result(*job))
    return tmp_path / "sweep"


def md_row(markdown: str, network: str, quantity: str) -> list[str]:
    """The cells of one table row; the network is named on its block's first row only."""
    current = None
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 2:
            current = cells[0] or current
            if current == network and cells[1] == quantity:
                return cells[2:]
    raise AssertionError(f"no row {network} / {quantity} in\n{markdown}")


def test_cli_end_to_end(sweep, capsys, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert cli.main([str(sweep), "--log-wandb"]) == 0
    out = sweep / "aggregate"  # the default
    for name in ("tables.md", "tables.csv", "tables.tex"):
        assert (out / name).stat().st_size > 0
    for name in ("figure1_memorized", "figure2_per_n", "figure3_per_param", "capacity_curve"):
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert (out / f"{name}.pdf").read_bytes()[:4] == b"%PDF"

    md = (out / "tables.md").read_text()
    assert "### Table 1: simple networks" in md and "### Table 2: recurrent networks" in md
    assert md.index("Table 1") < md.index("Table 2")
    simple, recurrent = "simple · bce", "recurrent · bce_ignore · 2 steps"
    assert md_row(md, simple, "Maximum number of memorized patterns") == ["38", "76"]
    assert md_row(md, simple, "Accuracy [%]") == ["95.00", "95.00"]
    assert md_row(md, simple, "Mean of memorized patterns") == ["36.00", "74.00"]
    assert md_row(md, simple, "Standard deviation of memorized patterns") == ["2.00", "2.00"]
    assert md_row(md, simple, "DS searched (capacity DS)") == ["40", "80"]
    assert md_row(md, simple, "Perfect-recall DS") == ["30", "60"]
    assert md_row(md, simple, "Trainable parameters") == ["110", "420"]
    # 38 * log2 C(10, 1) / 110 = 38 * 3.3219 / 110; 76 * log2 C(20, 2) / 420 = 76 * 7.5699 / 420
    assert md_row(md, simple, "Bits per parameter") == ["1.148", "1.370"]
    # α_c(0.1) = 3.9129: bounds 39.13 and 78.26; 38 / 39.13 = 76 / 78.26 = 0.971
    assert md_row(md, simple, "Gardner bound α_c(s)·N") == ["39.1", "78.3"]
    assert md_row(md, simple, "Memorized / bound") == ["0.971", "0.971"]
    assert md_row(md, recurrent, "Maximum number of memorized patterns") == ["57", "114"]
    assert md_row(md, recurrent, "Standard deviation of memorized patterns") == ["3.00", "2.00"]
    assert md_row(md, recurrent, "Trainable parameters") == ["200", "800"]
    assert "Gardner" not in md.split("Table 2")[1]  # the bound is for one-layer networks only
    assert "Jobs combined" not in md  # one job per cell

    csv = pd.read_csv(out / "tables.csv").set_index(["Network", "Quantity"])
    assert list(csv.columns) == ["10", "20"]
    assert csv.loc[(simple, "Accuracy [%]")].tolist() == [95.0, 95.0]
    assert csv.loc[(recurrent, "Mean of memorized patterns")].tolist() == [54.0, 112.0]
    assert csv.loc[(simple, "Bits per parameter")].tolist() == pytest.approx([38 * math.log2(10) / 110,
                                                                             76 * math.log2(190) / 420])
    tex = (out / "tables.tex").read_text()
    assert r"simple $\cdot$ bce & Maximum number of memorized patterns & 38 & 76 \\" in tex
    assert r"Accuracy [\%]" in tex

    printed = capsys.readouterr()
    assert "Maximum number of memorized patterns" in printed.out and "4 job(s) aggregated" in printed.out
    assert "offline" in printed.err


class FakeApi:
    """Stands in for wandb.Api(): runs mirroring result files as the schema says."""

    def __init__(self, files):
        self.calls = []
        self._runs = []
        for i, file in enumerate(files):
            result = json.loads(Path(file).read_text())
            metrics = {k: v for k, v in result["metrics"].items() if v is not None}  # as finish_logger does
            summary = {**metrics, "points": result["points"], "status": result["status"],
                       "wall_time": result["wall_time"], "_runtime": 3, "train/loss": 0.5}
            self._runs.append(SimpleNamespace(config={**result["config"], "_wandb": {}}, summary=summary,
                                              name=f"run-{i}", id=f"id{i}", group="g", tags=["t"]))

    def runs(self, path, filters=None):
        self.calls.append((path, filters))
        return iter(self._runs)


def test_wandb_gives_the_same_frame(sweep):
    from_dirs, _ = load_dirs([sweep])
    api = FakeApi(sorted(sweep.rglob("result.json"), reverse=True))  # W&B's order differs
    from_wandb, skipped = load_wandb("me/memcap", filters={"group": "g"}, api=api)
    assert skipped == [] and api.calls == [("me/memcap", {"group": "g"})]
    assert from_wandb.path.str.startswith("wandb:me/memcap/id").all()
    pd.testing.assert_frame_equal(from_dirs.drop(columns="path"), from_wandb.drop(columns="path"))
    assert from_dirs.attrs == from_wandb.attrs


@pytest.mark.parametrize("jobs", [SWEEP[2:], [("simple", "bce_ignore", 1, 10, 40, 30, [38, 34])]],
                         ids=["recurrent only (the recurrent sweep)", "bce_ignore only"])
def test_a_sweep_with_no_cell_under_gardners_bound_aggregates_whole(tmp_path, jobs):
    """No cell gets Gardner's bound (a recurrent network, or the tolerant bce_ignore): every table and figure
    is still written, and none shows the bound."""
    for i, job in enumerate(jobs):
        write_job(tmp_path / "sweep" / str(i), make_result(*job))
    out = tmp_path / "out"
    assert cli.main([str(tmp_path / "sweep"), "--out", str(out), "--formats", "md", "--beside-report"]) == 0
    for name in ("figure1_memorized", "figure2_per_n", "figure3_per_param", "capacity_curve", "beside_report"):
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert "Gardner" not in (out / "tables.md").read_text()
    assert "gardner" not in (out / "beside_report.md").read_text()


def test_cli_reads_wandb_with_filters(sweep, tmp_path, monkeypatch, capsys):
    api = FakeApi(sorted(sweep.rglob("result.json")))
    monkeypatch.setattr(cli, "load", partial(sources.load, api=api))
    monkeypatch.setattr(cli, "wandb_online", lambda: True)
    argv = ["--wandb", "me/memcap", "--group", "g", "--tag", "t", "--where", "N=10", "--where", "loss=bce",
            "--out", str(tmp_path / "out"), "--formats", "md"]
    assert cli.main(argv) == 0
    assert api.calls == [("me/memcap", {"$and": [{"group": "g"}, {"tags": {"$in": ["t"]}},
                                                 {"config.N": 10}, {"config.loss": "bce"}]})]
    assert sorted(p.name for p in (tmp_path / "out").glob("tables.*")) == ["tables.md"]


class FailingApi:
    """wandb.Api() where the key is bad or the service unreachable: it raises as it is made or as it lists."""

    def __init__(self, error: Exception, when: str):
        self.error, self.when = error, when
        if when == "made":
            raise error

    def runs(self, path, filters=None):
        raise self.error


@pytest.mark.parametrize("when,error", [
    ("made", "AuthenticationError"), ("listed", "CommError"), ("listed", "ConnectionError"), ("listed", "ValueError")])
def test_wandb_api_errors_are_one_line_and_exit_2(when, error, monkeypatch, capsys):
    import requests
    import wandb

    errors = {"AuthenticationError": wandb.errors.AuthenticationError("API key must have 40+ characters, has 5.\nmore"),
              "CommError": wandb.errors.CommError("Failed to execute API request"),
              "ConnectionError": requests.ConnectionError("Max retries exceeded with url: /graphql"),
              "ValueError": ValueError("Could not find project me/memcap")}
    monkeypatch.setattr(wandb, "Api", lambda timeout=None: FailingApi(errors[error], when))
    monkeypatch.setattr(cli, "wandb_online", lambda: True)
    assert cli.main(["--wandb", "me/memcap"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"memcap-aggregate: error: W&B me/memcap: cannot list its runs ({error}: ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_wandb_needs_to_be_online(monkeypatch, capsys):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert cli.main(["--wandb", "me/memcap"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_bad_inputs_are_skipped_with_reasons(sweep, tmp_path):
    good = json.dumps(make_result("simple", "bce", 1, 30, 120, 90, [110, 100]))
    failed = make_result("simple", "bce", 1, 40, 160, 120, [150]) | {"status": "failed", "error": "CUDA OOM"}
    running = make_result("simple", "bce", 1, 50, 200, 150, [190]) | {"status": "running"}
    no_metrics = make_result("simple", "bce", 1, 60, 200, 150, [190])
    del no_metrics["metrics"]["memorized_std"]
    bad = tmp_path / "bad"
    write_job(bad / "invalid", "{not json")
    write_job(bad / "truncated", good[: len(good) // 2])
    write_job(bad / "binary", b'{"status": "ok", "error": "\xff\xfe"}')
    write_job(bad / "failed", failed)
    write_job(bad / "running", running)
    write_job(bad / "partial", no_metrics)
    write_job(bad / "ok", json.loads(good))
    (bad / "crashed" / ".hydra").mkdir(parents=True)  # a job that never wrote result.json

    df, skipped = load_dirs([sweep, bad, tmp_path / "nowhere"])
    assert len(df) == len(SWEEP) + 1
    reasons = {Path(where).relative_to(tmp_path).parts[:2]: reason for where, reason in skipped}
    assert reasons[("bad", "invalid")].startswith("corrupt: invalid JSON")
    assert reasons[("bad", "truncated")].startswith("corrupt: invalid JSON")
    assert reasons[("bad", "binary")] == "corrupt: not UTF-8 text"
    assert reasons[("bad", "failed")] == "failed: CUDA OOM"
    assert reasons[("bad", "running")] == "partial: status 'running'"
    assert reasons[("bad", "partial")] == "partial: missing memorized_std"
    assert reasons[("bad", "crashed")] == "missing: job directory without result.json"
    assert reasons[("nowhere",)] == "missing: no such file or directory"
    assert len(skipped) == 8


def test_a_job_found_twice_counts_once(sweep, tmp_path):
    df, skipped = load_dirs([sweep, sweep / "0", sweep / "1" / "result.json"])  # overlapping
    assert len(df) == len(SWEEP) and skipped == []
    shutil.copytree(sweep / "0", tmp_path / "rerun" / "0")  # the same job in a second sweep
    df, skipped = load_dirs([sweep, tmp_path / "rerun"])
    assert len(df) == len(SWEEP)
    assert skipped == [(str(tmp_path / "rerun" / "0" / "result.json"),
                        f"duplicate of {(sweep / '0' / 'result.json').resolve()}")]


def test_no_job_found_is_one_error_line(tmp_path, capsys):
    write_job(tmp_path / "0", "{")
    assert cli.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("memcap-aggregate: error: no finished job found")
    assert err[0].startswith(f"skipped {tmp_path / '0' / 'result.json'}: corrupt")


def test_mixed_sweep_splits_blocks_and_combines_seeds(tmp_path):
    jobs = [
        make_result("simple", "bce", 1, 10, 40, 30, [38, 34], lr=0.01),
        make_result("simple", "bce", 1, 10, 40, 30, [30, 26], lr=0.001),
        make_result("simple", "bce", 1, 10, 40, 30, [36, 36], lr=0.001, seed=1),
        make_result("simple", "bce_ignore", 1, 10, 50, 30, [45, 45]),
        make_result("recurrent", "bce_ignore", 3, 10, 70, 50, [66, 60], lr=0.001),
    ]
    for i, result in enumerate(jobs):
        write_job(tmp_path / str(i), result)
    df, _ = load_dirs([tmp_path])
    tables = report_tables(df)
    assert list(tables) == ["simple", "recurrent"]
    blocks = list(dict.fromkeys(tables["simple"].index.get_level_values("Network")))
    assert blocks == ["simple · bce · lr=0.001", "simple · bce · lr=0.01", "simple · bce_ignore"]
    assert list(dict.fromkeys(tables["recurrent"].index.get_level_values("Network"))) == [
        "recurrent · bce_ignore · 3 steps"]  # lr is the same throughout that network
    two_seeds = tables["simple"].loc["simple · bce · lr=0.001"][10]
    assert two_seeds["Maximum number of memorized patterns"] == 36  # max of max
    assert two_seeds["Mean of memorized patterns"] == 32  # pooled runs 30, 26, 36, 36
    # deviations from 32: -2, -6, 4, 4; population variance (4 + 36 + 16 + 16) / 4 = 18
    assert two_seeds["Standard deviation of memorized patterns"] == pytest.approx(math.sqrt(18))
    assert two_seeds["Jobs combined"] == 2
    # Gardner's bound caps error-free recall, not bce_ignore's criterion that tolerates wrong bits.
    assert two_seeds["Gardner bound α_c(s)·N"] == pytest.approx(39.13, abs=0.01)
    assert "Gardner bound α_c(s)·N" not in tables["simple"].loc["simple · bce_ignore"].index


def test_a_job_that_memorized_nothing_leaves_empty_cells(tmp_path):
    nothing = make_result("simple", "bce", 1, 30, 120, 90, [100, 90])
    nothing["metrics"].update(capacity_ds=None, perfect_ds=None, memorized_max=None, memorized_mean=None,
                              memorized_std=None, memorized_runs=[], accuracy=None, bits_per_param=None)
    files = [write_job(tmp_path / "0", nothing), write_job(tmp_path / "1", make_result(*SWEEP[0]))]
    df, _ = load_dirs([tmp_path])
    from_wandb, _ = load_wandb("me/memcap", api=FakeApi(files))
    pd.testing.assert_frame_equal(df.drop(columns="path"), from_wandb.drop(columns="path"))
    md = to_markdown(report_tables(df))
    assert md_row(md, "simple · bce", "Maximum number of memorized patterns") == ["38", ""]
    assert md_row(md, "simple · bce", "Trainable parameters") == ["110", "930"]


def test_bce_ignore_bits_are_counted_from_the_config_not_read_from_the_file(tmp_path):
    """A bce_ignore result.json written with log2 C(N, k) bits per pattern (make_result, as files were before
    bits-to-ignore was counted) is tabulated with log2 C(N, k) - log2 A (memcap.theory.bits_per_pattern): at
    N=100, #bti = 1 and A = (1 + 10) * (1 + 90); a bce file is tabulated as written, from W&B alike."""
    from memcap.aggregate.published import beside_report

    files = [write_job(tmp_path / "0", make_result("simple", "bce", 1, 100, 320, 320, [320, 300])),
             write_job(tmp_path / "1", make_result("simple", "bce_ignore", 1, 100, 360, 360, [360, 340]))]
    exact, tolerant = 320 * math.log2(math.comb(100, 10)) / 10100, 360 * (
        math.log2(math.comb(100, 10)) - math.log2(11 * 91)) / 10100
    assert json.loads(files[1].read_text())["metrics"]["bits_per_param"] == pytest.approx(
        360 * math.log2(math.comb(100, 10)) / 10100)
    for df in (load_dirs([tmp_path])[0], load_wandb("me/memcap", api=FakeApi(files))[0]):
        assert df.set_index("loss").bits_per_param.to_dict() == pytest.approx({"bce": exact, "bce_ignore": tolerant})
        md = to_markdown(report_tables(df))
        assert md_row(md, "simple · bce", "Bits per parameter") == [f"{exact:.3f}"]
        assert md_row(md, "simple · bce_ignore", "Bits per parameter") == [f"{tolerant:.3f}"] == ["1.212"]
        assert beside_report(df).bits_per_param.tolist() == [round(exact, 3), round(tolerant, 3)]


def test_oracle_rows_appear_when_reported(tmp_path):
    write_job(tmp_path / "0", make_result("simple", "bce", 1, 10, 40, 30, [38, 34],
                                          oracle_memorized=39, oracle_ratio=38 / 39))
    df, _ = load_dirs([tmp_path])
    md = to_markdown(report_tables(df))
    assert md_row(md, "simple · bce", "Oracle lower bound (achieved)") == ["39.0"]
    assert md_row(md, "simple · bce", "Ratio to the lower bound") == ["0.974"]
    assert "Oracle upper bound (proven)" not in md  # a result from before the interval: no row
    write_job(tmp_path / "i" / "0", make_result("simple", "bce", 1, 10, 40, 30, [38, 34], oracle_memorized=39,
                                                oracle_ratio=38 / 39, oracle_upper=39.5, oracle_ratio_upper=0.962))
    md = to_markdown(report_tables(load_dirs([tmp_path / "i"])[0]))
    assert md_row(md, "simple · bce", "Oracle upper bound (proven)") == ["39.5"]
    assert md_row(md, "simple · bce", "Ratio to the proven upper bound") == ["0.962"]


def test_points_frame_has_one_row_per_trained_point(sweep):
    df, _ = load_dirs([sweep])
    points = points_frame(df)
    assert len(points) == 2 * 2 * len(SWEEP)  # two DS, two runs per job
    first = points[(points.model == "simple") & (points.N == 10) & (points.DS == 40)]
    assert first.memorized.tolist() == [38, 34] and first.run.tolist() == [0, 1]
    assert set(first.loss) == {"bce"} and set(first.steps) == {1}  # the config, not the point's
    assert first.train_loss.tolist() == [0.2, 0.2] and first.train_steps.tolist() == [200, 200]


@pytest.mark.skipif(not (REPO / "train.py").exists(), reason="train.py is not written yet")
def test_real_sweep_aggregates(tmp_path):
    sweep = tmp_path / "sweep"
    command = [sys.executable, "train.py", "-m", "N=10,20", "runs=2", "logger=none", "trainer.max_steps=200",
               f"hydra.sweep.dir={sweep}"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert cli.main([str(sweep), "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "tables.csv")
    assert list(table.columns[2:]) == ["10", "20"]
    maximum = table[table.Quantity == "Maximum number of memorized patterns"]
    assert (maximum[["10", "20"]] > 0).all(axis=None)


# Text memory (docs/text.md): (model, L, {H: best-run char accuracy}, min H or None when capped).
TEXT_SWEEP = [
    ("rnn", 8, {1: 0.2, 2: 0.5, 4: 0.9, 8: 0.995, 6: 0.97, 7: 0.992}, 7),
    ("rnn", 16, {1: 0.2, 2: 0.4, 4: 0.8, 8: 0.95, 16: 1.0, 12: 0.991, 10: 0.98, 11: 0.985}, 12),
    ("lstm", 8, {1: 0.4, 2: 0.9, 4: 1.0, 3: 0.993}, 3),
    ("lstm", 16, {1: 0.3, 2: 0.6, 4: 0.991, 3: 0.9}, 4),
    ("transformer", 16, {1: 0.2, 2: 0.3, 4: 0.5}, None),  # search.max_hidden=4: capped
]


def text_params(model, L, H):
    state = 2 * H if model == "lstm" else H
    encoder = {"rnn": H * (256 + H + 2), "lstm": 4 * H * (256 + H + 2)}.get(model, 10 * H * H)
    return state, encoder, encoder + state * L * 256 + L * 256


def make_text_result(model, L, curve, min_hidden, seed=0, search="neurons", max_hidden=512, runs=2):
    """A complete data=text result.json: two runs per H, run 0 the best; metrics at min H (or the largest H)."""
    bits_per_char = 4.73
    points = []
    for H, best in curve.items():
        state, encoder, params = text_params(model, L, H)
        for run, char in enumerate([best, best - 0.05]):
            points.append({"hidden": H, "run": run, "state_size": state, "params": params, "encoder_params": encoder,
                           "train_char": char, "train_exact": char ** L, "heldout_char": 0.1, "heldout_exact": 0.0,
                           "bits": char * 64 * L * bits_per_char, "loss": 0.1, "steps": 400, "seconds": 1.0,
                           "members": runs, "stop": "cap"})
    hidden = min_hidden if min_hidden is not None else max(curve)
    best = next(p for p in points if p["hidden"] == hidden and p["run"] == 0)
    return {
        "status": "ok", "error": None,
        "config": {"model": model, "data": "text", "search": search, "loss": "cross_entropy", "steps": L,
                   "hidden": hidden if search == "fixed" else None, "layers": 1, "heads": 1, "decoder": "linear",
                   "source": "stdlib", "alphabet": None, "path": None, "length": L, "count": 64,
                   "encoding": "onehot", "metric": "char", "target": 0.99, "min_hidden": 1, "max_hidden": max_hidden,
                   "seed": seed, "runs": runs, "lr": 0.1, "max_steps": 400, "schedule": "constant", "batch_size": None},
        "metrics": {"min_hidden": min_hidden, "capped": min_hidden is None and search == "neurons", "hidden": hidden,
                    "state_size": best["state_size"], "params": best["params"],
                    "encoder_params": best["encoder_params"], "decoder_params": best["params"] - best["encoder_params"],
                    **{k: best[k] for k in ("train_char", "train_exact", "heldout_char", "heldout_exact")},
                    "score_runs": [p["train_char"] for p in points if p["hidden"] == hidden],
                    "bits_per_char": bits_per_char, "bits_total": 64 * L * bits_per_char, "bits": best["bits"],
                    "bits_per_neuron": best["bits"] / hidden, "bits_per_param": best["bits"] / best["params"]},
        "points": points,
        "versions": {"memcap": "0.1.0"},
        "wall_time": 2.5,
    }


@pytest.fixture
def text_sweep(tmp_path) -> Path:
    for i, (model, L, curve, min_hidden) in enumerate(TEXT_SWEEP):
        write_job(tmp_path / "text" / str(i), make_text_result(model, L, curve, min_hidden,
                                                                 max_hidden=4 if min_hidden is None else 512))
    # A fixed-H job answers no smallest H: in the figure, not the table.
    write_job(tmp_path / "text" / "fixed", make_text_result("gru", 8, {24: 1.0}, 24, search="fixed"))
    return tmp_path / "text"


def test_text_sweep_gets_its_table_and_figure(text_sweep, capsys):
    assert cli.main([str(text_sweep)]) == 0
    out = text_sweep / "aggregate"
    assert sorted(p.name for p in out.iterdir()) == [
        "text_accuracy.pdf", "text_accuracy.png", "text_tables.csv", "text_tables.md", "text_tables.tex"]
    assert (out / "text_accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "text_accuracy.pdf").read_bytes()[:4] == b"%PDF"

    md = (out / "text_tables.md").read_text()
    assert md.startswith("### Text memory: smallest H")
    assert md.index("| rnn |") < md.index("| lstm |") < md.index("| transformer |")  # docs/text.md's order
    assert "gru" not in md and "search" not in md  # the fixed job is left out; no label needs the search
    assert md_row(md, "rnn", "Smallest H") == ["7", "12"]
    assert md_row(md, "lstm", "Smallest H") == ["3", "4"]
    assert md_row(md, "lstm", "State size at min H") == ["6", "8"]  # h and c
    lstm_8, lstm_16 = text_params("lstm", 8, 3)[2], text_params("lstm", 16, 4)[2]
    assert md_row(md, "lstm", "Parameters at min H") == [str(lstm_8), str(lstm_16)]
    # bits = 0.993 * 64 * 8 * 4.73 = 2404.8 at H = 3: 801.6 per neuron; 0.991 * 64 * 16 * 4.73 = 4800.0 at H = 4
    assert md_row(md, "lstm", "Bits per neuron") == ["801.6", "1200.0"]
    assert md_row(md, "lstm", "Bits per parameter") == [f"{2404.8 / lstm_8:.3f}", f"{4800.0 / lstm_16:.3f}"]
    # Capped at H = 4: no minimum, so none of the numbers at one; and no L = 8 job.
    assert md_row(md, "transformer", "No H reached the target, up to") == ["", "4"]
    assert md.split("| transformer |")[1].count("\n|") == 0

    csv = pd.read_csv(out / "text_tables.csv").set_index(["Network", "Quantity"])
    assert list(csv.columns) == ["8", "16"]
    assert csv.loc[("rnn", "Smallest H")].tolist() == [7, 12]
    assert r"lstm & Smallest H & 3 & 4 \\" in (out / "text_tables.tex").read_text()
    printed = capsys.readouterr().out
    assert "L=8" in printed and "L=16" in printed and "6 job(s) aggregated" in printed


def test_mixed_sweep_gets_both_outputs_and_pattern_tables_unchanged(sweep, text_sweep, tmp_path):
    assert cli.main([str(sweep), "--out", str(tmp_path / "patterns")]) == 0
    assert cli.main([str(sweep), str(text_sweep), "--out", str(tmp_path / "both")]) == 0
    for name in ("tables.md", "tables.csv", "tables.tex"):
        assert (tmp_path / "both" / name).read_text() == (tmp_path / "patterns" / name).read_text()
    assert "text" not in (tmp_path / "both" / "tables.md").read_text()
    written = {p.name for p in (tmp_path / "both").iterdir()}
    assert {"text_tables.md", "text_accuracy.png", "figure1_memorized.png", "capacity_curve.pdf"} <= written


def test_text_frame_from_wandb_equals_the_one_from_dirs(sweep, text_sweep):
    files = sorted(sweep.rglob("result.json")) + sorted(text_sweep.rglob("result.json"))
    from_dirs, _ = load_dirs([sweep, text_sweep])
    from_wandb, skipped = load_wandb("me/memcap", api=FakeApi(files[::-1]))
    assert skipped == []
    pd.testing.assert_frame_equal(from_dirs.drop(columns="path"), from_wandb.drop(columns="path"))
    frames = sources.by_task(from_dirs)
    assert list(frames) == ["patterns", "text"] and len(frames["text"]) == len(TEXT_SWEEP) + 1
    text = frames["text"]
    # The config's H and lower search end beside the answer's, which keep their plain names.
    assert text["config.min_hidden"].tolist() == [1] * len(text) and "N" not in text
    assert sorted(text.min_hidden.dropna()) == [3, 4, 7, 12, 24]
    assert frames["patterns"].attrs["config_keys"] == load_dirs([sweep])[0].attrs["config_keys"]
    pd.testing.assert_frame_equal(frames["patterns"].drop(columns="path"),
                                  load_dirs([sweep])[0].drop(columns="path"))
    points = points_frame(text)
    assert len(points) == 2 * sum(len(curve) for _, _, curve, _ in TEXT_SWEEP) + 2
    assert {"hidden", "train_char", "train_loss", "train_steps"} <= set(points.columns)


def test_incomplete_text_result_is_skipped_with_its_missing_keys(tmp_path):
    result = make_text_result("rnn", 8, {1: 0.2, 2: 0.995}, 2)
    del result["metrics"]["bits_per_neuron"], result["config"]["length"]
    write_job(tmp_path / "0", result)
    df, skipped = load_dirs([tmp_path])
    assert df.empty and skipped == [(str(tmp_path / "0" / "result.json"), "malformed: config.length: missing")]


def test_text_jobs_without_points_still_get_a_figure(tmp_path):
    result = make_text_result("rnn", 8, {1: 0.2, 2: 0.995}, 2)
    write_job(tmp_path / "0", result | {"points": []})
    assert cli.main([str(tmp_path), "--formats", "md"]) == 0
    assert (tmp_path / "aggregate" / "text_accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert md_row((tmp_path / "aggregate" / "text_tables.md").read_text(), "rnn", "Smallest H") == ["2"]


# Paper-ready output: marks on bounds, LaTeX through Styler, integers, figure styles, no torch or Hydra.


def marked_sweep(tmp_path) -> Path:
    """SWEEP with simple · bce at N=20 capped and recurrent at N=10 unconverged (its best run hit the step cap)."""
    for i, job in enumerate(SWEEP):
        result = make_result(*job, capped=i == 1)
        if i == 2:
            for point in result["points"]:
                if point["DS"] == result["metrics"]["capacity_ds"]:
                    point["stop"] = "cap"
        write_job(tmp_path / "marked" / str(i), result)
    return tmp_path / "marked"


def test_capped_and_unconverged_cells_are_marked_in_every_format(tmp_path, capsys):
    assert cli.main([str(marked_sweep(tmp_path)), "--out", str(tmp_path / "out")]) == 0
    out = tmp_path / "out"
    simple, recurrent = "simple · bce", "recurrent · bce_ignore · 2 steps"

    md = (out / "tables.md").read_text()
    assert md_row(md, simple, "Maximum number of memorized patterns") == ["38", "≥76"]
    assert md_row(md, simple, "DS searched (capacity DS)") == ["40", "≥80"]
    assert md_row(md, simple, "Perfect-recall DS") == ["30", "60"]  # a true perfect-recall DS: no mark
    assert md_row(md, recurrent, "Maximum number of memorized patterns") == ["57†", "114"]
    table1, table2 = md.split("### Table 2")
    assert "≥ capped: the search reached its ceiling" in table1 and "†" not in table1
    assert "† unconverged: a run at the capacity DS or at the DS tried next" in table2 and "≥" not in table2

    csv = pd.read_csv(out / "tables.csv").set_index(["Network", "Quantity"])
    assert csv.loc[(simple, "Maximum number of memorized patterns")].tolist() == [38, 76]  # numbers stay numbers
    assert csv.loc[(simple, "Capped: capacity is a lower bound")].tolist() == [0, 1]
    assert csv.loc[(recurrent, "Unconverged: capacity is a lower bound")].tolist() == [1, 0]
    assert (recurrent, "Capped: capacity is a lower bound") not in csv.index

    tex = (out / "tables.tex").read_text()
    assert r"simple $\cdot$ bce & Maximum number of memorized patterns & 38 & $\geq$76 \\" in tex
    assert r"& Maximum number of memorized patterns & 57$^\dagger$ & 114 \\" in tex
    assert r"\caption{simple networks. $\geq$ capped: the search reached its ceiling" in tex

    printed = capsys.readouterr().out
    assert "≥76" in printed and "57†" in printed and "≥ capped" in printed and "† unconverged" in printed


@pytest.mark.parametrize("stop", ["short", "nothing", "cap"])
def test_a_mean_counting_runs_before_their_plateau_is_marked_as_a_lower_bound(tmp_path, stop):
    """A run at the capacity DS stopped by a fail-fast rule ("short", "nothing") or at the step cap counted
    less than it can store: the mean is marked ‡ in every format and beside the report; the maximum is marked
    only where the capacity is the cap's (†: a member at a deciding point at the step cap)."""
    for i, job in enumerate(SWEEP[:2]):
        result = make_result(*job)
        if i == 1:  # N=20: run 1 at the capacity DS stopped before its plateau
            next(p for p in result["points"] if p["DS"] == 80 and p["run"] == 1)["stop"] = stop
        write_job(tmp_path / "sweep" / str(i), result)
    out = tmp_path / "out"
    assert cli.main([str(tmp_path / "sweep"), "--out", str(out), "--beside-report"]) == 0
    md = (out / "tables.md").read_text()
    assert md_row(md, "simple · bce", "Mean of memorized patterns") == ["36.00", "74.00‡"]
    assert md_row(md, "simple · bce", "Maximum number of memorized patterns") == ["38", "76†" if stop == "cap" else "76"]
    assert "‡ before its plateau: a run at the capacity DS stopped by the search's fail-fast rules" in md
    csv = pd.read_csv(out / "tables.csv").set_index(["Network", "Quantity"])
    assert csv.loc[("simple · bce", "Before plateau: mean is a lower bound")].tolist() == [0, 1]
    assert r"74.00$^\ddagger$" in (out / "tables.tex").read_text()
    beside = pd.read_csv(out / "beside_report.csv").set_index("N")
    assert beside.loc[20, "lower_bound"].endswith("‡ mean: runs before their plateau")
    assert pd.isna(beside.loc[10, "lower_bound"])


def test_the_stops_before_a_plateau_are_stop_reasons_of_the_engine():
    from memcap.patterns.module import STOP_REASONS
    from memcap.search import BEFORE_PLATEAU_STOPS
    assert set(BEFORE_PLATEAU_STOPS) <= set(STOP_REASONS)


def test_unmarked_tables_carry_no_notes(sweep, tmp_path):
    assert cli.main([str(sweep), "--out", str(tmp_path / "out")]) == 0
    for name in ("tables.md", "tables.csv", "tables.tex"):
        text = (tmp_path / "out" / name).read_text()
        assert "≥" not in text and "†" not in text and "‡" not in text and "geq" not in text and "dagger" not in text
        assert "Capped" not in text and "Unconverged" not in text and "Before plateau" not in text


def test_latex_has_headers_one_caption_a_label_and_rules_between_networks(tmp_path):
    jobs = [make_result("simple", "bce", 1, N, 4 * N, 3 * N, [4 * N - 2, 4 * N - 6], lr=lr)
            for lr in (0.01, 0.001) for N in (10, 20)]
    for i, result in enumerate(jobs):
        write_job(tmp_path / str(i), result)
    df, _ = load_dirs([tmp_path])
    tex = to_latex(report_tables(df))
    assert tex.count(r"\begin{table}") == tex.count(r"\caption{") == tex.count(r"\label{") == 1
    assert r"\caption{simple networks.}" in tex and "Table 1" not in tex
    assert r"\label{tab:simple}" in tex
    assert r"Network & Quantity & $N = 10$ & $N = 20$ \\" in tex
    lines = tex.splitlines()
    assert lines[lines.index(r"\toprule") + 1].startswith("Network & Quantity")
    # booktabs rules: the header's, then one before the second network's block
    second = next(i for i, line in enumerate(lines) if line.startswith(r"simple $\cdot$ bce $\cdot$ lr=0.01 &"))
    assert lines[second - 1] == r"\midrule" and lines.count(r"\midrule") == 2
    assert r"Gardner bound $\alpha_c(s) \cdot N$ &" in tex


def test_csv_prints_integers_as_integers(sweep):
    df, _ = load_dirs([sweep])
    text = to_csv(report_tables(df))
    assert "simple · bce,Maximum number of memorized patterns,38,76\n" in text
    assert "simple · bce,Trainable parameters,110,420\n" in text
    assert "simple · bce,Accuracy [%],95.0,95.0\n" in text  # a percentage: a float
    assert "38.0" not in text and "110.0" not in text


def png_width(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[16:20], "big")  # the IHDR chunk


@pytest.mark.parametrize(("name", "inches", "points"), [("single", 3.3, 8), ("double", 6.8, 9)])
def test_figure_styles_are_sized_for_print(sweep, tmp_path, name, inches, points):
    df, _ = load_dirs([sweep])
    chosen = figures.style(name)
    with figures._drawing(chosen):
        fig = figures.figure_memorized(df, chosen)
        assert fig.get_size_inches()[0] == pytest.approx(inches)
        assert all(text.get_fontsize() <= points for text in fig.findobj(matplotlib.text.Text))
    assert cli.main([str(sweep), "--out", str(tmp_path / name), "--style", name, "--formats", "md"]) == 0
    for figure in ("figure1_memorized", "capacity_curve"):
        assert png_width(tmp_path / name / f"{figure}.png") == round(inches * chosen.dpi)
    assert cli.main([str(sweep), "--out", str(tmp_path / "wide"), "--style", name, "--width", "5"]) == 0
    assert png_width(tmp_path / "wide" / "figure1_memorized.png") == 5 * chosen.dpi


def legend_texts(fig) -> list[str]:
    return [text.get_text() for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
            for text in legend.get_texts()]


@pytest.mark.parametrize("name", ["screen", "single"])
def test_every_marker_has_a_legend_entry_and_the_labels_say_what_is_plotted(tmp_path, name):
    df, _ = load_dirs([marked_sweep(tmp_path)])
    chosen = figures.style(name)
    fig = figures.figure_memorized(df, chosen)
    texts = legend_texts(fig)
    assert {"simple · bce", "recurrent · bce_ignore · 2 steps", "max over runs", "mean ± s.d. over runs",
            "a lower bound: capped (≥) or unconverged (†)"} <= set(texts)
    assert any(text.startswith("Gardner") for text in texts)
    ax = fig.axes[0]
    assert "max" in ax.get_ylabel() and "mean over runs" in ax.get_ylabel() and ax.get_xlabel().startswith("N")
    curve = figures.figure_capacity_curve(df, chosen)
    assert {ax.get_xscale() for ax in curve.axes} == {"log"}  # the transition is not squashed by galloping
    assert {"max over runs", "mean over runs", "N=10", "N=20"} <= set(legend_texts(curve))


def test_aggregation_imports_neither_torch_nor_hydra(sweep, tmp_path):
    code = ("import sys\nfrom memcap.aggregate import cli\n"
            f"assert cli.main([{str(sweep)!r}, '--out', {str(tmp_path / 'out')!r}]) == 0\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'torch', 'hydra', 'omegaconf', 'pytorch_lightning', 'lightning', 'wandb'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_text_architecture_order_matches_the_text_config():
    from memcap.text.config import ARCHITECTURES

    assert tables.TEXT_ARCHITECTURES == ARCHITECTURES
