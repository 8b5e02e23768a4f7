"""Write the site into a temporary folder beside the output, then swap it in atomically.

A failed build removes its temporary folder and never touches the output. On Linux the swap is one
`renameat2(RENAME_EXCHANGE)` call; elsewhere two renames in a row.

The output folder is the user's: the build lists every file it writes in `OUTPUT_LIST` at the
output's root, and anything else found there (a `CNAME`, a `.git/` folder, notes) is foreign. Foreign
entries are moved, untouched, into the new output before the swap, so removing the previous site never
deletes them; one that sits where the build writes is refused (`OutputConflict`) instead.

Folders get mode 0o777 & ~umask and files 0o666 & ~umask (0755 / 0644 under the usual umask 022),
so a web server running as another user can read the site.
"""
import os
import shutil
import stat
import tempfile
from collections import deque
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

RENAME_EXCHANGE = 2
AT_FDCWD = -100

# The list of the files a build wrote, at the output's root: how a later build knows which are its own.
OUTPUT_LIST = ".labml-docs-files"
# How many paths a conflict message names before it only counts the rest.
NAMED_CONFLICTS = 3
_COMPARE_CHUNK = 1 << 16


class OutputConflict(Exception):
    """A foreign entry of the output folder sits where the build writes; `paths` are its site paths."""

    def __init__(self, message: str, paths: Iterable[str] = ()):
        super().__init__(message)
        self.paths = list(paths)


# --- modes ---------------------------------------------------------------------------------------------
def current_umask() -> int:
    """The process umask. Linux shows it in /proc, read without changing anything; elsewhere it can only
    be read by setting it, so it is set back at once."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def folder_mode(umask: Optional[int] = None) -> int:
    return 0o777 & ~(current_umask() if umask is None else umask)


def file_mode(umask: Optional[int] = None) -> int:
    return 0o666 & ~(current_umask() if umask is None else umask)


def _real_output(out: Path) -> Path:
    """`out`, or the folder it links to: a symlinked output is the user's link and stays one."""
    out = Path(out)
    return Path(os.path.realpath(out)) if out.is_symlink() else out


# --- writing the staging folder ------------------------------------------------------------------------
def make_staging_folder(out: Path) -> Path:
    out = _real_output(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-build-", dir=str(out.parent)))
    os.chmod(staging, folder_mode())  # mkdtemp makes it 0700, and it becomes the output
    return staging


def _new_file(staging: Path, rel: str) -> str:
    """The path for `rel` in `staging`, its folders made and nothing left at it: a hard link there would
    be written through into the current output, and a fresh file gets the normal mode. (Strings, not Path:
    a rebuild of 220 unchanged pages links each one.)"""
    path = os.path.join(staging, rel)
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):   # a stat: cheaper than makedirs' error for a folder that exists
        os.makedirs(folder, exist_ok=True)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return path


def write_file(staging: Path, rel: str, data) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(_new_file(staging, rel), "wb") as file:
        file.write(data)


def copy_file(staging: Path, rel: str, source: Path) -> None:
    # copyfile copies no mode bits, so the new file has 0o666 & ~umask whatever the source's mode
    shutil.copyfile(source, _new_file(staging, rel))


def link_or_copy(staging: Path, rel: str, existing: Path, mode: Optional[int] = None) -> None:
    """Hard-link an unchanged file of the current output into `staging`, or copy it where links fail
    (another filesystem, no link support) or its mode is not the normal one, `file_mode()` unless given
    (a chmod would change the live output)."""
    path = _new_file(staging, rel)
    info = os.lstat(existing)
    if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == (file_mode() if mode is None else mode):
        try:
            os.link(existing, path, follow_symlinks=False)
            return
        except OSError:
            pass
    shutil.copyfile(existing, path)


def write_output_list(staging: Path, rels: Iterable[str]) -> None:
    """Write OUTPUT_LIST into `staging`: the site paths written, sorted, one a line (not itself)."""
    rels = sorted(set(rels) - {OUTPUT_LIST})
    bad = [rel for rel in rels if "\n" in rel or not rel]
    if bad:
        raise ValueError(f"site paths that {OUTPUT_LIST} cannot list: {bad[:NAMED_CONFLICTS]!r}")
    text = "".join(rel + "\n" for rel in rels)
    with open(_new_file(staging, OUTPUT_LIST), "wb") as file:
        file.write(text.encode("utf-8", "surrogateescape"))


