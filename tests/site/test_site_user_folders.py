"""The generator on folders nobody here wrote: one small fixture per fault found on the labml-nn corpus.

Raw-HTML anchors, extension-less links, TeX that Markdown used to swallow, a Latin-1 coding cookie, bytes
that were once in-band math placeholders, an output folder holding the user's own files, modes a web
server can read, the command run from another folder, no site config, and a broken link among good pages.
"""
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from site_core_helpers import build, make_project, tree_bytes, write_tree

REPO_ROOT = Path(__file__).resolve().parents[2]


def shown(path: Path) -> str:
    """How the build names a file in messages: relative to the working folder when inside it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def test_links_to_anchors_that_raw_html_defines_are_not_broken(tmp_path):
    project = make_project(tmp_path, {
        "__init__.py": '"""\n# Home\n\nSee [prepare](mha.html#PrepareMHA) and [top](mha.py#top).\n"""\n',
        "mha.py": '"""\n# MHA\n"""\n\n# <a id="PrepareMHA"></a>\n# ## Prepare\nx = 1\n\n'
                  "# <a name='top'></a>\ny = 2\n",
    })
    result = build(project)
    assert result.ok and result.warnings == []


def test_extension_less_links_resolve_as_a_static_host_serves_them(tmp_path):
    project = make_project(tmp_path, {
        "__init__.py": '"""\n# Home\n\n[FFN](transformers/feed_forward) and [MHA](transformers#x) [gone](nothere)\n"""\n',
        "transformers/__init__.py": '"""\n# Transformers\n\n<a id="x"></a>\n\n[FFN](feed_forward), [up](../)\n"""\n',
        "transformers/feed_forward.py": '"""\n# FFN\n\nBack to [the folder](../transformers).\n"""\n',
    })
    result = build(project)
    assert result.warnings == [f"{shown(project['source'] / '__init__.py')}:4: broken link -> nothere: "
                               "nothere does not exist (no page or file)"]


def test_tex_that_markdown_used_to_swallow_is_typeset(tmp_path):
    project = make_project(tmp_path, {
        "__init__.py": '"""\n# Home\n"""\n',
        "norm.py": 'r"""\n# Norm\n\nThe norm is\n$$\\gamma a\n+ \\beta$$\nand\n$$x\n- y$$\n'
                   'with $a + b $ a space before the dollar.\n"""\n\n'
                   "# An indented align in a comment:\n#\n#     \\begin{align}\n#     y &= x \\\\\n"
                   "#     z &= y\n#     \\end{align}\nz = 1\n",
    })
    result = build(project)
    assert result.ok and result.warnings == []
    page = (project["out"] / "norm.html").read_text()
    assert page.count("<mjx-container") == 4
    shown = re.sub(r' data-tex="[^"]*"', "", page)      # each equation keeps its TeX for copying
    assert "<li>" not in shown and "\\begin{align}" not in shown and "$a + b $" not in shown


def test_a_latin_1_coding_cookie_is_decoded_as_python_does(tmp_path):
    project = make_project(tmp_path, {
        "__init__.py": '"""\n# Home\n"""\n',
        "latin.py": "# -*- coding: latin-1 -*-\n# Caf\xe9 notes\nname = 'caf\xe9'\n".encode("latin-1"),
    })
    result = build(project)
    assert result.ok and result.warnings == []
    page = (project["out"] / "latin.html").read_text(encoding="utf-8")
    assert "Café notes" in page and "café" in page


def test_old_placeholder_bytes_in_prose_and_code_are_shown_as_written(tmp_path):
    project = make_project(tmp_path, {
        "__init__.py": '"""\n# Home\n\nProse \x020\x03 and \x041\x05 then $x$.\n"""\n'
                       "# A comment \x020\x03\ncode = '\x020\x03'\n",
    })
    result = build(project)
    assert result.ok and result.warnings == []
    page = (project["out"] / "index.html").read_text()
    assert page.count("<mjx-container") == 1
    assert page.count("\x020\x03") == 3 and "\x041\x05" in page


FOREIGN = {"CNAME": "docs.sample-lab.net\n", ".nojekyll": "", ".git/HEAD": "ref: refs/heads/gh-pages\n",
           ".git/objects/ab": "blob", "notes/todo.txt": "mine\n"}


