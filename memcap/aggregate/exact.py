"""Training's answers beside the solver's (``search.decide=solver``): how far the optimizer is from the network.

``solver_answer`` says whether the solver's perfect-recall DS is exact or, where its scan left a DS open (under
bits-to-ignore, points whose interval straddles DS), a lower bound, which training may exceed.

A trained search and a solver search of the one-layer network with the same N, s, seed and runs see the same
dataset at every (DS, run) (memcap.patterns.engine.member_data), so the solver's perfect-recall DS is the
exact answer to the question training's search asks, under the same recall criterion (exact recall for every
loss but bce_ignore, whose tolerance the solver applies too). A trained job that ran the check itself
(``search.solver_check``) carries the answer in its metrics; for older ones it is found among the solver jobs
aggregated with them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from memcap.patterns.sizes import tolerance

_SAME_DATA = ("N", "s", "seed", "runs")


def _criterion(job: pd.Series) -> int:
    return tolerance(job["loss"], int(job["N"]), float(job["s"]))


def against_solver(df: pd.DataFrame) -> pd.DataFrame:
    """One row per trained simple-network search that has a solver answer for its data and criterion."""
    decided = df["decide"] if "decide" in df else pd.Series("training", index=df.index)
    solver = df[decided == "solver"]
    trained = df[(decided != "solver") & (df["model"] == "simple") & (df["search"] == "capacity")]
    rows = []
    for _, job in trained.iterrows():
        same = solver[(solver[list(_SAME_DATA)] == job[list(_SAME_DATA)]).all(axis=1)]
        same = same[[_criterion(s) == _criterion(job) for _, s in same.iterrows()]]
        exact, solver_seconds = job.get("solver_perfect_ds"), np.nan  # a check's time is in its points only
        left_open = job.get("solver_open_ds")
        if (exact is None or exact != exact) and len(same):
            exact, solver_seconds = same.iloc[0]["perfect_ds"], same.iloc[0]["solver_seconds"]
            left_open = same.iloc[0].get("solver_open_ds")
        if exact is None or exact != exact:
            continue
        rows.append({
            "network": f"simple · {job['loss']}", "N": int(job["N"]), "seed": int(job["seed"]),
            "trained_perfect_ds": job["perfect_ds"], "trained_capacity_ds": job["capacity_ds"],
            "solver_perfect_ds": int(exact),
            # exact, or a lower bound where the scan left a DS open (bits-to-ignore points no interval settled)
            "solver_answer": "at least" if isinstance(left_open, dict) and left_open.get("perfect recall") else "exact",
            "perfect_vs_solver": round(job["perfect_ds"] / exact, 3) if job["perfect_ds"] == job["perfect_ds"] else np.nan,
            "capacity_vs_solver_perfect": round(job["capacity_ds"] / exact, 3),
            "trained_s": round(job["wall_time"]) if job.get("wall_time") == job.get("wall_time") else np.nan,
            "solver_s": round(solver_seconds) if solver_seconds == solver_seconds else np.nan,
        })
    return pd.DataFrame(rows).sort_values(["network", "N", "seed"], kind="stable") if rows else pd.DataFrame()
