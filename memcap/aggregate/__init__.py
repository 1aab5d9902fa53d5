"""Aggregation: finished jobs (sweep directories or W&B) -> the report's tables and figures.

sources (one DataFrame, one row per job; by_task splits the pattern and the
text task's jobs) -> tables (report layout: Markdown, CSV, LaTeX, terminal; the
text task's table of minimal H) and figures (Figures 1-3, capacity curves, text
accuracy against H); cli ties them together as the ``memcap-aggregate`` command.
"""

from memcap.aggregate.sources import by_task, load, load_dirs, load_wandb, points_frame
from memcap.aggregate.tables import report_tables, summarize, text_tables

__all__ = ["by_task", "load", "load_dirs", "load_wandb", "points_frame", "report_tables", "summarize", "text_tables"]
