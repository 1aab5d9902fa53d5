"""Training's answers beside the solver's: matched on the same data (N, s, seed, runs) and recall criterion."""

from memcap.aggregate import load_dirs
from memcap.aggregate.exact import against_solver
from memcap.aggregate.published import write_beside_report
from memcap.aggregate.tables import network_labels
from tests.helpers import make_result, write_job


def solver_result(loss, N, perfect_ds, seed=0, seconds=8.0):
    result = make_result("simple", loss, 1, N, perfect_ds, perfect_ds, [perfect_ds] * 5, seed=seed,
                         decided_by="solver", solver_seconds=seconds)
    result["config"]["decide"] = "solver"
    return result


def test_each_trained_search_stands_beside_the_solver_answer_for_its_data_and_criterion(tmp_path):
    jobs = {
        "trained_bce": make_result("simple", "bce", 1, 100, 320, 310, [320, 300, 310, 290, 305]),
        "trained_hinge": make_result("simple", "log_hinge", 1, 100, 290, 290, [290] * 5),
        "trained_seed1": make_result("simple", "bce", 1, 100, 300, 300, [300] * 5, seed=1),  # no solver job
        "trained_ignore": make_result("simple", "bce_ignore", 1, 100, 360, 360, [360] * 5),  # another criterion
        "solver_ignore": {**solver_result("bce_ignore", 100, 350)},
        "solver_exact": solver_result("bce", 100, 320),
        "checked_itself": make_result("simple", "bce", 1, 200, 620, 620, [620] * 5, solver_perfect_ds=630),
    }
    jobs["solver_ignore"]["metrics"]["solver_open_ds"] = {"perfect recall": [360, 370, 380], "capacity": []}
    for name, result in jobs.items():
        write_job(tmp_path / name, result)
    df, _ = load_dirs([tmp_path])
    table = against_solver(df)
    rows = {(r.network, r.N, r.seed): r for r in table.itertuples()}
    assert set(rows) == {("simple · bce", 100, 0), ("simple · log_hinge", 100, 0), ("simple · bce", 200, 0),
                         ("simple · bce_ignore", 100, 0)}
    ignore = rows["simple · bce_ignore", 100, 0]  # a scan that left DS open: a lower bound training may pass
    assert (ignore.solver_perfect_ds, ignore.solver_answer, ignore.perfect_vs_solver) == (350, "at least", 1.029)
    assert {rows[k].solver_answer for k in rows if k[0] != "simple · bce_ignore"} == {"exact"}
    hinge = rows["simple · log_hinge", 100, 0]  # exact recall under any loss but bce_ignore: the same answer
    assert (hinge.solver_perfect_ds, hinge.perfect_vs_solver, hinge.solver_s) == (320, 0.906, 8)
    assert rows["simple · bce", 100, 0].perfect_vs_solver == 0.969
    assert rows["simple · bce", 200, 0].solver_perfect_ds == 630
    labels = set(network_labels(df))
    assert "simple · bce · decided by LPs" in labels and "simple · bce" in labels
    written = write_beside_report(df, tmp_path / "out", formats=("md",)) if (tmp_path / "out").mkdir() is None else []
    assert [p.name for p in written] == ["beside_report.md", "against_solver.md"]
