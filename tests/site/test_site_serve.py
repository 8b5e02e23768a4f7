"""`make serve` (utils/serve.py): serves on 127.0.0.1 only and rebuilds when a source is saved."""
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from site_core_helpers import make_project

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def listening_addresses(port: int):
    """IPv4 addresses listening on `port`, read from /proc/net/tcp (LISTEN is state 0A)."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == "0A" and int(port_hex, 16) == port:
            found.append(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def wait_for(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def test_serve_listens_on_localhost_only_and_rebuilds_on_save(tmp_path):
    project = make_project(tmp_path, {"__init__.py": '"""\n# Home\n\nVersion one, $x^2$.\n"""\n'})
    port = free_port()
    command = [sys.executable, "-m", "utils.serve", "--source", str(project["source"]), "--out",
               str(project["out"]), "--port", str(port), "--interval", "0.2", "--templates",
               str(project["templates"]), "--config", str(project["config"]), "--cache-dir", str(project["cache_dir"])]
    server = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        home = f"http://127.0.0.1:{port}/index.html"
        assert wait_for(lambda: "Version one" in fetch(home), 60)
        assert listening_addresses(port) == ["127.0.0.1"]

        (project["source"] / "__init__.py").write_text('"""\n# Home\n\nVersion two, $x^2$.\n"""\n')
        assert wait_for(lambda: "Version two" in fetch(home), 30)

        (project["source"] / "broken.py").write_text("def broken(:\n")
        broken = f"http://127.0.0.1:{port}/broken.html"
        assert wait_for(lambda: "could not be built" in fetch(broken), 30)   # a warning: its page says why
        assert "Version two" in fetch(home)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "broken.py:1: syntax error" in output
