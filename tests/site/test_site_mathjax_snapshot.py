"""The MathJax worker started from a V8 startup snapshot answers exactly as the plain worker, and a snapshot
that is stale or will not load is never a reason for a wrong page or a failed build."""
import json
import shutil
import subprocess

import pytest

import utils.mathjax_snapshot as mathjax_snapshot
from utils.typeset_math import WORKER, MathTypesetter

NODE = shutil.which("node")
REQUESTS = [{"id": 1, "tex": "\\textcolor{red}{x} + \\hat{\\beta}_1", "display": False},
            {"id": 2, "tex": "\\begin{align}a &= \\vert b \\vert \\\\ c &= \\frac{d}{e}\\end{align}", "display": True},
            {"id": 3, "tex": "\\frac{a}{", "display": False},
            {"id": 4, "stylesheet": True}]


@pytest.fixture(scope="module")
def snapshot_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("snapshot")
    mathjax_snapshot.make_snapshot(NODE, WORKER, folder)
    return folder


def _answers(command):
    stdin = "".join(json.dumps(r) + "\n" for r in REQUESTS)
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120,
                          cwd=str(mathjax_snapshot.REPO_ROOT))
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_snapshot_worker_answers_byte_for_byte_like_the_plain_worker(snapshot_folder):
    command = mathjax_snapshot.worker_command(NODE, WORKER, snapshot_folder)
    assert "--snapshot-blob" in command
    from_snapshot = _answers(command)
    plain = _answers([NODE, *mathjax_snapshot.NODE_FLAGS, str(WORKER)])
    assert from_snapshot == plain
    answers = {answer["id"]: answer for answer in map(json.loads, from_snapshot.splitlines())}
    assert all("<svg" in answers[i]["html"] and "<mjx-assistive-mml" in answers[i]["html"] for i in (1, 2))
    assert answers[3] == {"id": 3, "error": "Missing close brace"}
    assert "mjx-container" in answers[4]["css"]


def _site_requests():
    """Every equation our own pages send to MathJax, as worker requests."""
    from utils.build import prepare_notes
    from utils.read_source import list_source_tree, read_source_file

    source = mathjax_snapshot.REPO_ROOT / "labml_nn"
    maths = set()
    for rel in list_source_tree(source)[0]:
        maths.update((m.tex, m.display) for m in prepare_notes(read_source_file(source, rel, "labml_nn"))["maths"])
    return [{"id": i, "tex": tex, "display": display} for i, (tex, display) in enumerate(sorted(maths), start=1)]


def test_snapshot_compiled_from_typescript_typesets_every_equation_of_our_pages_like_the_plain_worker(
        snapshot_folder):
    # The snapshot's MathJax is compiled from the TypeScript sources, the plain worker runs the shipped js/.
    bundle = (snapshot_folder / "worker.bundle.js").read_text()
    assert "mathjax-full/ts/input/tex/TexParser.ts" in bundle and "mathjax-full/js/" not in bundle
    requests = _site_requests()
    assert len(requests) > 100
    stdin = "".join(json.dumps(r) + "\n" for r in requests)
    answers = []
    for command in (mathjax_snapshot.worker_command(NODE, WORKER, snapshot_folder),
                    [NODE, *mathjax_snapshot.NODE_FLAGS, str(WORKER)]):
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300,
                              cwd=str(mathjax_snapshot.REPO_ROOT))
        assert done.returncode == 0, done.stderr
        answers.append(done.stdout.splitlines())
    assert len(answers[0]) == len(requests)
    assert all('"html"' in line for line in answers[0])
    assert answers[0] == answers[1]


def test_a_snapshot_of_another_worker_source_is_not_used(snapshot_folder, tmp_path):
    edited = tmp_path / "mathjax_worker.js"
    edited.write_text(WORKER.read_text() + "\n// edited\n")
    assert mathjax_snapshot.snapshot_blob(NODE, edited, snapshot_folder) is None
    assert mathjax_snapshot.worker_command(NODE, edited, snapshot_folder)[-1] == str(edited)


def test_a_missing_snapshot_means_the_plain_worker(tmp_path):
    assert mathjax_snapshot.worker_command(NODE, WORKER, tmp_path / "none") == [
        NODE, *mathjax_snapshot.NODE_FLAGS, str(WORKER)]


def test_a_snapshot_that_will_not_load_falls_back_to_the_plain_worker(snapshot_folder, tmp_path, monkeypatch,
                                                                       capsys):
    # A blob Node rejects (as after a Node upgrade that kept the binary's size and time) but a matching stamp.
    broken = tmp_path / "broken"
    shutil.copytree(snapshot_folder, broken)
    (broken / "worker.blob").write_bytes(b"not a snapshot" * 100)
    monkeypatch.setattr(mathjax_snapshot, "SNAPSHOT_DIR", broken)
    setter = MathTypesetter(tmp_path / "cache")
    try:
        results = setter.typeset([("\\frac{a}{b}", True), ("\\frac{a}{", False)])
        assert setter._snapshot_failed
    finally:
        setter.close()
    ok, html = results[("\\frac{a}{b}", True)]
    assert ok and "<svg" in html and "<mjx-assistive-mml" in html
    assert results[("\\frac{a}{", False)] == (False, "Missing close brace")
    assert "snapshot would not load" in capsys.readouterr().err


def test_the_worker_ignores_node_options_and_extra_certificates(snapshot_folder, tmp_path, monkeypatch):
    # Both would slow the worker's start or stop its snapshot from loading; neither means anything to it.
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=123")
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(tmp_path / "no-such-bundle.pem"))
    monkeypatch.setattr(mathjax_snapshot, "SNAPSHOT_DIR", snapshot_folder)
    setter = MathTypesetter(tmp_path / "cache")
    try:
        ok, html = setter.typeset([("\\frac{a}{b}", True)])[("\\frac{a}{b}", True)]
        assert ok and "<svg" in html
        assert setter._from_snapshot and not setter._snapshot_failed
    finally:
        setter.close()


def test_make_snapshot_without_esbuild_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(mathjax_snapshot, "ESBUILD", tmp_path / "no-esbuild")
    with pytest.raises(RuntimeError, match="npm ci"):
        mathjax_snapshot.make_snapshot(NODE, WORKER, tmp_path / "out")
    assert not (tmp_path / "out" / "stamp.json").exists()
