"""utils/write_site.py: the output folder is the user's.

The build only replaces the files it listed in OUTPUT_LIST; anything else there (a CNAME, a .git/
folder, notes) survives a rebuild untouched, and one in the way of the build is refused. The site is
readable by a web server running as another user, and the swap stays atomic.
"""

import os
import stat
from pathlib import Path

import pytest

from utils import write_site
from utils.write_site import (OUTPUT_LIST, OutputConflict, check_conflicts, compare_trees, copy_file,
                              foreign_entries, link_or_copy, list_own_files, make_staging_folder, own_files,
                              swap_into_place, trees_differ, write_file, write_output_list)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def build(out: Path, pages: dict) -> None:
    """One build the way utils/build.py does it: staging, the list, the swap."""
    check_conflicts(out, list(pages) + [OUTPUT_LIST])
    staging = make_staging_folder(out)
    for rel, text in pages.items():
        write_file(staging, rel, text)
    write_output_list(staging, pages)
    swap_into_place(staging, out)


def add_foreign(out: Path) -> dict:
    """The user's own entries in the output; returns {site path: (inode, mtime_ns, text)}."""
    entries = {"CNAME": "example.org\n", ".nojekyll": "", ".git/HEAD": "ref: refs/heads/main\n",
               ".git/objects/x": "object", "notes.txt": "mine"}
    for rel, text in entries.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
        os.utime(out / rel, ns=(1_000_000_000, 1_000_000_000))
    return {rel: (os.stat(out / rel).st_ino, os.stat(out / rel).st_mtime_ns, text)
            for rel, text in entries.items()}


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_foreign_files_survive_a_rebuild_with_same_content_and_inode(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "one", "optimizers/adam.html": "adam"})
    before = add_foreign(out)
    build(out, {"index.html": "two", "optimizers/adam.html": "adam 2"})
    for rel, (inode, mtime_ns, text) in before.items():
        assert (out / rel).read_text() == text
        assert os.stat(out / rel).st_ino == inode
        assert os.stat(out / rel).st_mtime_ns == mtime_ns
    assert (out / "index.html").read_text() == "two"
    assert not list(tmp_path.glob(".docs-*")), "the staging and old folders are removed"


def test_foreign_entries_are_the_highest_entries_without_our_files(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "x", "notes/page.html": "p"})
    add_foreign(out)
    (out / "notes" / "todo.txt").write_text("todo")
    assert foreign_entries(out) == [".git", ".nojekyll", "CNAME", "notes.txt", "notes/todo.txt"]
    assert own_files(out) == {"index.html", "notes/page.html"}


def test_foreign_file_in_a_folder_of_ours_stays_when_the_build_leaves_that_folder(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "x", "notes/page.html": "p"})
    (out / "notes" / "todo.txt").write_text("todo")
    build(out, {"index.html": "x"})
    assert (out / "notes" / "todo.txt").read_text() == "todo"
    assert not (out / "notes" / "page.html").exists()


def test_foreign_folder_merges_with_a_folder_the_build_now_writes(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "x"})
    (out / "notes").mkdir()
    (out / "notes" / "todo.txt").write_text("todo")
    build(out, {"index.html": "x", "notes/page.html": "p"})
    assert (out / "notes" / "todo.txt").read_text() == "todo"
    assert (out / "notes" / "page.html").read_text() == "p"


def test_page_listed_last_time_but_not_generated_now_is_removed(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "x", "old.html": "gone soon", "old/deep.html": "also"})
    build(out, {"index.html": "x"})
    assert not (out / "old.html").exists()
    assert not (out / "old").exists()
    assert own_files(out) == {"index.html"}


def test_output_list_is_sorted_one_path_a_line_without_itself(tmp_path):
    write_output_list(tmp_path, ["b.html", "a/c.html", OUTPUT_LIST, "a/c.html"])
    assert (tmp_path / OUTPUT_LIST).read_text() == "a/c.html\nb.html\n"


def test_no_output_list_is_none_and_missing_output_has_no_foreign_entries(tmp_path):
    assert own_files(tmp_path / "absent") is None
    assert foreign_entries(tmp_path / "absent") == []
    check_conflicts(tmp_path / "absent", ["index.html"])


def test_folders_are_0755_and_files_0644_under_umask_022(tmp_path, umask_022):
    source = tmp_path / "secret.css"
    source.write_text("body {}")
    source.chmod(0o600)
    out = tmp_path / "site" / "docs"
    staging = make_staging_folder(out)
    write_file(staging, "a/b/page.html", "p")
    copy_file(staging, "static/style.css", source)
    write_output_list(staging, ["a/b/page.html", "static/style.css"])
    swap_into_place(staging, out)
    for folder in (out, out / "a", out / "a" / "b", out / "static"):
        assert mode(folder) == 0o755, folder
    for file in (out / "a/b/page.html", out / "static/style.css", out / OUTPUT_LIST):
        assert mode(file) == 0o644, file


