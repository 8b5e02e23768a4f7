"""Build the site: `python -m utils.build --source labml_nn --out docs [--check]`.

Runs the stages in order (see utils/__init__.py) and passes plain dicts between them:

    read_source -> split_sections -> render_markdown -> typeset_math (equations sent to MathJax at once)
    -> highlight_code (while MathJax works) -> check_links -> render_page -> write_site (temporary
    folder, atomic swap)

Every failing source is reported as `file:line: reason`; the other pages still build, but the output is
not swapped and the command exits non-zero. `--check` builds into a temporary folder and compares it with
the output without touching it. Rebuilds skip what did not change: when no input changed at all, nothing
heavy is even imported.
"""
import argparse
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from .build_cache import (MATH_CACHE_FILE, REPO_ROOT, BuildCache, content_hash, generator_files, stat_fingerprint,
                          tree_files)
from .errors import SourceError, SourceErrors

DEFAULT_TEMPLATES = REPO_ROOT / "templates"
DEFAULT_CONFIG = REPO_ROOT / "site.yaml"
DEFAULT_CACHE = REPO_ROOT / ".docs-cache"
GENERATED_FILES = {"sitemap.xml", "404.html", "search-index.js", "static/mathjax.css"}


@dataclass
class BuildResult:
    errors: List[str] = field(default_factory=list)   # "file:line: reason"
    up_to_date: bool = False                         # nothing changed: nothing was built
    pages_total: int = 0
    pages_rendered: int = 0                          # pages whose HTML was rendered (not reused)
    equations_typeset: int = 0                       # equations sent to MathJax (not from the cache)
    swapped: bool = False
    differences: List[str] = field(default_factory=list)  # --check: how the output differs
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.differences


def _display_path(path: Path) -> str:
    """How a file is named in messages: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:
        return str(path)


def _repo_path(source: Path, rel: str) -> str:
    """Path of a source file in the repository, for "view source"."""
    full = (source / rel).resolve()
    try:
        return full.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return f"{source.resolve().name}/{rel}"


def _sha(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


# --- stage glue: one source file -> a page record with math placeholders -------------------------------
# Two steps, so that every equation of the build reaches MathJax before Python starts on the slow part
# (highlighting): Node typesets while Python highlights.
def prepare_notes(source) -> dict:
    """Split one source and render its notes; math is left as placeholders, the code column is not made yet
    (`add_code_columns` makes it)."""
    from .render_markdown import render_notes
    from .split_sections import split_source

    split = split_source(source.text, source.kind, source.display)
    ids = [f"section-{i}" for i in range(len(split.sections))]
    used_ids = set(ids)
    used_ids.update(f"L{n}" for section in split.sections for n, _ in section.code)
    sections, links, maths, fences, headings, problems = [], [], [], [], [], []
    for section_id, section in zip(ids, split.sections):
        notes = render_notes(section.notes, section.notes_lines, used_ids, first_math=len(maths),
                             first_fence=len(fences))
        if section.escaped_docstring:
            problems += _escaped_tex(notes.maths, source.display)
        maths += notes.maths
        fences += notes.fences
        links += [{"target": link.target, "line": link.line} for link in notes.links]
        headings += notes.headings
        sections.append({
            "id": section_id,
            "notes_html": notes.html,
            "notes_kind": section.notes_kind,
            "code_html": "",
            "notes_text": notes.text,
            "headings": [h["text"] for h in notes.headings],
        })
    if problems:
        raise SourceErrors(problems)
    rel = source.rel
    fallback = rel.rsplit("/", 2)[-2] if rel.endswith("__init__.py") and "/" in rel else (
        Path(rel).stem if not rel.endswith("__init__.py") else "Home")
    title = split.title or (headings[0]["text"] if headings else fallback)
    return {
        "title": title,
        "summary": split.summary,
        "is_markdown_page": source.kind == "markdown",
        "sections": sections,
        "links": links,
        "anchors": sorted(used_ids),
        "maths": maths,
        "code": [section.code for section in split.sections],   # taken by add_code_columns
        "fences": [(fence.code, fence.lang) for fence in fences],  # likewise
    }


def add_code_columns(record: dict, source) -> None:
    """Highlight the code of a prepared page into its sections' code columns, and its fenced code in the notes."""
    from .highlight_code import highlight_fenced_code, highlight_python_lines, render_code_column
    from .render_markdown import fill_fences

    fences = [highlight_fenced_code(code, lang) for code, lang in record.pop("fences")]
    if fences:
        for section in record["sections"]:
            section["notes_html"] = fill_fences(section["notes_html"], fences)
    code = record.pop("code")
    highlighted = {}
    if source.kind == "python":
        # Lex only what the code column shows: docstring and comment lines become blank (same numbering).
        shown = {n for lines in code for n, _ in lines}
        highlighted = highlight_python_lines("\n".join(
            line if number in shown else "" for number, line in enumerate(source.text.split("\n"), start=1)))
    for section, lines in zip(record["sections"], code):
        section["code_html"] = render_code_column(lines, highlighted)


