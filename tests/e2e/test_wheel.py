"""A wheel built from the project installs and runs non-editable: conf/ travels inside it, `memcap` is a command.

The wheel is built from a copy of the sources (no build/ or egg-info left in the
checkout), installed without its dependencies into a fresh venv that reuses this
environment's installed packages (a .pth file: nothing is downloaded), and run
from another directory, where no checkout is in reach.
"""

import json
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT as REPO

SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "memcap", "hydra_plugins", "conf")


def run(command, cwd, timeout=300):
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the wheel, the venv's bin directory, a directory outside the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__", "*.pyc")}
                                         if (REPO / name).is_dir() else {}))
    for local in (src / "conf" / "local").glob("*.yaml"):
        local.unlink()  # a developer's own site settings, not the project's
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", tmp / "dist", "."], src)
    wheel, = (tmp / "dist").glob("memcap-*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], tmp)
    purelib = run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp)
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib.stdout.strip()) / "_memcap_test_deps.pth").write_text("\n".join(deps) + "\n")
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps", "--no-index",
         wheel], tmp)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return wheel, venv / "bin", elsewhere


def test_the_wheel_holds_the_configs_and_the_command(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    configs = {f"memcap/conf/{p.relative_to(REPO / 'conf').as_posix()}" for p in (REPO / "conf").rglob("*.yaml")
               if p.parent.name != "local"}
    assert configs and configs <= names
    modules = {p.relative_to(REPO).as_posix() for package in ("memcap", "hydra_plugins")
               for p in (REPO / package).rglob("*.py")}
    assert modules <= names  # every subpackage, including ones added later; the SLURM launcher
    entry_points = zipfile.ZipFile(wheel).read("memcap-0.1.0.dist-info/entry_points.txt").decode()
    assert "memcap = memcap.cli:main" in entry_points and "memcap-aggregate = memcap.aggregate.cli:main" in entry_points


def test_memcap_train_runs_a_tiny_job_from_another_directory(installed):
    _, bin_dir, elsewhere = installed
    where = run([bin_dir / "python", "-c", "import memcap.paths as p; print(p.__file__); print(p.conf_dir())"], elsewhere)
    module, conf = where.stdout.split()
    assert not Path(module).is_relative_to(REPO) and Path(conf) == Path(module).parent / "conf"

    done = run([bin_dir / "memcap", "train", "N=10", "DS=5", "runs=1", "logger=none", "trainer.max_steps=50"], elsewhere)
    result_file, = (elsewhere / "outputs").glob("*/*/result.json")
    result = json.loads(result_file.read_text())
    assert result["status"] == "ok", result.get("error")
    assert result["config"]["N"] == 10 and result["metrics"]["capacity_ds"] == 5
    assert (result_file.parent / "train.log").exists()  # the job is named "train", as train.py's
    assert "Traceback" not in done.stderr

    aggregated = run([bin_dir / "memcap", "aggregate", "outputs", "--formats", "csv"], elsewhere)
    assert "1 job(s) aggregated" in aggregated.stdout
    assert (elsewhere / "outputs" / "aggregate" / "tables.csv").exists()
    assert run([bin_dir / "memcap", "--version"], elsewhere).stdout.startswith("memcap ")