def test_rebuild_over_an_existing_output_keeps_the_root_0755(tmp_path, umask_022):
    out = tmp_path / "docs"
    build(out, {"index.html": "one"})
    out.chmod(0o700)  # as the mkdtemp-made output of an older version
    build(out, {"index.html": "two"})
    assert mode(out) == 0o755


def test_modes_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        out = tmp_path / "docs"
        build(out, {"a/index.html": "x"})
        assert (mode(out), mode(out / "a"), mode(out / "a/index.html")) == (0o750, 0o750, 0o640)
    finally:
        os.umask(previous)


def test_current_umask_reads_without_changing_it(umask_022):
    assert write_site.current_umask() == 0o022
    assert os.umask(0o022) == 0o022


def test_foreign_file_at_a_generated_path_is_refused_and_output_unchanged(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "ours"})
    (out / "about.html").write_text("the user's")
    before = {path: path.read_bytes() for path in out.rglob("*")}
    with pytest.raises(OutputConflict) as error:
        build(out, {"index.html": "ours 2", "about.html": "generated"})
    assert str(out / "about.html") in str(error.value)
    assert OUTPUT_LIST in str(error.value)
    assert error.value.paths == ["about.html"]
    assert {path: path.read_bytes() for path in out.rglob("*")} == before


def test_swap_refuses_a_collision_without_moving_anything(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "ours"})
    add_foreign(out)
    (out / "about.html").write_text("the user's")  # appears while the build runs: after check_conflicts
    staging = make_staging_folder(out)
    write_file(staging, "index.html", "new")
    write_file(staging, "about.html", "generated")
    with pytest.raises(OutputConflict):
        swap_into_place(staging, out)
    assert (out / "CNAME").exists() and (out / ".git" / "HEAD").exists()
    assert not (staging / "CNAME").exists()


def test_foreign_file_where_the_build_needs_a_folder_is_refused(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "x"})
    (out / "optimizers").write_text("a file")
    with pytest.raises(OutputConflict, match="a file where the site needs a folder") as error:
        check_conflicts(out, ["index.html", "optimizers/adam.html"])
    assert str(out / "optimizers") in str(error.value)


def test_foreign_folder_where_the_build_writes_a_file_is_refused(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "x"})
    (out / "about.html").mkdir()
    with pytest.raises(OutputConflict, match="a folder where the site writes a file"):
        check_conflicts(out, ["index.html", "about.html"])


def test_conflict_message_names_a_few_paths_and_counts_the_rest(tmp_path):
    out = tmp_path / "docs"
    out.mkdir()
    pages = [f"p{n}.html" for n in range(5)]
    for rel in pages:
        (out / rel).write_text("old")
    with pytest.raises(OutputConflict, match="and 2 more were not written") as error:
        check_conflicts(out, pages)
    assert error.value.paths == pages


def test_without_a_list_every_entry_is_foreign_and_a_page_there_conflicts(tmp_path):
    out = tmp_path / "docs"
    (out / "optimizers").mkdir(parents=True)
    (out / "index.html").write_text("built by an older version")
    (out / "optimizers" / "adam.html").write_text("old")
    assert own_files(out) is None
    assert foreign_entries(out) == ["index.html", "optimizers"]
    with pytest.raises(OutputConflict, match=f"has no {OUTPUT_LIST}") as error:
        check_conflicts(out, ["index.html", "optimizers/adam.html"])
    assert error.value.paths == ["index.html", "optimizers/adam.html"]


def test_first_build_into_a_folder_of_unrelated_files_keeps_them(tmp_path):
    out = tmp_path / "docs"
    out.mkdir()
    before = add_foreign(out)
    build(out, {"index.html": "x"})
    assert set(foreign_entries(out)) == {".git", ".nojekyll", "CNAME", "notes.txt"}
    assert all(os.stat(out / rel).st_ino == inode for rel, (inode, _, _) in before.items())


def test_compare_trees_ignores_foreign_entries(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "x", "a/b.html": "y"})
    add_foreign(out)
    staging = make_staging_folder(out)
    write_file(staging, "index.html", "x")
    write_file(staging, "a/b.html", "y")
    write_output_list(staging, ["index.html", "a/b.html"])
    assert compare_trees(staging, out) == []


def test_compare_trees_reports_changed_missing_and_extra_own_files(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "x", "gone.html": "g", "same.html": "s"})
    add_foreign(out)
    staging = make_staging_folder(out)
    write_file(staging, "index.html", "y")  # same size, other bytes
    write_file(staging, "same.html", "s")
    write_file(staging, "new.html", "n")
    write_output_list(staging, ["index.html", "same.html", "new.html"])
    assert compare_trees(staging, out) == [
        f"changed: {OUTPUT_LIST}", "changed: index.html", "extra: gone.html", "missing: new.html"]


