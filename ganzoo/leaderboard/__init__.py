"""The ganzoo leaderboard: an append-only SQLite store of benchmark results and its views.

Importing it does not import torch.
"""

from ganzoo.leaderboard.render import FORMATS, render
from ganzoo.leaderboard.store import DuplicateResultError, Entry, Leaderboard, LeaderboardError, default_db_path
from ganzoo.metrics.result import IneligibleResultError

__all__ = ["FORMATS", "DuplicateResultError", "Entry", "IneligibleResultError", "Leaderboard", "LeaderboardError",
           "default_db_path", "render"]
