"""Preview the site: `python -m utils.serve --source labml_nn --out docs` (`make serve`).

Serves the output folder on 127.0.0.1 only, and rebuilds when a source, template, the site config or the
generator changes (mtimes are polled; no extra dependency). One MathJax worker stays up between rebuilds,
and each rebuild re-renders only the pages whose inputs changed. A failed rebuild prints its
`file:line` errors and keeps serving the last good site. A change to the generator's own code restarts
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

from .build import DEFAULT_CACHE, DEFAULT_CONFIG, DEFAULT_TEMPLATES, _input_fingerprint, build_site
from .build_cache import generator_files, stat_fingerprint


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")  # always show the latest build
        super().end_headers()


def _report(result, out: Path) -> None:
    stamp = time.strftime("%H:%M:%S")
    if result.errors:
        for line in result.errors:
            print(line, file=sys.stderr)
        print(f"[{stamp}] build failed: {len(result.errors)} error(s); still serving the previous {out}/",
              file=sys.stderr, flush=True)
    elif not result.up_to_date:
        print(f"[{stamp}] rebuilt {result.pages_rendered} of {result.pages_total} pages "
              f"({result.equations_typeset} equation(s) typeset, {result.seconds:.2f} s)", flush=True)


def serve(source: Path, out: Path, port: int, interval: float, templates: Path, config: Path,
          cache_dir: Path) -> None:
    from .typeset_math import MathTypesetter

    typesetter = MathTypesetter(cache_dir)
    out = Path(out).resolve()

    def rebuild():
        result = build_site(source, out, templates, config, cache_dir, typesetter=typesetter)
        _report(result, out)

    last = _input_fingerprint(source, out, templates, config)
    generator = stat_fingerprint(generator_files())
    rebuild()
    handler = functools.partial(_Handler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"serving {out}/ on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops); "
          f"watching {source}/, {templates}/, {config.name}", flush=True)
    try:
        while True:
            time.sleep(interval)
            try:
                now = _input_fingerprint(source, out, templates, config)
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
    parser.add_argument("--source", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between checks for changes")
    parser.add_argument("--templates", type=Path, default=DEFAULT_TEMPLATES)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    serve(args.source, args.out, args.port, args.interval, args.templates, args.config, args.cache_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
