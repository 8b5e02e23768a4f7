"""Write the site into a temporary folder beside the output, then swap it in atomically.

A failed build removes its temporary folder and never touches the output. On Linux the swap is one
`renameat2(RENAME_EXCHANGE)` call; elsewhere two renames in a row.
"""
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

RENAME_EXCHANGE = 2
AT_FDCWD = -100


def make_staging_folder(out: Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}-build-", dir=str(out.parent)))


def write_file(staging: Path, rel: str, data) -> None:
    path = staging / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def copy_file(staging: Path, rel: str, source: Path) -> None:
    path = staging / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, path)


def list_files(root: Path) -> Dict[str, Tuple[int, int]]:
    """site path -> (size, mtime_ns) of every file under `root` (sorted walk)."""
    files = {}
    if not Path(root).is_dir():
        return files
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            stat = os.stat(path)
            files[Path(path).relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return files


def compare_trees(expected: Path, actual: Path) -> List[str]:
    """Differences between two folders, e.g. ['changed: index.html', 'missing: a.html', 'extra: b.html']."""
    want, have = list_files(expected), list_files(actual)
    problems = [f"missing: {rel}" for rel in want if rel not in have]
    problems += [f"extra: {rel}" for rel in have if rel not in want]
    for rel in want:
        if rel in have and (want[rel][0] != have[rel][0]
                            or (Path(expected) / rel).read_bytes() != (Path(actual) / rel).read_bytes()):
            problems.append(f"changed: {rel}")
    return sorted(problems)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False when the system cannot."""
    import ctypes  # here, not at the top: only a rebuild over an existing site swaps

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2  # the C library this process already has
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(AT_FDCWD, os.fsencode(str(a)), AT_FDCWD, os.fsencode(str(b)), RENAME_EXCHANGE)
    return result == 0


def swap_into_place(staging: Path, out: Path) -> None:
    """Make `staging` the new `out`; the previous `out` is removed afterwards."""
    staging, out = Path(staging), Path(out)
    if not out.exists():
        os.rename(staging, out)
        return
    if _exchange(staging, out):
        shutil.rmtree(staging)  # now holds the previous site
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=str(out.parent)))
    os.rmdir(old)
    os.rename(out, old)
    os.rename(staging, out)
    shutil.rmtree(old)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
