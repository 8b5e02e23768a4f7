"""MathJax as the build uses it (utils/mathjax_install.py, utils/mathjax_worker.js, utils/typeset_math.py):
CommonHTML output whose answers do not depend on order, a stylesheet whose fonts the site ships, MathJax found
wherever the generator is installed, and an esbuild bundle of the worker that answers exactly as the plain one."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import utils.mathjax_install as mathjax_install
import utils.typeset_math as typeset_math
from utils.typeset_math import WORKER, MathJaxUnavailable, MathTypesetter

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")
# Equations that leave something behind in MathJax's state (numbering, labels, macros, operators, colours),
# then equations that would read it.
STATE_CHANGERS = [
    ("\\begin{equation}a = b \\label{eq:first}\\end{equation}", True),
    ("\\newcommand{\\loss}{\\mathcal{L}} \\loss(\\theta)", False),
    ("\\def\\half{\\frac{1}{2}} \\half x", False),
    ("\\DeclareMathOperator{\\softmax}{softmax} \\softmax(x)", False),
    ("\\definecolor{mine}{RGB}{10,20,30} \\color{mine}{y}", False),
    ("\\renewcommand{\\alpha}{\\beta} \\alpha", False),
    ("\\begin{align} x &= 1 \\\\ y &= 2 \\end{align}", True),
]
READERS = [
    ("\\begin{equation}c = d\\end{equation} \\eqref{eq:first}", True),
    ("\\loss + \\half + \\softmax(z)", False),
    ("\\color{mine}{z} + \\alpha", False),
    ("\\hat{m}_t = \\frac{m_t}{1 - \\beta_1^t}", True),
]
BAD_TEX = ("\\frac{a", False)


def _typeset(cache: Path, batches):
    """Each batch typeset in turn by one typesetter (one worker); all answers, and the stylesheet."""
    setter = MathTypesetter(cache)
    try:
        results = {}
        for batch in batches:
            results.update(setter.typeset(batch))
        return results, setter.stylesheet()
    finally:
        setter.close()


def test_chtml_with_assistive_mathml_and_bad_tex_answers_with_the_error(tmp_path):
    results, css = _typeset(tmp_path, [[("\\frac{a}{b}", True), ("x_i^2", False), BAD_TEX]])
    for request in [("\\frac{a}{b}", True), ("x_i^2", False)]:
        ok, html = results[request]
        assert ok and html.startswith('<mjx-container class="MathJax" jax="CHTML"')
        assert re.search(r"<mjx-assistive-mml[^>]*><math[ >].*</math></mjx-assistive-mml>", html)
    assert 'display="true"' in results[("\\frac{a}{b}", True)][1]
    assert results[BAD_TEX] == (False, "Missing close brace")
    assert "mjx-container" in css and "mjx-assistive-mml" in css


def test_an_equation_and_the_stylesheet_do_not_depend_on_what_was_typeset_before(tmp_path):
    alone = {}
    for i, request in enumerate(READERS + [BAD_TEX]):
        results, css_alone = _typeset(tmp_path / f"alone{i}", [[request]])
        alone.update(results)
    after, css_after = _typeset(tmp_path / "after", [STATE_CHANGERS, READERS + [BAD_TEX]])
    assert {r: after[r] for r in alone} == alone
    assert css_after == css_alone
    # The definitions did work inside their own equations, and are gone for the later ones.
    assert all(after[r][0] for r in STATE_CHANGERS)
    assert after[("\\loss + \\half + \\softmax(z)", False)] == (False, "Undefined control sequence \\loss")


def test_every_font_the_stylesheet_names_is_a_relative_file_the_site_ships(tmp_path):
    _, css = _typeset(tmp_path, [[("x", False)]])
    urls = [url.strip("'\"") for url in re.findall(r"url\(([^)]*)\)", css)]
    assert len(urls) > 10
    assert all(url.startswith("mathjax-fonts/") and url.endswith(".woff") for url in urls), urls
    fonts = mathjax_install.mathjax_font_files()
    assert all(site.startswith("static/mathjax-fonts/") and path.is_file() for site, path in fonts.items())
    # The site serves the stylesheet at static/mathjax.css, so its relative URLs resolve under static/.
    assert {f"static/{url}" for url in urls} <= fonts.keys()


def _fake_node_modules(folder: Path) -> Path:
    (folder / "mathjax-full").mkdir(parents=True)
    (folder / "mathjax-full" / "package.json").write_text('{"name": "mathjax-full", "version": "9.9.9"}')
    return folder


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No MathJax anywhere: an empty repository root, no variable, no npm global folder."""
    monkeypatch.setattr(mathjax_install, "REPO_ROOT", tmp_path / "repo")
    monkeypatch.delenv(mathjax_install.NODE_MODULES_VARIABLE, raising=False)
    monkeypatch.setattr(mathjax_install, "_npm_global_root", lambda: None)
    return tmp_path


