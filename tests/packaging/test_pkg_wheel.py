"""The built wheel ships the library only: no top-level `utils`, `tests` or `docs`."""
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_contains_only_the_labml_nn_package(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(REPO)], check=True, cwd=tmp_path)
    wheel, = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"labml_nn"}
    assert "labml_nn/optimizers/adam.py" in names
    assert "labml_nn/optimizers/radam_r_t.svg" in names
