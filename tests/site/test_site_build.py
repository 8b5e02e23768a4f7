"""Whole builds of a small fixture package (utils/build.py): links, atomic failure, determinism,
--check, incremental rebuilds, sitemap and the CLI's `file:line` errors. Builds go to tmp dirs only."""
import os
import re
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
    assert 'href="https://docs.sample-lab.net/test/opt/adam.html"' in adam                       # canonical
    assert 'href="https://code.sample-lab.net/test/blob/main/pkg/opt/adam.py"' in adam      # view source
    # No TeX left as text before the first equation (its data-tex attribute, kept for copying, aside)
    assert adam.count("<mjx-container") == 2 and "\\frac" not in re.sub(
        r' data-tex="[^"]*"', "", adam).split("<mjx-container")[0]
    assert 'data-tex="\\hat{m}_t = \\frac{m_t}{1-\\beta_1^t}"' in adam
    assert '<span class="line" id="L17"><span class="lineno">17</span>' in adam         # original numbers
    assert "# keep this comment" in adam                                                 # end-of-line comment
    # Reading order from the links of opt/__init__.py: RAdam, Adam, then the notes
    assert 'rel="prev" href="../opt/radam.html"' in adam and 'rel="next" href="../opt/readme.html"' in adam
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
    assert locs == ["https://docs.sample-lab.net/test/", "https://docs.sample-lab.net/test/opt/adam.html",
                    "https://docs.sample-lab.net/test/opt/", "https://docs.sample-lab.net/test/opt/radam.html",
                    "https://docs.sample-lab.net/test/opt/readme.html"]
    assert (project["out"] / "404.html").is_file()


def test_link_checker_warns_about_planted_broken_links_with_source_line_and_the_site_still_builds(tmp_path):
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
    radam = _shown(project, "opt/radam.py")
    assert result.warnings == [
        f"{radam}:5: broken link -> missing.html: opt/missing.html does not exist (no page or file)",
        f"{radam}:5: broken link -> adam.html#no-such-heading: opt/adam.html has no anchor #no-such-heading",
        f"{radam}:7: broken link -> nope.png: opt/nope.png does not exist (no page or file)",
    ]
    assert result.ok and result.swapped
    assert (project["out"] / "opt/radam.html").is_file() and (project["out"] / "opt/adam.html").is_file()


def _shown(project, rel):
    path = project["source"] / rel
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


FAULTY_SOURCES = {
    "opt/adam.py": "x = 1\n\ndef broken(:\n    pass\n",
    "opt/latin1.py": b"# ok\n# caf\xe9\nx = 1\n",
    "opt/bad_tex.py": 'r"""\n# Bad\n\nFine $x$, then\n$\\frac{a}{$\n"""\n',
    "opt/radam.py": '"""\n# RAdam\n\n[x](nowhere.html)\n"""\n',
}


def _plant_faults(project):
    for rel, content in FAULTY_SOURCES.items():
        path = project["source"] / rel
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    shown = {rel: _shown(project, rel) for rel in FAULTY_SOURCES}
    return [
        f"{shown['opt/adam.py']}:3: syntax error: invalid syntax",
        f"{shown['opt/bad_tex.py']}:5: invalid TeX: \\frac{{a}}{{ -- MathJax: Missing close brace",
        f"{shown['opt/latin1.py']}:2: not valid UTF-8 (byte 0xe9); save the file as UTF-8",
        f"{shown['opt/radam.py']}:4: broken link -> nowhere.html: opt/nowhere.html does not exist (no page or file)",
    ]


def test_faults_in_pages_are_warnings_and_every_page_still_builds_showing_them(project):
    expected = _plant_faults(project)
    result = build(project)
    assert result.warnings == expected
    assert result.ok and not result.errors
    out = project["out"]
    adam = (out / "opt/adam.html").read_text()
    assert "could not be built" in adam and 'id="L3"' in adam and "broken" in adam   # notice, then source
    assert "could not be built" in (out / "opt/latin1.html").read_text()
    bad = (out / "opt/bad_tex.html").read_text()
    assert bad.count("<mjx-container") == 1 and 'class="math math-error"' in bad and "$\\frac{a}{$" in bad
    assert (out / "opt/readme.html").is_file() and (out / "index.html").is_file()


def test_strict_build_fails_on_warnings_and_leaves_previous_site_intact(project):
    assert build(project, strict=True).ok
    before = tree_bytes(project["out"])
    expected = _plant_faults(project)
    result = build(project, strict=True)
    assert result.warnings == expected and not result.ok
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


