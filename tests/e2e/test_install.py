"""Set-up: which torch build `make setup` asks for (scripts/install_torch.py), the Makefile's quoting, conf/local."""

import importlib.util
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import ROOT as REPO

spec = importlib.util.spec_from_file_location("install_torch", REPO / "scripts" / "install_torch.py")
install_torch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(install_torch)
CPU = ["--index-url", install_torch.CPU_INDEX]
CUDA = "https://download.pytorch.org/whl/cu128"


def never(*_):
    raise AssertionError("pip need not be asked")


@pytest.mark.parametrize(("pip_args", "index", "gpu", "system", "resolved", "expected"), [
    ([], CUDA, False, "Linux", never, ["--index-url", CUDA]),  # make setup TORCH_INDEX=...
    (["--index-url", CUDA], None, False, "Linux", never, []),  # TORCH="torch==... --index-url ..."
    ([], None, True, "Linux", never, []),  # a GPU: PyPI's CUDA build
    ([], None, False, "Darwin", never, []),  # PyPI's macOS wheel is the CPU build
    ([], None, False, "Linux", lambda *_: "2.13.0", CPU),  # PyPI would give the CUDA build: ask for the CPU one
    ([], None, False, "Linux", lambda *_: None, CPU),  # pip cannot say
    ([], None, False, "Linux", lambda *_: "2.13.0+cpu", []),  # a local CPU wheel in pip.conf: as it is
])
def test_the_build_asked_for(pip_args, index, gpu, system, resolved, expected):
    install, why = install_torch.choose("torch==2.13.0", pip_args, index, gpu, system, resolve=resolved)
    assert install == ["torch==2.13.0", *pip_args, *expected] and why


def test_default_here_uses_the_local_pip_configuration():
    """The default path on this machine and in CI: no GPU, and a pip.conf that provides the CPU wheel or not."""
    done = subprocess.run([sys.executable, "scripts/install_torch.py", "--dry-run"], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    first, command = done.stdout.splitlines()[:2]
    assert command.split()[-1] == "torch==2.13.0" or command.endswith(f"--index-url {install_torch.CPU_INDEX}")
    if not install_torch.has_gpu() and "+cpu" in (install_torch.resolved_version("torch==2.13.0", []) or ""):
        assert "already provides the CPU build" in first and "--index-url" not in command


@pytest.mark.parametrize(("variables", "expected"), [
    ([], '-- "torch==2.13.0"'),
    ([f"TORCH_INDEX={CUDA}"], f'--index "{CUDA}" -- "torch==2.13.0"'),
    ([f"TORCH=torch==2.13.0 --index-url {CUDA}"], f'-- "torch==2.13.0" --index-url {CUDA}'),
    (["TORCH=torch>=2.1"], '-- "torch>=2.1"'),  # quoted: not a shell redirection
])
def test_makefile_passes_torch_and_its_index(variables, expected):
    done = subprocess.run(["make", "-n", "-B", "setup", *variables], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.replace("\\\n", " ").splitlines() if "install_torch.py" in line)
    assert " ".join(line.split()).endswith(" ".join(expected.split()))


def test_the_local_config_example_works_with_every_launcher(tmp_path):
    """conf/local/README.md's two files: the SLURM keys reach only the SLURM launcher, the rest every job."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from memcap.configs import register_configs

    conf = tmp_path / "conf"
    shutil.copytree(REPO / "conf", conf)
    readme = (REPO / "conf" / "local" / "README.md").read_text()
    blocks = [textwrap.dedent(block) for block in re.findall(r"\n\n((?:    .*\n)+)", readme)]
    slurm, default = (block for block in blocks if "partition" in block or "@package" in block)
    (conf / "local" / "slurm.yaml").write_text(slurm)
    (conf / "local" / "default.yaml").write_text(default)
    register_configs()
    launchers = {}
    for launcher in ("basic", "slurm", "processes", "parallel"):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
            overrides = [] if launcher == "basic" else [f"hydra/launcher={launcher}"]
            cfg = compose("train", overrides=overrides, return_hydra_config=True)
        launchers[launcher] = cfg.hydra.launcher
        assert cfg.logger.entity == "my-team"
    GlobalHydra.instance().clear()
    assert launchers["slurm"].partition == "gpu" and launchers["slurm"].account == "my-lab"
    assert all("partition" not in launchers[name] for name in ("basic", "processes", "parallel"))


@pytest.mark.parametrize(("tries", "failures", "rc", "runs"), [(3, 2, 0, 3), (2, 2, 7, 2), (3, 0, 0, 1)])
def test_retry_runs_a_failing_install_again_up_to_its_tries(tmp_path, tries, failures, rc, runs):
    """`make setup`'s pip calls go through scripts/retry.sh: a truncated index page (CI, stop 22) fails one try only."""
    counter = tmp_path / "runs"
    flaky = f'n=$(($(cat {counter} 2>/dev/null || echo 0) + 1)); echo $n > {counter}; [ $n -gt {failures} ] || exit 7'
    done = subprocess.run([str(REPO / "scripts" / "retry.sh"), str(tries), "bash", "-c", flaky],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "RETRY_PAUSE": "0"}, timeout=60)
    assert done.returncode == rc
    assert int(counter.read_text()) == runs
    assert ("giving up" in done.stderr) == (rc != 0)


def test_the_makefile_installs_through_retry():
    makefile = (REPO / "Makefile").read_text()
    assert "RETRY := scripts/retry.sh 3" in makefile
    assert all("$(RETRY)" in line for line in makefile.splitlines() if "pip install" in line and "\t" in line)