def test_mathjax_is_found_by_the_variable_then_the_repository_then_npm_global(nowhere, monkeypatch):
    assert mathjax_install.find_node_modules() is None
    global_root = _fake_node_modules(nowhere / "global")
    monkeypatch.setattr(mathjax_install, "_npm_global_root", lambda: global_root)
    assert mathjax_install.find_node_modules() == global_root.resolve()
    repo = _fake_node_modules(nowhere / "repo" / "node_modules")
    assert mathjax_install.find_node_modules() == repo.resolve()
    chosen = _fake_node_modules(nowhere / "elsewhere" / "node_modules")
    monkeypatch.setenv(mathjax_install.NODE_MODULES_VARIABLE, str(chosen))
    assert mathjax_install.find_node_modules() == chosen.resolve()
    assert mathjax_install.mathjax_version() == "9.9.9"
    assert mathjax_install.worker_environment()["NODE_PATH"].split(":")[0] == str(chosen.resolve())


def test_missing_mathjax_is_one_line_saying_what_to_install(nowhere):
    message = mathjax_install.missing_mathjax_message()
    assert "\n" not in message and "npm install mathjax-full@3.2.2" in message
    with pytest.raises(mathjax_install.MathJaxNotFound) as fonts_error:
        mathjax_install.mathjax_font_files()
    assert "\n" not in str(fonts_error.value)
    setter = MathTypesetter(nowhere / "cache")
    try:
        with pytest.raises(MathJaxUnavailable) as error:
            setter.typeset([("x", False)])
    finally:
        setter.close()
    assert str(error.value) == message


def test_missing_node_is_one_line_saying_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))           # no node on it
    setter = MathTypesetter(tmp_path / "cache")
    setter.start_if_cache_empty()                        # quietly; the error comes with the equations
    try:
        with pytest.raises(MathJaxUnavailable, match="install Node.js") as error:
            setter.typeset([("x", False)])
    finally:
        setter.close()
    assert "\n" not in str(error.value)


def _answers(command, requests, cwd):
    stdin = "".join(json.dumps(r) + "\n" for r in requests)
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300, cwd=str(cwd),
                          env=mathjax_install.worker_environment())
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_worker_runs_from_a_folder_without_node_modules(tmp_path):
    # As when the generator is installed away from its MathJax: NODE_PATH alone leads it there.
    worker = tmp_path / "mathjax_worker.js"
    shutil.copy(WORKER, worker)
    answers = _answers([NODE, *mathjax_install.NODE_FLAGS, str(worker)],
                       [{"id": 1, "tex": "x", "display": False}], tmp_path)
    assert '"html"' in answers[0] and "jax=\\\"CHTML\\\"" in answers[0]


def test_the_worker_ignores_extra_certificates(monkeypatch, tmp_path):
    # Node would read every certificate listed before starting a worker that never opens a connection.
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(tmp_path / "bundle.pem"))
    assert "NODE_EXTRA_CA_CERTS" not in mathjax_install.worker_environment()


# -- the bundle ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    mathjax_install.make_bundle(WORKER, folder)
    return folder