def test_the_404_page_is_rendered_again_only_when_the_site_tree_or_settings_change(project):
    (project["templates"] / "404.html").write_text("{{ site.title }} {{ site.tree | tojson }}\n")
    assert build(project).ok
    not_found = project["out"] / "404.html"
    first = not_found.stat().st_ino
    radam = project["source"] / "opt/radam.py"
    radam.write_text(radam.read_text().replace("x = 1", "x = 2"))
    assert build(project).swapped
    assert not_found.stat().st_ino == first            # the same file, linked into the new site
    (project["source"] / "glossary.md").write_text("# Glossary\n\nWords.\n")
    assert build(project).ok
    assert "Glossary" in not_found.read_text()          # a new page at the top of the site tree
    config = project["config"]
    config.write_text(config.read_text().replace("title:", "title: Renamed"))
    assert build(project).ok
    assert "Renamed" in not_found.read_text()


def test_a_damaged_cache_is_started_afresh_and_the_build_still_succeeds(project):
    assert build(project).ok
    pages = (project["out"] / "opt/adam.html").read_bytes()
    for name in ("math.sqlite", "pages.sqlite"):
        (project["cache_dir"] / name).write_bytes(b"not a database " * 500)
    adam = project["source"] / "opt/adam.py"
    adam.write_text(adam.read_text() + "\n")
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


def test_cli_prints_file_line_warnings_and_fails_only_under_strict(project):
    bad = project["source"] / "opt/bad.py"
    bad.write_text("def f(:\n    pass\n")
    command = [sys.executable, "-m", "utils.build", "--source", str(project["source"]), "--out",
               str(project["out"]), "--templates", str(project["templates"]), "--config", str(project["config"]),
               "--cache-dir", str(project["cache_dir"])]
    strict = subprocess.run(command + ["--strict"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert strict.returncode == 1
    assert f"{bad}:1: syntax error" in strict.stderr and "left unchanged" in strict.stderr
    assert not project["out"].exists()
    lenient = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert lenient.returncode == 0, lenient.stderr
    assert f"warning: {bad}:1: syntax error" in lenient.stderr
    assert lenient.stdout.startswith("built 6 pages into ") and "1 warning(s)" in lenient.stdout
    bad.unlink()
    built = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0 and built.stderr == "", built.stderr
    assert (project["out"] / "opt/adam.html").is_file() and not (project["out"] / "opt/bad.html").exists()
    check = subprocess.run(command + ["--check"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr


def test_every_option_has_help_and_the_exit_codes_are_documented():
    result = subprocess.run([sys.executable, "-m", "utils.build", "--help"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    from utils.build import argument_parser

    for action in argument_parser()._actions:
        assert action.help, action.option_strings
    assert "exit codes:" in result.stdout and "--strict" in result.stdout


def test_modules_are_never_imported_or_executed(tmp_path):
    marker = tmp_path / "executed"
    files = {"__init__.py": f'"""\n# Home\n"""\nopen({str(marker)!r}, "w").write("ran")\nraise SystemExit(3)\n'}
    project = make_project(tmp_path, files)
    assert build(project).ok
    assert not marker.exists()
    assert "SystemExit" in (project["out"] / "index.html").read_text()


def test_escaped_tex_in_a_docstring_without_r_prefix_is_a_warning(tmp_path):
    files = {"__init__.py": '"""\n# Home\n\nRate $\\\\eta$ here.\n"""\n',
             "raw.py": 'r"""\n# Raw\n\nRate $\\eta$ and a break $a \\\\ b$.\n"""\n'}
    project = make_project(tmp_path, files)
    result = build(project)
    assert result.warnings == [f"{_shown(project, '__init__.py')}:4: math `\\\\eta` in a docstring that is not raw: "
                             'make it r"""...""" and write `\\eta`']


def test_two_sources_that_would_write_the_same_page_are_a_warning(tmp_path):
    files = {"__init__.py": '"""\n# Home\n"""\n', "adam.py": "x = 1\n", "adam.md": "# Adam notes\n"}
    project = make_project(tmp_path, files)
    result = build(project)
    assert result.warnings == [f"{_shown(project, 'adam.py')}:1: not built: it would be adam.html, like adam.md; "
                               "rename one"]
    assert "Adam notes" in (project["out"] / "adam.html").read_text()


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


def test_index_pages_show_their_folder_as_cards_after_the_title_with_the_real_templates(project):
    from utils.build import DEFAULT_TEMPLATES

    result = build(project, templates=DEFAULT_TEMPLATES)
    assert result.ok, result.errors
    index = (project["out"] / "opt/index.html").read_text()
    cards = index[index.index('<nav class="contents"'):index.index("</nav>", index.index('<nav class="contents"'))]
    # In the order opt/__init__.py links them, with the front matter summary
    assert [cards.index(f'href="../opt/{name}.html"') for name in ("radam", "adam", "readme")] == sorted(
        cards.index(f'href="../opt/{name}.html"') for name in ("radam", "adam", "readme"))
    assert "<p>Adam, step by step.</p>" in cards
    assert index.index("<h1") < index.index("See ") < index.index('<nav class="contents"') < index.index('alt="a figure"')
    home = (project["out"] / "index.html").read_text()
    assert 'class="card"><a href="opt/index.html">Optimizers</a>' in home
