"""Whole builds of a small fixture package (utils/build.py): links, atomic failure, determinism,
--check, incremental rebuilds, sitemap and the CLI's `file:line` errors. Builds go to tmp dirs only."""
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from site_core_helpers import GOOD_PACKAGE, build, make_project, tree_bytes

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path, GOOD_PACKAGE)


def test_build_writes_every_page_with_typeset_math_navigation_and_copied_images(project):
    result = build(project)
    assert result.ok, result.errors
    out = project["out"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")) == [
        "404.html", "index.html", "opt/adam.html", "opt/index.html", "opt/radam.html", "opt/readme.html"]
    adam = (out / "opt/adam.html").read_text()
    assert "<title>Adam</title>" in adam and 'content="Adam, step by step."' in adam
    assert 'href="https://example.org/test/opt/adam.html"' in adam                       # canonical
    assert 'href="https://git.example.org/test/blob/main/pkg/opt/adam.py"' in adam      # view source
    assert adam.count("<mjx-container") == 2 and "\\frac" not in adam.split("<mjx-container")[0]
    assert '<span class="line" id="L17"><span class="lineno">17</span>' in adam         # original numbers
    assert "# keep this comment" in adam                                                 # end-of-line comment
    assert 'rel="prev" href="../opt/index.html"' in adam and 'rel="next" href="../opt/radam.html"' in adam
    assert '>RAdam</a>' in adam                     # no front matter: the first heading is the title
    readme = (out / "opt/readme.html").read_text()
    assert "<title>Notes</title>" in readme and readme.count("<mjx-container") == 1
    assert '<pre class="code-block">' not in readme                                      # prose only
    radam = (out / "opt/radam.html").read_text()
    assert "Costs $5 and $10." in radam and 'href="adam.html"' in radam                  # radam.py -> page
    assert (out / "opt/figure.svg").read_bytes() == (project["source"] / "opt/figure.svg").read_bytes()
    assert (out / "static/site.css").is_file() and "mjx-assistive-mml" in (out / "static/mathjax.css").read_text()
    assert "http" not in "".join(line for line in (out / "static/mathjax.css").read_text().splitlines())


def test_sitemap_has_declaration_on_line_one_and_parses(project):
    assert build(project).ok
    text = (project["out"] / "sitemap.xml").read_text()
    assert text.splitlines()[0] == '<?xml version="1.0" encoding="UTF-8"?>'
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = [e.text for e in ElementTree.fromstring(text.encode()).iter(namespace + "loc")]
    assert locs == ["https://example.org/test/", "https://example.org/test/opt/adam.html",
                    "https://example.org/test/opt/", "https://example.org/test/opt/radam.html",
                    "https://example.org/test/opt/readme.html"]
    assert (project["out"] / "404.html").is_file()


def test_link_checker_reports_planted_broken_links_with_source_line(tmp_path):
    files = dict(GOOD_PACKAGE)
    files["opt/radam.py"] = '''
        """
        # RAdam

        Fine: [Adam](adam.py#update-rule).
        Broken: [gone](missing.py) and [bad anchor](adam.html#no-such-heading).

        ![missing image](nope.png)
        """
        '''
    project = make_project(tmp_path, files)
    result = build(project)
    assert sorted(result.errors) == sorted([
        f"{_shown(project, 'opt/radam.py')}:5: broken link -> missing.html (no page or file opt/missing.html)",
        f"{_shown(project, 'opt/radam.py')}:5: broken link -> adam.html#no-such-heading "
        f"(no anchor #no-such-heading on opt/adam.html)",
        f"{_shown(project, 'opt/radam.py')}:7: broken link -> nope.png (no page or file opt/nope.png)",
    ])
    assert not project["out"].exists()


