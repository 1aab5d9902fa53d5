"""Aggregation: finished jobs (sweep directories or W&B) -> the report's tables and figures.

sources (one DataFrame, one row per job) -> tables (report layout: Markdown, CSV,
LaTeX, terminal) and figures (Figures 1-3, capacity curves); cli ties them together
as the ``memcap-aggregate`` command.
"""

from memcap.aggregate.sources import load, load_dirs, load_wandb, points_frame
from memcap.aggregate.tables import report_tables, summarize

__all__ = ["load", "load_dirs", "load_wandb", "points_frame", "report_tables", "summarize"]
