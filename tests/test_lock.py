"""The lock files agree with pyproject.toml, and the tests run with the locked versions.

pyproject.toml keeps version ranges for people who install Dépêche as a library; the lock files
(requirements/*.lock, written by `make lock`) pin the exact versions and hashes that `make
install`, `make test`, `.ci/run` and the Dockerfile install. When a dependency is added or its
range changed without refreshing the lock, these tests say so.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
DEV_LOCK = ROOT / "requirements" / "dev.lock"
RUN_LOCK = ROOT / "requirements" / "run.lock"
BUILD_IN = ROOT / "requirements" / "build.in"
REFRESH = "run `make lock` and commit requirements/*.lock"

_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)


def pins(lock: Path) -> dict[str, tuple[Version, Marker | None]]:
    """The pinned `name==version ; marker` lines of a pip-compile style lock file."""
    found: dict[str, tuple[Version, Marker | None]] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            marker = Marker(match["marker"]) if match["marker"] else None
            found[canonicalize_name(match["name"])] = (Version(match["version"]), marker)
    return found


def declared(*, extras: tuple[str, ...] = ()) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    build = [
        line.strip()
        for line in BUILD_IN.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return [Requirement(line) for line in lines + build]


@pytest.mark.parametrize(("lock", "extras"), [(DEV_LOCK, ("dev",)), (RUN_LOCK, ())])
def test_every_declared_dependency_is_locked_within_its_range(
    lock: Path, extras: tuple[str, ...]
) -> None:
    locked = pins(lock)
    assert locked, f"{lock.name} has no pinned line"
    problems = []
    for requirement in declared(extras=extras):
        name = canonicalize_name(requirement.name)
        if name not in locked:
            problems.append(f"{requirement.name} is declared but not in {lock.name}")
            continue
        version = locked[name][0]
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement} is declared but {lock.name} pins {version}")
    assert not problems, "; ".join(problems) + f" — {REFRESH}"


def test_the_runtime_lock_pins_the_same_versions_as_the_dev_lock() -> None:
    dev, run = pins(DEV_LOCK), pins(RUN_LOCK)
    different = {
        name: (str(version), str(dev[name][0]) if name in dev else "absent")
        for name, (version, _) in run.items()
        if name not in dev or dev[name][0] != version
    }
    assert not different, f"run.lock and dev.lock disagree: {different} — {REFRESH}"


def test_the_lock_files_carry_hashes() -> None:
    for lock in (DEV_LOCK, RUN_LOCK):
        text = lock.read_text(encoding="utf-8")
        assert text.count("--hash=sha256:") >= len(pins(lock)), lock.name


def test_the_tests_run_with_the_locked_versions() -> None:
    """`make install` installed exactly the dev lock: what passes here passes on a fresh clone."""
    wrong = []
    for name, (version, marker) in pins(DEV_LOCK).items():
        if marker is not None and not marker.evaluate():
            continue
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            wrong.append(f"{name} (locked {version}) is not installed")
            continue
        if installed != version:
            wrong.append(f"{name} {installed} is installed, the lock says {version}")
    assert not wrong, "; ".join(wrong) + " — run `make install` (it installs from the lock)"