def test_trees_differ_answers_from_the_files_named_first_and_else_compares_everything(tmp_path, monkeypatch):
    out = tmp_path / "docs"
    build(out, {"index.html": "x", "a/b.html": "y"})
    add_foreign(out)
    staging = make_staging_folder(out)
    write_file(staging, "index.html", "x")
    write_file(staging, "a/b.html", "z")
    write_output_list(staging, ["index.html", "a/b.html"])
    assert trees_differ(staging, out)                   # nothing named first: the whole comparison
    walked = []
    monkeypatch.setattr(write_site, "compare_trees", lambda *args: walked.append(args) or [])
    assert trees_differ(staging, out, ["a/b.html"]) and walked == []      # answered without a walk
    assert trees_differ(staging, out, ["new.html"]) and walked == []      # not in the output: differs
    assert not trees_differ(staging, out, ["index.html"]) and len(walked) == 1   # equal: walks the rest


def test_compare_trees_treats_hard_links_as_equal_without_reading(tmp_path, monkeypatch):
    out = tmp_path / "docs"
    build(out, {"index.html": "x"})
    staging = make_staging_folder(out)
    link_or_copy(staging, "index.html", out / "index.html")
    link_or_copy(staging, OUTPUT_LIST, out / OUTPUT_LIST)
    monkeypatch.setattr(write_site, "_same_bytes", lambda a, b: pytest.fail("read a hard-linked file"))
    assert compare_trees(staging, out) == []


def test_list_own_files_leaves_foreign_files_out(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "x"})
    add_foreign(out)
    assert set(list_own_files(out)) == {"index.html", OUTPUT_LIST}


def test_link_or_copy_hard_links_an_unchanged_file(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "x"})
    staging = make_staging_folder(out)
    link_or_copy(staging, "index.html", out / "index.html")
    assert os.stat(staging / "index.html").st_ino == os.stat(out / "index.html").st_ino


def test_link_or_copy_copies_when_links_fail(tmp_path, monkeypatch):
    out = tmp_path / "docs"
    build(out, {"index.html": "x"})
    staging = make_staging_folder(out)

    def no_links(*args, **kwargs):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_links)
    link_or_copy(staging, "deep/index.html", out / "index.html")
    assert (staging / "deep/index.html").read_text() == "x"
    assert os.stat(staging / "deep/index.html").st_ino != os.stat(out / "index.html").st_ino


def test_writing_over_a_hard_link_leaves_the_current_output_alone(tmp_path):
    out = tmp_path / "docs"
    build(out, {"index.html": "live"})
    staging = make_staging_folder(out)
    link_or_copy(staging, "index.html", out / "index.html")
    write_file(staging, "index.html", "new")
    assert (out / "index.html").read_text() == "live"


def test_swap_without_renameat2_keeps_foreign_files(tmp_path, monkeypatch):
    monkeypatch.setattr(write_site, "_exchange", lambda a, b: False)
    out = tmp_path / "docs"
    build(out, {"index.html": "one"})
    before = add_foreign(out)
    build(out, {"index.html": "two"})
    assert (out / "index.html").read_text() == "two"
    for rel, (inode, _, text) in before.items():
        assert (out / rel).read_text() == text and os.stat(out / rel).st_ino == inode
    assert not list(tmp_path.glob(".docs-*"))


def test_failed_swap_puts_foreign_entries_back_before_staging_is_discarded(tmp_path, monkeypatch):
    out = tmp_path / "docs"
    build(out, {"index.html": "one"})
    add_foreign(out)
    staging = make_staging_folder(out)
    write_file(staging, "index.html", "two")

    def broken_swap(a, b):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(write_site, "_swap", broken_swap)
    with pytest.raises(OSError):
        swap_into_place(staging, out)
    assert (out / "CNAME").read_text() == "example.org\n"
    assert (out / ".git" / "HEAD").exists()
    assert (out / "index.html").read_text() == "one"


def test_first_build_renames_staging_into_place(tmp_path, umask_022):
    out = tmp_path / "new" / "docs"
    build(out, {"index.html": "x"})
    assert (out / "index.html").read_text() == "x" and mode(out) == 0o755
    assert own_files(out) == {"index.html"}


def test_symlinked_output_stays_a_link_to_the_rebuilt_folder(tmp_path):
    target = tmp_path / "www" / "site"
    build(target, {"index.html": "one"})
    (target / "CNAME").write_text("example.org\n")
    link = tmp_path / "docs"
    link.symlink_to(target)
    build(link, {"index.html": "two"})
    assert link.is_symlink()
    assert (target / "index.html").read_text() == "two"
    assert (target / "CNAME").read_text() == "example.org\n"