# --- which entries of the output are ours ---------------------------------------------------------------
def own_files(out: Path) -> Optional[Set[str]]:
    """The site paths out/OUTPUT_LIST lists; None when there is none (not built by us, or by a version
    before the list)."""
    path = Path(out) / OUTPUT_LIST
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return {line for line in data.decode("utf-8", "surrogateescape").split("\n") if line}


def _ancestors(rels: Iterable[str]) -> Set[str]:
    """Every folder that holds one of `rels`: 'a/b/c.html' -> {'a', 'a/b'}."""
    folders = set()
    for rel in rels:
        parts = rel.split("/")[:-1]
        for end in range(1, len(parts) + 1):
            folders.add("/".join(parts[:end]))
    return folders


def _scan_output(out: Path) -> Tuple[Dict[str, os.stat_result], List[str]]:
    """(our files -> their stat, foreign entries) of an output folder. Only the folders that hold files
    of ours are read: a foreign folder, `.git` say, is one entry whatever it holds."""
    out = Path(out)
    if not out.is_dir():
        return {}, []
    listed = own_files(out)
    if listed is None:
        return {}, sorted(os.listdir(out))
    ours = listed | {OUTPUT_LIST}
    our_folders = _ancestors(ours)
    files: Dict[str, os.stat_result] = {}
    foreign: List[str] = []

    def scan(folder: Path, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False) and rel in our_folders:
                    scan(Path(entry.path), rel + "/")
                elif entry.is_file(follow_symlinks=False) and rel in ours:
                    files[rel] = entry.stat(follow_symlinks=False)
                else:  # symlinks too: the build never writes one
                    foreign.append(rel)

    scan(out, "")
    return files, sorted(foreign)


def foreign_entries(out: Path) -> List[str]:
    """Site paths of the highest entries of `out` that hold no file the build wrote, e.g. ['.git',
    'CNAME', 'notes/todo.txt']; every entry when `out` has no OUTPUT_LIST; [] when `out` is missing."""
    return _scan_output(out)[1]


def _plan_moves(out: Path, foreign: List[str], kind_in_new: Callable[[str], Optional[str]]
                ) -> Tuple[List[str], List[Tuple[str, str]]]:
    """Where the foreign entries go in the new site: (entries to move as they are, conflicts as (path,
    detail)). `kind_in_new(rel)` is 'file', 'folder' or None for what the new site has at `rel`. A
    foreign folder where the new site also has a folder is merged: its entries are placed one by one."""
    moves: List[str] = []
    conflicts: List[Tuple[str, str]] = []
    pending = deque(foreign)
    while pending:
        rel = pending.popleft()
        kind = kind_in_new(rel)
        path = Path(out) / rel
        is_folder = path.is_dir() and not path.is_symlink()
        if kind is None:
            moves.append(rel)
        elif kind == "folder" and is_folder:
            pending.extend(sorted(f"{rel}/{name}" for name in os.listdir(path)))
        elif kind == "folder":
            conflicts.append((rel, " (a file where the site needs a folder)"))
        elif is_folder:
            conflicts.append((rel, " (a folder where the site writes a file)"))
        else:
            conflicts.append((rel, ""))
    return moves, conflicts


def _conflict_error(out: Path, conflicts: List[Tuple[str, str]], listed: bool) -> OutputConflict:
    named = [f"{Path(out) / rel}{detail}" for rel, detail in conflicts[:NAMED_CONFLICTS]]
    more = len(conflicts) - len(named)
    one = len(conflicts) == 1
    if one:
        names = named[0]
    elif more:
        names = ", ".join(named) + f" and {more} more"
    else:
        names = ", ".join(named[:-1]) + " and " + named[-1]
    if listed:
        why = f"{'it is' if one else 'they are'} not in {Path(out) / OUTPUT_LIST}"
    else:
        why = f"{out} has no {OUTPUT_LIST}, the list of the files a build wrote; older versions wrote none"
    pronoun = "it" if one else "them"
    message = (f"{names} {'was' if one else 'were'} not written by this generator ({why}): "
               f"move {pronoun} or delete {pronoun}, then build again")
    return OutputConflict(message, [rel for rel, _ in conflicts])