def _site_requests():
    """Every equation of our own pages, and a few that fail or define things, as worker requests."""
    from utils.prepare_page import parse_page
    from utils.read_source import list_source_tree, read_source_file

    source = REPO_ROOT / "labml_nn"
    maths = set(STATE_CHANGERS + READERS + [BAD_TEX])
    for rel in list_source_tree(source)[0]:
        maths.update((m.tex, m.display) for m in parse_page(read_source_file(source, rel, "labml_nn")).maths)
    requests = [{"id": i, "tex": tex, "display": display} for i, (tex, display) in enumerate(sorted(maths), 1)]
    return requests + [{"id": 0, "stylesheet": True}]


def test_the_bundle_answers_every_equation_of_our_pages_byte_for_byte_like_the_plain_worker(bundle_folder):
    command = mathjax_install.worker_command(NODE, WORKER, bundle_folder)
    assert command[-1] == str(bundle_folder / "worker.bundle.js")
    # Its MathJax is compiled from the TypeScript sources; the plain worker runs the shipped js/.
    bundle = (bundle_folder / "worker.bundle.js").read_text()
    assert "mathjax-full/ts/input/tex/TexParser.ts" in bundle and "mathjax-full/js/" not in bundle
    requests = _site_requests()
    assert len(requests) > 100
    from_bundle = _answers(command, requests, REPO_ROOT)
    plain = _answers([NODE, *mathjax_install.NODE_FLAGS, str(WORKER)], requests, REPO_ROOT)
    assert len(from_bundle) == len(requests)
    assert from_bundle == plain
    assert sum('"error"' in line for line in plain) == 2       # \frac{a and the reader of \loss


def test_a_bundle_of_another_worker_source_or_none_means_the_plain_worker(bundle_folder, tmp_path):
    edited = tmp_path / "mathjax_worker.js"
    edited.write_text(WORKER.read_text() + "\n// edited\n")
    assert mathjax_install.worker_bundle(edited, bundle_folder) is None
    assert mathjax_install.worker_command(NODE, edited, bundle_folder) == [
        NODE, *mathjax_install.NODE_FLAGS, str(edited)]
    assert mathjax_install.worker_command(NODE, WORKER, tmp_path / "none")[-1] == str(WORKER)


def test_make_bundle_without_esbuild_says_how_to_install_it_and_leaves_no_stamp(tmp_path, monkeypatch):
    node_modules = _fake_node_modules(tmp_path / "node_modules")     # MathJax, but no .bin/esbuild
    monkeypatch.setenv(mathjax_install.NODE_MODULES_VARIABLE, str(node_modules))
    with pytest.raises(RuntimeError, match="npm ci"):
        mathjax_install.make_bundle(WORKER, tmp_path / "out")
    assert not (tmp_path / "out" / "stamp.json").exists()


def test_the_typesetter_answers_the_same_from_the_bundle_and_the_plain_worker(bundle_folder, tmp_path,
                                                                              monkeypatch):
    requests = READERS + STATE_CHANGERS + [BAD_TEX]
    monkeypatch.setattr(typeset_math, "worker_command",
                        lambda node, worker: mathjax_install.worker_command(node, worker, bundle_folder))
    from_bundle = _typeset(tmp_path / "bundle", [requests])
    monkeypatch.setattr(typeset_math, "worker_command",
                        lambda node, worker: [node, *mathjax_install.NODE_FLAGS, str(worker)])
    assert _typeset(tmp_path / "plain", [requests]) == from_bundle


def test_an_answer_cut_short_when_the_worker_is_stopped_ends_the_reader_quietly():
    import threading
    from types import SimpleNamespace

    worker = SimpleNamespace(stdout=[b'{"id": 1, "html": "<mjx-container>"}\n', b'{"id": 2, "html": "<mj'])
    answers, answered = {}, threading.Condition()
    MathTypesetter._read_answers(worker, answers, answered)   # raised JSONDecodeError on the cut line
    assert answers[1]["html"] == "<mjx-container>"
    assert 2 not in answers and answers[-1] == {"stopped": True}   # waiting callers learn the worker is gone
