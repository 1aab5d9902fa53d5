"""Where memcap's Hydra configs are: the repository's conf/, or the copy a wheel installs.

The configs live in the repository's top-level ``conf/``. A checkout and an editable install read them there; a wheel ships
them as package data, installed as ``memcap/conf/`` (pyproject.toml and
setup.py map the package ``memcap.conf`` to ``conf/``). ``conf_dir()`` finds
whichever this memcap has, the installed copy first.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE / "conf", _PACKAGE.parent / "conf")  # installed wheel, then checkout


def conf_dir() -> Path:
    """The directory holding train.yaml and the config groups."""
    for candidate in _CANDIDATES:
        if (candidate / "train.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"memcap's configs (conf/train.yaml) are in none of {', '.join(map(str, _CANDIDATES))}: "
                            "reinstall memcap, or run from a checkout")


CONF_DIR = conf_dir()