def _shown(project, rel):
    path = project["source"] / rel
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def test_failed_build_reports_every_failure_and_leaves_previous_site_intact(project):
    assert build(project).ok
    before = tree_bytes(project["out"])
    source = project["source"]
    (source / "opt/adam.py").write_text("x = 1\n\ndef broken(:\n    pass\n")
    (source / "opt/latin1.py").write_bytes(b"# ok\n# caf\xe9\nx = 1\n")
    (source / "opt/bad_tex.py").write_text('r"""\n# Bad\n\nFine $x$, then\n$\\frac{a}{$\n"""\n')
    (source / "opt/radam.py").write_text('"""\n# RAdam\n\n[x](nowhere.html)\n"""\n')
    result = build(project)
    shown = {rel: _shown(project, rel) for rel in ("opt/adam.py", "opt/latin1.py", "opt/bad_tex.py", "opt/radam.py")}
    assert sorted(result.errors) == sorted([
        f"{shown['opt/adam.py']}:3: syntax error: invalid syntax",
        f"{shown['opt/latin1.py']}:2: not valid UTF-8 (byte 0xe9); save the file as UTF-8",
        f"{shown['opt/bad_tex.py']}:5: invalid TeX: \\frac{{a}}{{ -- MathJax: Missing close brace",
        f"{shown['opt/radam.py']}:4: broken link -> nowhere.html (no page or file opt/nowhere.html)",
    ])
    assert not result.swapped
    assert tree_bytes(project["out"]) == before                        # old site untouched
    leftovers = [p.name for p in project["out"].parent.iterdir() if p.name.startswith(".docs-build")]
    assert leftovers == []                                             # no staging folder left behind


def test_two_builds_are_byte_identical(tmp_path):
    first = make_project(tmp_path / "a", GOOD_PACKAGE)
    second = make_project(tmp_path / "b", GOOD_PACKAGE)
    assert build(first).ok and build(second).ok
    one, two = tree_bytes(first["out"]), tree_bytes(second["out"])
    assert one.keys() == two.keys() and len(one) > 5
    # Only the configured repository path of the source folder may differ; here both are named pkg.
    assert one == two


def test_no_change_rebuild_does_nothing_and_one_change_rerenders_one_page(project):
    assert build(project).ok
    out = project["out"]
    stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = build(project)
    assert again.up_to_date and again.pages_rendered == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamp
    radam = project["source"] / "opt/radam.py"
    radam.write_text(radam.read_text().replace("x = 1", "x = 2"))
    changed = build(project)
    assert changed.ok and changed.swapped
    assert changed.pages_rendered == 1 and changed.equations_typeset == 0
    assert '<span class="mi">2</span>' in (out / "opt/radam.html").read_text()


def test_a_damaged_cache_is_started_afresh_and_the_build_still_succeeds(project):
    assert build(project).ok
    pages = (project["out"] / "opt/adam.html").read_bytes()
    for name in ("math.sqlite", "pages.sqlite"):
        (project["cache_dir"] / name).write_bytes(b"not a database " * 500)
    radam = project["source"] / "opt/radam.py"
    radam.write_text(radam.read_text() + "\n")
    rebuilt = build(project)
    assert rebuilt.ok, rebuilt.errors
    assert rebuilt.equations_typeset > 0   # the math cache was lost, so its equations were typeset again
    assert (project["out"] / "opt/adam.html").read_bytes() == pages


def test_template_change_rerenders_every_page(project):
    assert build(project).ok
    page = project["templates"] / "page.html"
    page.write_text(page.read_text().replace("<body>", "<body class='v2'>"))
    result = build(project)
    assert result.ok and result.pages_rendered == result.pages_total == 5
    assert "class='v2'" in (project["out"] / "opt/adam.html").read_text()


def test_check_mode_detects_stale_output_without_touching_it(project):
    assert build(project).ok
    assert build(project, check=True).ok
    index = project["out"] / "opt/index.html"
    index.write_text(index.read_text() + "<!-- edited -->")
    before = tree_bytes(project["out"])
    result = build(project, check=True)
    assert result.differences == ["changed: opt/index.html"]
    assert tree_bytes(project["out"]) == before


