"""The built wheel ships the library `labml_nn` and the generator as `labml_docs` (code from utils/,
templates from templates/) with its `labml-docs` command; no top-level `utils`, `tests` or `docs`."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What the build reads. Copied, so a stale build/ folder in the checkout cannot leak removed files into
# the wheel, and the test writes nothing into the checkout.
BUILD_INPUTS = ("pyproject.toml", "readme.md", "labml_nn", "utils", "templates")


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
    tree = tmp_path_factory.mktemp("tree")
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(REPO / name, tree / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(tree)], check=True, cwd=out)
    wheel, = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points, = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        return names, archive.read(entry_points).decode()


def test_wheel_has_only_the_library_and_the_generator_at_top_level(wheel_names):
    names, _ = wheel_names
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"labml_nn", "labml_docs"}   # in particular no utils/, tests/, docs/


def test_wheel_ships_the_library_with_its_figures(wheel_names):
    names, _ = wheel_names
    assert "labml_nn/optimizers/adam.py" in names
    assert "labml_nn/optimizers/radam_r_t.svg" in names


def test_wheel_ships_the_generator_with_its_worker_and_templates(wheel_names):
    names, _ = wheel_names
    for name in ("labml_docs/build.py", "labml_docs/site_config.py", "labml_docs/mathjax_worker.js",
                 "labml_docs/templates/page.html", "labml_docs/templates/static/site.css"):
        assert name in names


def test_every_module_and_template_in_the_checkout_is_in_the_wheel(wheel_names):
    # pyproject.toml lists the packages by hand; this fails when a new folder is left out.
    names, _ = wheel_names
    expected = {p.relative_to(REPO).as_posix() for p in (REPO / "labml_nn").rglob("*.py")}
    expected |= {"labml_docs/" + p.relative_to(REPO / "utils").as_posix() for p in (REPO / "utils").glob("*.py")}
    expected |= {"labml_docs/" + p.relative_to(REPO).as_posix() for p in (REPO / "templates").rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts}
    assert sorted(expected - set(names)) == []


def test_wheel_installs_the_labml_docs_command(wheel_names):
    _, entry_points = wheel_names
    assert "[console_scripts]" in entry_points
    assert "labml-docs = labml_docs.build:main" in entry_points.splitlines()
