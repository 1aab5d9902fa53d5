"""The command line checked before Hydra runs anything: one line for the first override it would refuse.

Hydra refuses an unknown group option, a value of the wrong type or an unknown
key with a multi-line message (its config search path, a type's internals),
and an output directory that cannot be created with a traceback. memcap gives
one line everywhere else (``memcap.config.ConfigError``), so ``memcap train``
and train.py check the overrides first: each group option against the group's
configs, every job of a sweep composed once per swept value (a type error in
any value is found before the first job starts), and then an explicit
``hydra.run.dir`` / ``hydra.sweep.dir`` created. ``HYDRA_FULL_ERROR=1`` skips
the check, so that Hydra's own message and stack trace follow.
"""

from __future__ import annotations

from pathlib import Path

# Flags after which Hydra does something other than run jobs (help, shell completion, another config): left to it.
HYDRA_ONLY = ("-h", "--help", "--hydra-help", "--info", "-i", "--shell-completion", "-sc", "--config-path", "-cp",
              "--config-name", "-cn", "--config-dir", "-cd", "--experimental-rerun")
WITH_ARGUMENT = ("--cfg", "-c", "--package", "-p")  # flags whose next word is theirs, not an override
OUTPUT_DIRS = ("hydra.run.dir", "hydra.sweep.dir")
TYPE_NAMES = {"converted to Integer": "an integer", "converted to Float": "a number", "valid bool": "true or false"}


def problem(argv: list[str]) -> str | None:
    """The first thing wrong with ``argv`` (train.py's command line) as one line, or None when Hydra may run it."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    if any(word.split("=")[0] in HYDRA_ONLY for word in argv):
        return None
    words, skip = [], False
    for word in argv:
        if skip or word in WITH_ARGUMENT:
            skip = not skip
            continue
        if not word.startswith("-"):
            words.append(word)
    try:
        overrides = OverridesParser.create().parse_overrides(words)
    except HydraException as error:
        return f"cannot read the overrides: {str(error).splitlines()[0]}"
    checks = [*(lambda o=o: _group_problem(o) for o in overrides),
              lambda: _composition_problem([o for o in overrides if not o.get_key_element().startswith("hydra")]),
              *(lambda o=o: _directory_problem(o) for o in overrides)]  # last: made only for a command that will run
    return next((line for check in checks if (line := check())), None)


def _values(override) -> list[str]:
    """An override's values as the command line gives them (a sweep's each)."""
    if override.is_sweep_override():
        return list(override.sweep_string_iterator())
    return [override.get_value_element_as_str()]


def _group_problem(override) -> str | None:
    """An option that is none of its group's configs (``model=nosuch``)."""
    from hydra.core.config_store import ConfigStore

    from memcap.paths import conf_dir

    group = override.key_or_group
    folder = conf_dir() / group
    if group.startswith("hydra") or not folder.is_dir() or override.is_delete():
        return None
    files = sorted(path.stem for path in folder.glob("*.yaml"))
    store = ConfigStore.instance()
    known = set(files) | {name.removesuffix(".yaml") for name in (store.list(group) if store.repo.get(group) else [])}
    for value in _values(override):
        if value not in known and value != "null":
            return f"{group}: no option {value!r}; allowed: {', '.join(files)}"
    return None


def _directory_problem(override) -> str | None:
    """An explicit output directory that cannot be made (under a regular file, in /proc, without permission)."""
    key = override.get_key_element()
    if key not in OUTPUT_DIRS or override.is_sweep_override():
        return None
    value = override.get_value_element_as_str()
    if "${" in value:  # resolved by Hydra at run time (a date, the job's overrides)
        return None
    try:
        Path(value).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"{key}: cannot create the directory {value!r} ({error.strerror}); allowed: a path where one can be made"
    return None


def _composition_problem(overrides: list) -> str | None:
    """Compose the first job, then each other swept value in turn: the first value Hydra refuses, in one line.

    A ``range(...)`` sweep's values are all integers, so its first stands for the rest."""
    from memcap.configs import compose

    first = [o.input_line if o.is_delete() else f"{o.input_line.split('=')[0]}={_values(o)[0]}" for o in overrides]
    trials = [first]
    for i, override in enumerate(overrides):
        if override.is_sweep_override() and type(override.value()).__name__ != "RangeSweep":
            for value in _values(override)[1:]:
                trials.append([*first[:i], f"{override.input_line.split('=')[0]}={value}", *first[i + 1:]])
    for trial in trials:
        try:
            compose(*trial)
        except Exception as error:  # Hydra's and OmegaConf's own errors, whatever their class
            return _one_line(error)
    return None


def _one_line(error: BaseException) -> str:
    """The key, what was given and what is allowed, from the OmegaConf error behind a Hydra composition error."""
    import dataclasses

    from omegaconf.errors import OmegaConfBaseException

    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, OmegaConfBaseException):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return str(error).splitlines()[0]
    key = getattr(cause, "full_key", None) or "config"
    message = str(getattr(cause, "msg", cause)).splitlines()[0]
    schema = getattr(cause, "object_type", None)
    if message.startswith("Key ") and " not in " in message and dataclasses.is_dataclass(schema):
        allowed = ", ".join(field.name for field in dataclasses.fields(schema))
        return f"{key}: no such key; allowed here: {allowed}"
    for words, allowed in TYPE_NAMES.items():
        if words in message:
            return f"{key}: got {cause.value!r}; allowed: {allowed}"
    return f"{key}: {message}"