def test_cli_prints_file_line_errors_and_exits_non_zero(project):
    bad = project["source"] / "opt/bad.py"
    bad.write_text("def f(:\n    pass\n")
    command = [sys.executable, "-m", "utils.build", "--source", str(project["source"]), "--out",
               str(project["out"]), "--templates", str(project["templates"]), "--config", str(project["config"]),
               "--cache-dir", str(project["cache_dir"])]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert f"{bad}:1: syntax error" in result.stderr
    assert not project["out"].exists()
    bad.unlink()
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout to a pipe: buffered
    built = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=buffered)
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("built 5 pages into ")   # flushed before the CLI skips Python's teardown
    assert (project["out"] / "opt/adam.html").is_file()
    check = subprocess.run(command + ["--check"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr


def test_modules_are_never_imported_or_executed(tmp_path):
    marker = tmp_path / "executed"
    files = {"__init__.py": f'"""\n# Home\n"""\nopen({str(marker)!r}, "w").write("ran")\nraise SystemExit(3)\n'}
    project = make_project(tmp_path, files)
    assert build(project).ok
    assert not marker.exists()
    assert "SystemExit" in (project["out"] / "index.html").read_text()


def test_escaped_tex_in_a_docstring_without_r_prefix_is_an_error(tmp_path):
    files = {"__init__.py": '"""\n# Home\n\nRate $\\\\eta$ here.\n"""\n',
             "raw.py": 'r"""\n# Raw\n\nRate $\\eta$ and a break $a \\\\ b$.\n"""\n'}
    project = make_project(tmp_path, files)
    result = build(project)
    assert result.errors == [f"{_shown(project, '__init__.py')}:4: math `\\\\eta` in a docstring that is not raw: "
                             'make it r"""...""" and write `\\eta`']


def test_two_sources_that_would_write_the_same_page_are_an_error(tmp_path):
    files = {"__init__.py": '"""\n# Home\n"""\n', "adam.py": "x = 1\n", "adam.md": "# Adam notes\n"}
    project = make_project(tmp_path, files)
    result = build(project)
    assert result.errors == [f"{_shown(project, 'adam.py')}:1: becomes adam.html, like adam.md: rename one"]


def test_compiled_templates_are_used_only_while_their_source_is_unchanged(project, monkeypatch):
    import jinja2

    from utils import render_page

    compiled = []
    real_compile = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile",
                        lambda self, source, name=None, filename=None, *a, **k: compiled.append(name) or
                        real_compile(self, source, name, filename, *a, **k))
    templates = project["templates"]
    assert build(project).ok and compiled == ["page.html"]
    assert not (templates / render_page.COMPILED_DIR).exists()      # a build never writes compiled code
    render_page.warm_templates(templates, write_compiled=True)     # what `make bytecode` does
    render_page._environment.cache_clear()                        # as in a new process
    compiled.clear()
    (project["source"] / "opt/radam.py").write_text((project["source"] / "opt/radam.py").read_text() + "\n")
    assert build(project).ok and compiled == []                    # unchanged: its compiled code is used
    page = templates / "page.html"
    page.write_text(page.read_text().replace("<body>", "<body><p>edited after compiling</p>"))
    render_page._environment.cache_clear()
    result = build(project)
    assert result.ok and result.pages_rendered == result.pages_total and compiled == ["page.html"]
    assert "edited after compiling" in (project["out"] / "opt/adam.html").read_text()


def test_template_errors_fail_the_build_with_file_and_line(project):
    assert build(project).ok
    before = tree_bytes(project["out"])
    page = project["templates"] / "page.html"
    page.write_text("<html>\n{% for x in %}\n</html>\n")
    result = build(project)
    assert len(result.errors) == 1
    assert result.errors[0].startswith(f"{page}:2: template syntax error:")
    page.unlink()
    assert build(project).errors == [f"{page}:1: template not found"]
    assert tree_bytes(project["out"]) == before
