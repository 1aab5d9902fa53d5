"""Packaging beyond what pyproject.toml can say: conf/ ships inside the wheel as the package memcap.conf.

The configs stay in the repository's top-level conf/, where a checkout's train.py
composes them; the wheel installs them as memcap/conf/, where memcap.paths.conf_dir()
finds them. Every other setting is in pyproject.toml.
"""

from setuptools import find_namespace_packages, find_packages, setup

# conf/ and each config group directory in it (conf/model -> memcap.conf.model, ...).
CONF = ["memcap.conf", *(f"memcap.conf.{group}" for group in find_namespace_packages(where="conf"))]

setup(
    # hydra_plugins.memcap_slurm: the SLURM launcher (Hydra looks for launchers only in that namespace).
    packages=[*find_packages(include=["memcap", "memcap.*"]), *find_namespace_packages(include=["hydra_plugins.*"]), *CONF],
    package_dir={"memcap.conf": "conf"},
    package_data={package: ["*.yaml", "*.md"] for package in CONF},
    exclude_package_data={"memcap.conf.local": ["*.yaml"]},  # your site's settings (git-ignored) stay out
)