ESCAPED_MACRO = re.compile(r"\\\\([A-Za-z]+)")


def _escaped_tex(maths, display: str) -> List[SourceError]:
    r"""`\\eta` in a docstring without the r prefix: Python reads `\eta`, but the page shows the text as written
    (docstrings are never evaluated), so MathJax would get a line break and the word "eta"."""
    problems = []
    for math in maths:
        found = ESCAPED_MACRO.search(math.tex)
        if found:
            problems.append(SourceError(display, math.line, f"math `{found.group(0)}` in a docstring that is not "
                                                            f'raw: make it r"""...""" and write `\\{found.group(1)}`'))
    return problems


def _typeset_page_math(record: dict, results: dict, display: str, errors: List[SourceError]) -> Optional[List[str]]:
    """The typeset HTML of each of the page's equations, in order; None (and errors added) when any is bad TeX."""
    typeset, ok = [], True
    for math in record["maths"]:
        good, html = results[(math.tex, math.display)]
        if not good:
            ok = False
            tex = " ".join(math.tex.split())
            errors.append(SourceError(display, math.line, f"invalid TeX: {tex} -- MathJax: {html}"))
        typeset.append(html)
    return typeset if ok else None


def _fill_record_math(record: dict, typeset: List[str]) -> None:
    """Put the typeset equations into the page record's notes (as the page cache keeps them)."""
    from .render_markdown import fill_math

    maths = record.pop("maths")
    for section in record["sections"]:
        section["notes_html"] = fill_math(section["notes_html"], maths, typeset)


# --- the build ----------------------------------------------------------------------------------------
def _input_fingerprint(source: Path, out: Path, templates: Path, config: Path) -> str:
    paths = tree_files(source) + tree_files(templates) + [config] + generator_files()
    args = json.dumps([str(p.resolve()) for p in (source, out, templates, config)])
    return stat_fingerprint(paths, extra=args)


def build_site(source: Path, out: Path, templates: Path = DEFAULT_TEMPLATES, config: Path = DEFAULT_CONFIG,
               cache_dir: Path = DEFAULT_CACHE, check: bool = False, typesetter=None) -> BuildResult:
    """Build `source` into `out` (or, with `check`, compare what would be built with `out`)."""
    from .write_site import list_files

    started = time.perf_counter()
    source, out, templates, config = Path(source), Path(out), Path(templates), Path(config)
    result = BuildResult()
    own_typesetter = typesetter is None
    if own_typesetter:
        from .typeset_math import MathTypesetter

        typesetter = MathTypesetter(cache_dir)
    cache = BuildCache(cache_dir)
    try:
        if not (Path(cache_dir) / MATH_CACHE_FILE).exists():
            # No math cache (a cold build): every equation will need MathJax, so Node starts loading it
            # before anything else is read.
            typesetter.start_if_cache_empty()
        fingerprint = _input_fingerprint(source, out, templates, config)
        manifest = cache.load_manifest(out)
        if not check and manifest.get("inputs") == fingerprint and manifest.get("outputs") == {
                k: list(v) for k, v in list_files(out).items()}:
            result.up_to_date = True
            result.pages_total = len(manifest.get("pages", {}))
        else:
            typesetter.start_if_cache_empty()  # Node loads MathJax while Python reads and prepares the pages
            _build(source, out, templates, config, cache, typesetter, check, manifest, fingerprint, result)
    finally:
        cache.close()
        if own_typesetter:
            typesetter.close()
    result.seconds = time.perf_counter() - started
    return result