def check_conflicts(out: Path, generated: Iterable[str]) -> None:
    """Raise OutputConflict when a foreign entry of `out` sits where the build writes one of the site
    paths `generated` (the same path, or a file where a folder is needed); call it before building."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputConflict(f"{out} is a file, not a folder: move it or delete it, then build again",
                             [""])
    files = set(generated) | {OUTPUT_LIST}
    folders = _ancestors(files)
    _, conflicts = _plan_moves(out, foreign_entries(out), lambda rel: "file" if rel in files
                               else "folder" if rel in folders else None)
    if conflicts:
        raise _conflict_error(out, conflicts, own_files(out) is not None)


# --- comparing ---------------------------------------------------------------------------------------------
def _all_files(root: Path) -> Dict[str, os.stat_result]:
    files = {}
    if not Path(root).is_dir():
        return files
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            files[Path(path).relative_to(root).as_posix()] = os.stat(path)
    return files


def list_files(root: Path) -> Dict[str, Tuple[int, int]]:
    """site path -> (size, mtime_ns) of every file under `root` (sorted walk)."""
    return {rel: (info.st_size, info.st_mtime_ns) for rel, info in _all_files(root).items()}


def list_own_files(out: Path) -> Dict[str, Tuple[int, int]]:
    """site path -> (size, mtime_ns) of the files of `out` the build wrote (OUTPUT_LIST included)."""
    return {rel: (info.st_size, info.st_mtime_ns) for rel, info in _scan_output(out)[0].items()}


def _same_bytes(a: Path, b: Path) -> bool:
    with open(a, "rb") as first, open(b, "rb") as second:
        while True:
            chunk = first.read(_COMPARE_CHUNK)
            if chunk != second.read(_COMPARE_CHUNK):
                return False
            if not chunk:
                return True


def compare_trees(expected: Path, actual: Path) -> List[str]:
    """Differences between a fresh build and an output folder, e.g. ['changed: index.html', 'missing:
    a.html', 'extra: b.html']. Foreign entries of `actual` are not part of the site and are ignored."""
    want, have = _all_files(expected), _scan_output(actual)[0]
    problems = [f"missing: {rel}" for rel in want if rel not in have]
    problems += [f"extra: {rel}" for rel in have if rel not in want]
    for rel, mine in want.items():
        theirs = have.get(rel)
        if theirs is None or (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino):
            continue  # a hard link to the output's own file is equal without reading it
        if mine.st_size != theirs.st_size or not _same_bytes(Path(expected) / rel, Path(actual) / rel):
            problems.append(f"changed: {rel}")
    return sorted(problems)


def trees_differ(expected: Path, actual: Path, first: Iterable[str] = ()) -> bool:
    """Whether `compare_trees` would find a difference. The site paths in `first` (say, the pages rendered
    afresh) are compared before anything else: one that changed answers without walking either tree."""
    for rel in first:
        mine, theirs = Path(expected) / rel, Path(actual) / rel
        try:
            if os.path.getsize(mine) != os.path.getsize(theirs) or not _same_bytes(mine, theirs):
                return True
        except OSError:   # not in the output (or not a file there)
            return True
    return bool(compare_trees(expected, actual))


# --- swapping ----------------------------------------------------------------------------------------------
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


def _kind_at(path: Path) -> Optional[str]:
    try:
        return "folder" if stat.S_ISDIR(os.lstat(path).st_mode) else "file"
    except FileNotFoundError:
        return None


def _swap(staging: Path, out: Path) -> Path:
    """Exchange `staging` and `out`; returns where the previous site now is."""
    if _exchange(staging, out):
        return staging
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=str(out.parent)))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(old, out)  # the previous site back, rather than no site
        raise
    return old


def swap_into_place(staging: Path, out: Path) -> None:
    """Make `staging` the new `out`, keeping out's foreign entries (moved over, untouched); the previous
    site is removed afterwards. Raises OutputConflict, having moved nothing, when a foreign entry sits
    where `staging` has something."""
    staging, out = Path(staging), _real_output(out)
    os.chmod(staging, folder_mode())  # it becomes the output, which a web server must be able to read
    if not out.exists():
        os.rename(staging, out)
        return
    if not out.is_dir():
        raise OutputConflict(f"{out} is a file, not a folder: move it or delete it, then build again", [""])
    moves, conflicts = _plan_moves(out, foreign_entries(out), lambda rel: _kind_at(staging / rel))
    if conflicts:
        raise _conflict_error(out, conflicts, own_files(out) is not None)
    moved: List[str] = []
    try:
        for rel in moves:
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            os.rename(out / rel, staging / rel)  # same filesystem: staging is beside out
            moved.append(rel)
        old = _swap(staging, out)
    except BaseException:
        # The caller discards `staging` on failure: the user's entries must not be in it then.
        for rel in reversed(moved):
            try:
                os.rename(staging / rel, out / rel)
            except OSError:
                pass
        raise
    shutil.rmtree(old)  # the previous site, its foreign entries already moved out


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