def test_files_the_build_did_not_write_stay_in_the_output_folder(tmp_path):
    project = make_project(tmp_path, {"__init__.py": '"""\n# Home\n"""\n', "a.py": "x = 1\n"})
    out = project["out"]
    write_tree(out, FOREIGN)
    inode = (out / "CNAME").stat().st_ino
    assert build(project).ok
    assert {rel: (out / rel).read_text() for rel in FOREIGN} == FOREIGN
    assert (out / "CNAME").stat().st_ino == inode and (out / "a.html").is_file()
    (project["source"] / "a.py").unlink()                    # a page of ours goes: only it is removed
    assert build(project).ok
    assert not (out / "a.html").exists()
    assert {rel: (out / rel).read_text() for rel in FOREIGN} == FOREIGN
    assert build(project, check=True).ok                      # foreign files do not make the site stale


def test_a_foreign_file_where_a_page_goes_is_refused_and_nothing_is_lost(tmp_path):
    project = make_project(tmp_path, {"__init__.py": '"""\n# Home\n"""\n'})
    out = project["out"]
    write_tree(out, {"index.html": "<p>my own page</p>\n", "CNAME": "x\n"})
    before = tree_bytes(out)
    result = build(project)
    assert not result.ok and "index.html" in result.errors[0] and "not written by" in result.errors[0]
    assert tree_bytes(out) == before


def test_the_output_is_readable_by_a_web_server(tmp_path):
    old = os.umask(0o022)
    try:
        project = make_project(tmp_path, {"__init__.py": '"""\n# Home\n"""\n', "sub/a.py": "x = 1\n"})
        assert build(project).ok
    finally:
        os.umask(old)
    out = project["out"]
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [out, *out.rglob("*")]}
    assert modes["."] == 0o755 and modes["sub"] == 0o755 and modes["static"] == 0o755
    assert {mode for rel, mode in modes.items() if (out / rel).is_file()} == {0o644}


def test_the_installed_command_builds_a_folder_from_anywhere_without_config(tmp_path):
    command = Path(sys.executable).with_name("labml-docs")
    assert command.is_file(), f"{command} missing: run `pip install -e .` (make setup does)"
    source = write_tree(tmp_path / "my_notes", {
        "__init__.py": '"""\n# My notes\n\nSee [the model](model.py).\n"""\n',
        "model.py": 'r"""\n# A model\n\n$y = Wx$\n"""\nimport torch\n'})
    elsewhere = tmp_path / "somewhere_else"
    elsewhere.mkdir()
    result = subprocess.run([str(command), "--source", str(source), "--out", "site", "--cache-dir",
                             str(tmp_path / "cache")], cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    index = (elsewhere / "site/index.html").read_text()
    assert "<title>My notes · my_notes</title>" in index
    assert 'rel="canonical"' not in index and "og:url" not in index and "view-source" not in index
    assert "example" not in index and not (elsewhere / "site/sitemap.xml").exists()
    assert (elsewhere / "site/model.html").read_text().count("<mjx-container") == 1


def test_python_m_utils_build_from_the_repository_root_still_works(tmp_path):
    source = write_tree(tmp_path / "pkg", {"__init__.py": '"""\n# Home\n"""\n'})
    result = subprocess.run([sys.executable, "-m", "utils.build", "--source", str(source), "--out",
                             str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--strict"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out/index.html").is_file()


def test_a_broken_link_among_good_pages_costs_only_a_warning_unless_strict(tmp_path):
    project = make_project(tmp_path, {
        "__init__.py": '"""\n# Home\n\n[Good](good.py) [bad](missing.py)\n"""\n',
        "good.py": '"""\n# Good\n"""\nx = 1\n',
        "other.py": '"""\n# Other\n"""\ny = 2\n'})
    strict = build(project, strict=True)
    assert not strict.ok and len(strict.warnings) == 1 and "missing.html" in strict.warnings[0]
    assert not project["out"].exists()
    lenient = build(project)
    assert lenient.ok and lenient.warnings == strict.warnings
    assert all((project["out"] / name).is_file() for name in ("index.html", "good.html", "other.html"))
    again = build(project)                                    # no change: the warning is reported again
    assert again.up_to_date and again.warnings == strict.warnings