def _build(source, out, templates, config_path, cache, typesetter, check, manifest, fingerprint, result):
    from .check_links import check_links
    from .read_source import list_source_tree, page_url, read_source_file
    from .render_markdown import fill_math
    from .render_page import has_template, render_template, warm_templates
    from .site_config import load_site_config
    from .site_navigation import breadcrumbs, build_tree, prev_next, root_prefix
    from .sitemap import page_address, make_sitemap
    from .typeset_math import MathJaxUnavailable
    from .write_site import (compare_trees, copy_file, discard, list_files, make_staging_folder,
                             swap_into_place, write_file)

    errors: List[SourceError] = []
    try:
        config = load_site_config(config_path)
    except (SourceError, OSError) as error:
        result.errors.append(str(error))
        return
    if not source.is_dir():
        result.errors.append(f"{source}:1: source folder not found")
        return

    version = content_hash(generator_files())
    page_rels, asset_rels = list_source_tree(source)
    display_root = _display_path(source)
    records: Dict[str, dict] = {}
    keys: Dict[str, str] = {}
    displays: Dict[str, str] = {}
    failed = set()
    pending = []
    source_of: Dict[str, str] = {}
    typesetter.request_stylesheet()  # answered before the equations, so the end does not wait for it
    for rel in page_rels:
        url = page_url(rel)
        if url in source_of:  # e.g. adam.py and adam.md, or __init__.py and index.py
            errors.append(SourceError(f"{display_root}/{rel}", 1, f"becomes {url}, like {source_of[url]}: rename one"))
            continue
        source_of[url] = rel
        src = read_source_file(source, rel, display_root)
        displays[url] = src.display
        if src.error:
            errors.append(src.error)
            failed.add(url)
            continue
        key = _sha(version, rel, hashlib.sha256(src.data).hexdigest())
        keys[url] = key
        cached = cache.get_page(key)
        if cached is not None:
            records[url] = cached
            continue
        try:
            record = prepare_notes(src)
        except SourceError as error:
            errors.append(error)
            failed.add(url)
            continue
        except SourceErrors as many:
            errors += many.errors
            failed.add(url)
            continue
        except Exception as error:  # a generator bug on an odd file: fail this page, still check the rest
            errors.append(SourceError(src.display, 1, f"generator error {type(error).__name__}: {error}"))
            failed.add(url)
            continue
        pending.append((url, record, src))
        try:
            typesetter.submit((m.tex, m.display) for m in record["maths"])  # MathJax starts right away
        except MathJaxUnavailable:
            pass  # reported once, below, when the equations are collected
    highlighted = []
    for url, record, src in pending:
        try:
            add_code_columns(record, src)
            highlighted.append((url, record, src))
        except Exception as error:  # as above: this page fails, the rest still build
            errors.append(SourceError(src.display, 1, f"generator error {type(error).__name__}: {error}"))
            failed.add(url)
    pending = highlighted

    # Links: every relative link in the notes must reach a page, an anchor or a file (no math needed).
    static_dir = templates / "static"
    static_files = {f"static/{p.relative_to(static_dir).as_posix()}" for p in tree_files(static_dir)} \
        if static_dir.is_dir() else set()
    linkable = dict(records)
    linkable.update((url, record) for url, record, _ in pending)
    anchors = {url: set(record["anchors"]) for url, record in linkable.items()}
    anchors.update({url: None for url in failed})
    link_errors, used_assets = check_links(
        [{"url": url, "display": displays[url], "links": linkable[url]["links"]} for url in sorted(linkable)],
        anchors, set(asset_rels), GENERATED_FILES | static_files)
    errors += link_errors
    if pending:
        warm_templates(templates)  # compile them while MathJax finishes

    # Pages: navigation, then templates. They are rendered while MathJax is still typesetting: a new page's
    # equations are placeholders until the math arrives. A page whose inputs all match the last build is
    # copied, not rendered.
    records.update((url, record) for url, record, _ in pending)
    titles = {url: records[url]["title"] for url in records}
    tree = build_tree(titles)
    site = {"title": config["title"], "url": config["url"], "repo_url": config["repo_url"], "tree": tree}
    templates_hash = content_hash(tree_files(templates), templates) if templates.is_dir() else ""
    site_key = _sha(version, templates_hash, json.dumps(site, sort_keys=True))
    old_pages = manifest.get("pages", {})
    old_outputs = manifest.get("outputs", {})
    current_outputs = {k: list(v) for k, v in list_files(out).items()} if old_pages else {}
    fresh_urls = {url for url, _, _ in pending}
    staging = make_staging_folder(out)
    try:
        page_dicts, render_keys, unfilled = [], {}, {}
        for url in sorted(records):
            record = records[url]
            rel_source = source_of[url]
            prev, nxt = prev_next(url, titles)
            repo_path = _repo_path(source, rel_source)
            page = {
                "title": record["title"], "summary": record["summary"], "url": url, "root": root_prefix(url),
                "source_path": repo_path,
                "view_source_url": config["repo_url"] + repo_path,
                "canonical_url": page_address(config["url"], url),
                "breadcrumbs": breadcrumbs(url, titles, config["title"]),
                "prev": prev, "next": nxt,
                "sections": record["sections"],
                "is_markdown_page": record["is_markdown_page"],
            }
            page_dicts.append(page)
            render_key = _sha(site_key, keys[url], json.dumps(
                [page["breadcrumbs"], prev, nxt, repo_path], sort_keys=True))
            render_keys[url] = render_key
            reusable = (old_pages.get(url) == render_key and url in current_outputs
                        and current_outputs[url] == old_outputs.get(url))
            if reusable:
                copy_file(staging, url, out / url)
            elif url in fresh_urls:
                unfilled[url] = render_template(templates, "page.html", site, page)
                result.pages_rendered += 1
            else:
                write_file(staging, url, render_template(templates, "page.html", site, page))
                result.pages_rendered += 1
        result.pages_total = len(page_dicts)

        # Everything else on the site.
        for rel in sorted(static_files):
            copy_file(staging, rel, templates / rel)
        for rel in sorted(used_assets):
            copy_file(staging, rel, source / rel)
        write_file(staging, "sitemap.xml", make_sitemap(config["url"], [p["url"] for p in page_dicts]))
        write_file(staging, "404.html", _render_404(templates, site, config, has_template, render_template))
        if (Path(__file__).with_name("search_index.py")).exists():
            from .search_index import build_search_index

            write_file(staging, "search-index.js", build_search_index(page_dicts))
    except Exception as error:
        discard(staging)
        template_error = _template_error(error, templates)
        if template_error is None:
            raise
        result.errors = _in_source_order(errors) + [template_error]
        return
    except BaseException:
        discard(staging)
        raise

    # Collect the equations page by page, in the order they were sent: each page is filled in and written as
    # soon as its own are back, while MathJax is still at work on the next pages.
    try:
        typeset_before = typesetter.typeset_count
        try:
            for url, record, _ in pending:
                results = typesetter.typeset((m.tex, m.display) for m in record["maths"])
                typeset = _typeset_page_math(record, results, displays[url], errors)
                if typeset is None:
                    continue
                if url in unfilled:
                    write_file(staging, url, fill_math(unfilled[url], record["maths"], typeset))
                _fill_record_math(record, typeset)
                cache.put_page(keys[url], record)
            math_css = typesetter.stylesheet()
        except MathJaxUnavailable as error:
            result.errors.append(f"{display_root}:1: cannot typeset math: {error}")
            discard(staging)
            return
        result.equations_typeset = typesetter.typeset_count - typeset_before
        write_file(staging, "static/mathjax.css", "/* MathJax SVG output (generated by utils/build.py) */\n"
                   + math_css.strip() + "\n")
    except BaseException:
        discard(staging)
        raise

    if errors:
        result.errors = _in_source_order(errors)
        discard(staging)
        return
    if check:
        result.differences = compare_trees(staging, out)
        discard(staging)
        return
    if compare_trees(staging, out):
        swap_into_place(staging, out)
        result.swapped = True
    else:
        discard(staging)  # same bytes as the current output: leave it (and its mtimes) alone
    cache.save_manifest(out, {"inputs": fingerprint, "pages": render_keys,
                              "outputs": {k: list(v) for k, v in list_files(out).items()}})


