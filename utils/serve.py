"""Preview the site: `python -m utils.serve --source labml_nn --out docs` (`make serve`).

Serves the output folder on 127.0.0.1 only, and rebuilds when a source, template, the site config or the
generator changes (mtimes are polled; no extra dependency). One MathJax worker stays up between rebuilds,
and each rebuild re-renders only the pages whose inputs changed. Warnings are printed as `file:line:
reason`; a failed rebuild (or, with --strict, one with warnings) keeps serving the last good site. A change to the generator's own code restarts
the process, so the new code is what renders.
"""
import argparse
import functools
import http.server
import os
import sys
import threading
import time
from pathlib import Path

from .build import DEFAULT_CACHE, DEFAULT_TEMPLATES, _input_fingerprint, build_site
from .build_cache import generator_files, stat_fingerprint
from .site_config import find_config


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")  # always show the latest build
        super().end_headers()


def _report(result, out: Path) -> None:
    stamp = time.strftime("%H:%M:%S")
    if not result.up_to_date:
        for line in result.warnings:
            print(f"warning: {line}", file=sys.stderr)
    if not result.ok:
        for line in result.errors:
            print(f"error: {line}", file=sys.stderr)
        print(f"[{stamp}] build failed: {len(result.errors)} error(s), {len(result.warnings)} warning(s); still "
              f"serving the previous {out}/", file=sys.stderr, flush=True)
    elif not result.up_to_date:
        print(f"[{stamp}] rebuilt {result.pages_rendered} of {result.pages_total} pages "
              f"({result.equations_typeset} equation(s) typeset, {result.seconds:.2f} s)", flush=True)


def serve(source: Path, out: Path, port: int, interval: float, templates: Path, config, cache_dir: Path,
          strict: bool = False) -> None:
    from .typeset_math import MathTypesetter

    typesetter = MathTypesetter(cache_dir)
    out = Path(out).resolve()

    def rebuild():
        result = build_site(source, out, templates, config, cache_dir, strict=strict, typesetter=typesetter)
        _report(result, out)

    def fingerprint():
        return _input_fingerprint(source, out, templates, config or find_config(source), strict)

    last = fingerprint()
    generator = stat_fingerprint(generator_files())
    rebuild()
    handler = functools.partial(_Handler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"serving {out}/ on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops); "
          f"watching {source}/ and {templates}/", flush=True)
    try:
        while True:
            time.sleep(interval)
            try:
                now = fingerprint()
            except FileNotFoundError:
                continue  # a file vanished mid-save; look again next time
            if now != last:
                last = now
                if stat_fingerprint(generator_files()) != generator:
                    # This process runs the old generator code: start afresh with the new one.
                    print("the generator changed: restarting", flush=True)
                    server.shutdown()
                    server.server_close()
                    typesetter.close()
                    os.execv(sys.executable, [sys.executable, "-m", "utils.serve", *sys.argv[1:]])
                rebuild()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        typesetter.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, type=Path, help="folder of .py and .md files to build from")
    parser.add_argument("--out", required=True, type=Path, help="folder the site is written to and served from")
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between checks for changes")
    parser.add_argument("--templates", type=Path, default=DEFAULT_TEMPLATES, help="Jinja2 templates to use")
    parser.add_argument("--config", type=Path, help="site settings in YAML (default: site.yaml found next to "
                                                    "the source, as in utils.build)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="where builds keep their cache")
    parser.add_argument("--strict", action="store_true", help="a rebuild with warnings keeps the previous site")
    args = parser.parse_args(argv)
    serve(args.source, args.out, args.port, args.interval, args.templates, args.config, args.cache_dir,
          args.strict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