def _in_source_order(errors: List[SourceError]) -> List[str]:
    """Failures listed by file, then line (the stages find them in another order)."""
    return [str(e) for e in sorted(errors, key=lambda e: (e.file, e.line))]


def _template_error(error: Exception, templates: Path) -> Optional[str]:
    """`file:line: reason` for a Jinja2 error (missing template, syntax error, unknown field), else None."""
    import jinja2

    if isinstance(error, jinja2.TemplateNotFound):
        return f"{templates / error.name}:1: template not found"
    if isinstance(error, jinja2.TemplateSyntaxError):
        return f"{error.filename or templates}:{error.lineno}: template syntax error: {error.message}"
    if isinstance(error, jinja2.TemplateError):
        return f"{templates / 'page.html'}:1: template error: {error}"
    return None


def _render_404(templates, site, config, has_template, render_template) -> str:
    from urllib.parse import urlsplit

    root = urlsplit(config["url"]).path or "/"
    page = {"title": "Page not found", "summary": "", "url": "404.html", "root": root,
            "source_path": "", "view_source_url": "", "canonical_url": config["url"] + "404.html",
            "breadcrumbs": [{"title": site["title"], "url": "index.html"}], "prev": None, "next": None,
            "sections": [{"id": "section-0", "notes_kind": "markdown", "code_html": "", "notes_text": "",
                          "headings": [], "notes_html": "<h1>Page not found</h1>\n<p>There is no page at this "
                          f'address. Go to the <a href="{root}index.html">home page</a>.</p>\n'}],
            "is_markdown_page": True}
    name = "404.html" if has_template(templates, "404.html") else "page.html"
    return render_template(templates, name, site, page)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.build", description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, type=Path, help="package folder to render, e.g. labml_nn")
    parser.add_argument("--out", required=True, type=Path, help="output folder, e.g. docs")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 when the output differs from what a build would produce")
    parser.add_argument("--templates", type=Path, default=DEFAULT_TEMPLATES)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    result = build_site(args.source, args.out, args.templates, args.config, args.cache_dir, check=args.check)
    for line in result.errors:
        print(line, file=sys.stderr)
    if result.errors:
        print(f"build failed: {len(result.errors)} error(s); {args.out}/ left unchanged", file=sys.stderr)
        return 1
    if args.check:
        if result.differences:
            for line in result.differences[:50]:
                print(line, file=sys.stderr)
            print(f"{args.out}/ is stale ({len(result.differences)} difference(s)): run `make docs`",
                  file=sys.stderr)
            return 1
        print(f"{args.out}/ is up to date ({result.pages_total} pages)")
        return 0
    if result.up_to_date:
        print(f"{args.out}/ is up to date ({result.pages_total} pages, {result.seconds:.3f} s)")
    else:
        print(f"built {result.pages_total} pages into {args.out}/ ({result.pages_rendered} rendered, "
              f"{result.equations_typeset} equations typeset, {result.seconds:.2f} s"
              f"{'' if result.swapped else ', output unchanged'})")
    return 0


if __name__ == "__main__":
    status = main()
    # Everything the build wrote is closed, the MathJax worker is stopped and the caches are closed; what is
    # left is Python tearing down a large heap (about 20 ms, a twentieth of a cold build), which a command
    # that is about to exit can skip.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
