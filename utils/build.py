"""Build a site from a folder of annotated Python modules and Markdown notes.

    labml-docs --source SRC --out OUT [--cache-dir DIR] [--strict] [--check] [--config FILE] [--templates DIR]

(`python -m utils.build ...` from this repository's root is the same command.) The stages run in the order
of the folder listing, one module each, passing plain data (dataclasses):

    read_source -> split_sections -> render_markdown -> typeset_math -> highlight_code -> check_links
    -> render_page -> write_site

`prepare_page` ties the page-level stages together: a source becomes a `PreparedPage` (HTML of each
section's notes and code, its links, anchors and warnings).

A fault in one page never costs the others: broken links, unreadable files, syntax errors and bad TeX are
warnings (`file:line: reason`) and the page still builds, with the fault shown on it. `--strict` makes any
warning fail the build; a failed build leaves the previous site as it was. A rebuild only redoes what
changed: when no input changed at all, nothing heavy is imported.
"""
import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .build_cache import UTILS, BuildCache, content_hash, generator_files, stat_fingerprint, tree_files

# Installed, the templates are package data beside the code; in a checkout they sit beside utils/.
DEFAULT_TEMPLATES = UTILS / "templates" if (UTILS / "templates").is_dir() else UTILS.parent / "templates"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labml-docs"
MATH_CSS = "static/mathjax.css"
SEARCH_INDEX = "search-index.js"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_CODES = f"""exit codes:
  {EXIT_OK}  the site was built (or, with --check, is up to date); warnings may have been printed
  {EXIT_FAILED}  nothing was written: a warning under --strict, an error (config, templates, MathJax
     missing, files in the output folder that the build did not write), or --check found differences
  {EXIT_USAGE}  bad command line"""


@dataclass
class BuildResult:
    errors: List[str] = field(default_factory=list)     # the build could not be done (nothing written)
    warnings: List[str] = field(default_factory=list)   # "file:line: reason"; fatal only with strict
    strict: bool = False
    up_to_date: bool = False                            # nothing changed: nothing was built
    pages_total: int = 0
    pages_rendered: int = 0                             # pages whose HTML was rendered (not reused)
    equations_typeset: int = 0                          # equations sent to MathJax (not from the cache)
    swapped: bool = False
    differences: List[str] = field(default_factory=list)   # --check: how the output differs
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.differences and not (self.strict and self.warnings)


@dataclass
class PageInfo:
    """What other pages and the site-wide files need of a page, kept in the manifest so that an unchanged
    page is never decoded again: its title, its anchors and links (for link checking), its own warnings
    and its search entries."""
    rel: str
    display: str
    title: str
    anchors: Optional[List[str]]    # None: the page failed, its anchors are unknown
    links: List[Tuple[str, int]]
    warnings: List[Tuple[int, str]]
    search_json: str                # its search entries, serialised once (search_index.page_search_json)
    summary: str                    # front matter: what an index page's card says about it
    order: List[str]                # front matter: an index page's reading order of its folder
    in_reading_order: bool          # front matter: False keeps a tooling page out of previous/next
    key: str                        # source bytes + generator version: the prepared page in the cache

    @classmethod
    def from_dict(cls, data: dict) -> "PageInfo":
        info = cls(**data)
        info.links = [tuple(link) for link in info.links]
        info.warnings = [tuple(warning) for warning in info.warnings]
        return info


def _sha(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def _display_root(source: Path) -> str:
    """How the source folder is named in messages: relative to the working folder when inside it."""
    relative = os.path.relpath(source)
    return str(source) if relative.startswith("..") else relative


def _input_fingerprint(source: Path, out: Path, templates: Path, config: Optional[Path], strict: bool) -> str:
    """Sizes and mtimes of every input, and the options: equal means the last build's output still holds."""
    paths = tree_files(source) + tree_files(templates) + generator_files() + ([config] if config else [])
    args = json.dumps([str(p.resolve()) if p else "" for p in (source, out, templates, config)] + [strict])
    return stat_fingerprint(paths, extra=args)


def _own_outputs(out: Path) -> Dict[str, list]:
    """{site path: [size, mtime_ns]} of the files the last build wrote into `out` (foreign ones left out)."""
    from .write_site import OUTPUT_LIST, list_files, own_files

    mine = own_files(out)
    if mine is None:
        return {}
    return {rel: list(stat) for rel, stat in list_files(out).items() if rel in mine or rel == OUTPUT_LIST}


def build_site(source: Path, out: Path, templates: Path = DEFAULT_TEMPLATES, config: Optional[Path] = None,
               cache_dir: Path = DEFAULT_CACHE, check: bool = False, strict: bool = False,
               typesetter=None) -> BuildResult:
    """Build `source` into `out` (with `check`, compare what would be built with `out` instead)."""
    started = time.perf_counter()
    source, out, templates = Path(source), Path(out), Path(templates)
    config = Path(config) if config is not None else None
    result = BuildResult(strict=strict)
    cache = BuildCache(cache_dir)
    fingerprint, manifest = None, {}
    if source.is_dir():
        from .site_config import find_config

        config_path = config if config is not None else find_config(source)
        fingerprint = _input_fingerprint(source, out, templates, config_path, strict)
        manifest = cache.load_manifest(out)
        if (not check and manifest.get("inputs") == fingerprint
                and manifest.get("outputs") == _own_outputs(out)):
            result.up_to_date = True
            result.pages_total = len(manifest.get("pages", {}))
            result.warnings = manifest.get("warnings", [])
            result.seconds = time.perf_counter() - started
            return result
    own_typesetter = typesetter is None
    if own_typesetter:
        from .typeset_math import MathTypesetter

        typesetter = MathTypesetter(cache_dir)
    try:
        typesetter.start_if_cache_empty()   # a cold build: Node loads MathJax while Python reads the sources
        _Build(source, out, templates, config, cache, manifest, typesetter, check, result).run(fingerprint)
    finally:
        cache.close()
        if own_typesetter:
            typesetter.close()
    result.seconds = time.perf_counter() - started
    return result


class _Build:
    """One build, stage by stage; each method is one step of `run`, in order."""

    def __init__(self, source, out, templates, config, cache, manifest, typesetter, check, result):
        self.source, self.out, self.templates, self.config_path = source, out, templates, config
        self.cache, self.manifest, self.typesetter, self.check, self.result = cache, manifest, typesetter, check, result
        self.display_root = _display_root(source)
        self.version = content_hash(generator_files())
        self.source_prefix: Optional[str] = None   # see source_path

    def run(self, fingerprint: Optional[str]) -> None:
        from .errors import SourceError
        from .mathjax_install import MathJaxNotFound
        from .site_config import load_site_config
        from .typeset_math import MathJaxUnavailable

        if not self.source.is_dir():
            self.result.errors.append(f"{self.source}: source folder not found")
            return
        try:
            self.config = load_site_config(self.source, self.config_path)
        except SourceError as error:
            self.result.errors.append(str(error))
            return
        try:
            self.static = self.static_files()
            sources, assets = self.read_sources()
            infos, prepared = self.prepare_pages(sources)
            self.math_css = self.typesetter.stylesheet()
        except (MathJaxUnavailable, MathJaxNotFound) as error:
            self.result.errors.append(f"cannot typeset math: {error}")
            return
        warnings = [f"{info.display}:{line}: {reason}" for info in infos.values() for line, reason in info.warnings]
        link_warnings, used_assets = self.check_links(infos, assets)
        everything = dict.fromkeys(self.result.warnings + warnings + link_warnings)   # once each, in order
        self.result.warnings = sorted(everything, key=_warning_order)
        self.result.pages_total = len(infos)
        if self.result.strict and self.result.warnings:
            return
        self.write(infos, prepared, sources, used_assets, fingerprint)

    # -- read_source ------------------------------------------------------------------------------------
    def read_sources(self):
        """The source files to make pages of (one per page URL), and the other files (assets)."""
        from .read_source import list_source_tree, page_url, read_source_file

        page_rels, asset_rels = list_source_tree(self.source)
        sources, taken = {}, {}
        for rel in page_rels:
            url = page_url(rel)
            if url in taken:   # adam.py and adam.md, say: both would be adam.html
                self.result.warnings.append(f"{self.display_root}/{rel}:1: not built: it would be {url}, "
                                            f"like {taken[url]}; rename one")
                continue
            taken[url] = rel
            sources[url] = read_source_file(self.source, rel, self.display_root)
        return sources, set(asset_rels)

    # -- split_sections, render_markdown, typeset_math, highlight_code (utils/prepare_page.py) -----------
    def prepare_pages(self, sources):
        """{url: PageInfo}, {url: PreparedPage} of the pages prepared or decoded here. An unchanged page
        (same source bytes and generator) keeps its info from the manifest and is not decoded at all."""
        from .highlight_code import highlight_python_lines
        from .prepare_page import PreparedPage, code_to_highlight, finish_page, highlight_page, prepare_or_fail

        old_pages = self.manifest.get("pages", {})
        infos, prepared, parsed_pages = {}, {}, []
        for url, source in sources.items():
            key = _sha(self.version, source.rel, hashlib.sha256(source.data).hexdigest())
            old = old_pages.get(url)
            if old is not None and old["info"]["key"] == key:
                infos[url] = PageInfo.from_dict(old["info"])
                continue
            cached = self.cache.get_page(key)
            if cached is not None:
                prepared[url] = PreparedPage.from_dict(cached)
                infos[url] = self.page_info(url, source.display, key, prepared[url])
                continue
            parsed_pages.append((url, key, source))
        highlighter = _start_highlighter(len(parsed_pages))
        try:
            ready = []
            for url, key, source in parsed_pages:
                parsed, failed = prepare_or_fail(source)
                if failed is not None:
                    prepared[url] = failed
                    infos[url] = self.page_info(url, source.display, key, failed)
                    continue
                # Every equation goes to MathJax now, and the code to the highlighter: Node and the
                # highlighter work while this process parses the next pages.
                self.typesetter.submit((math.tex, math.display) for math in parsed.maths)
                # The other process is given highlight_code's function, so it imports no Markdown or MathJax code.
                code = code_to_highlight(parsed)
                future = highlighter.submit(highlight_python_lines, code) if highlighter and code else None
                ready.append((url, key, source, parsed, code, future))
            typeset_before = self.typesetter.typeset_count
            for url, key, source, parsed, code, future in ready:
                # Highlighted before its equations are collected: MathJax may still be at work on them.
                highlighted = future.result() if future is not None else highlight_page(code)
                page = finish_page(parsed, self.typesetter.typeset((m.tex, m.display) for m in parsed.maths),
                                   highlighted)
                self.cache.put_page(key, page.to_dict())
                prepared[url] = page
                infos[url] = self.page_info(url, source.display, key, page)
            self.result.equations_typeset = self.typesetter.typeset_count - typeset_before
        finally:
            if highlighter is not None:
                highlighter.shutdown(cancel_futures=True)
        return dict(sorted(infos.items())), prepared

    @staticmethod
    def page_info(url: str, display: str, key: str, page) -> PageInfo:
        from .search_index import page_search_docs, page_search_json

        # A page that failed has no anchors of its own: links into it are not checked (its own warning says why).
        return PageInfo(rel=page.rel, display=display, title=page.title,
                        anchors=None if page.failed else page.anchors, links=page.links,
                        warnings=page.warnings, key=key, summary=page.summary, order=page.order,
                        in_reading_order=page.in_reading_order,
                        search_json=page_search_json(page_search_docs({"title": page.title, "sections": [
                            {"id": s.id, "headings": s.headings, "notes_text": s.notes_text}
                            for s in page.sections]})))

    # -- check_links ------------------------------------------------------------------------------------
    def check_links(self, infos: Dict[str, PageInfo], assets):
        from .check_links import check_links

        static = {rel for rel, _ in self.static}
        generated = {MATH_CSS, SEARCH_INDEX, "404.html", "sitemap.xml"} | static
        return check_links([(url, info.display, info.links) for url, info in infos.items()],
                           {url: None if info.anchors is None else set(info.anchors) for url, info in infos.items()},
                           assets, generated)

    def static_files(self) -> List[Tuple[str, Path]]:
        """(site path, file) of the templates' static files and MathJax's fonts."""
        from .mathjax_install import mathjax_font_files

        static = self.templates / "static"
        files = [(f"static/{p.relative_to(static).as_posix()}", p) for p in tree_files(static)] \
            if static.is_dir() else []
        return files + sorted(mathjax_font_files().items())

    # -- render_page, write_site ------------------------------------------------------------------------
    def write(self, infos: Dict[str, PageInfo], prepared, sources, used_assets, fingerprint) -> None:
        import jinja2

        from .mathjax_install import MathJaxNotFound
        from .render_page import render_template, split_intro
        from .search_index import search_index_script
        from .site_navigation import (breadcrumbs, build_tree, folder_contents_all, local_tree, prev_next_all,
                                      root_prefix, site_order)
        from .sitemap import make_sitemap, page_address
        from .typeset_math import MathJaxUnavailable
        from .write_site import (OUTPUT_LIST, OutputConflict, check_conflicts, compare_trees, copy_file, discard,
                                 file_mode, link_or_copy, list_files, make_staging_folder, swap_into_place,
                                 trees_differ, write_file, write_output_list)

        config, out = self.config, self.out
        titles = {url: info.title for url, info in infos.items()}
        site = {"title": config.title, "url": config.url, "repo_url": config.repo_url}
        navigation = {url: {"title": info.title, "summary": info.summary, "links": [t for t, _ in info.links],
                            "order": info.order, "in_reading_order": info.in_reading_order}
                      for url, info in infos.items()}
        order = site_order(navigation)
        tree = build_tree(navigation, order)
        neighbours = prev_next_all(navigation, order)
        all_contents = folder_contents_all(navigation, order)
        templates_hash = content_hash(tree_files(self.templates), self.templates) if self.templates.is_dir() else ""
        site_key = _sha(self.version, templates_hash, json.dumps(site, sort_keys=True))
        old_pages, old_outputs = self.manifest.get("pages", {}), self.manifest.get("outputs", {})
        current = {rel: list(stat) for rel, stat in list_files(out).items()} if old_pages else {}
        generated = sorted(infos) + [rel for rel, _ in self.static] + sorted(used_assets) + [
            MATH_CSS, SEARCH_INDEX, "404.html"] + (["sitemap.xml"] if config.url else [])
        if not self.check:
            try:
                check_conflicts(out, generated + [OUTPUT_LIST])
            except OutputConflict as error:
                self.result.errors.append(str(error))
                return
        pages_manifest, folder_trees, mode = {}, {}, file_mode()
        staging = make_staging_folder(out)
        written = []   # the files rendered afresh (the others are links to the current output's)

        def reuse(rel: str, render_key: str, old_key: Optional[str]) -> bool:
            """Link the output's file when it was rendered from the same inputs and is as the build left it."""
            if old_key == render_key and rel in current and current[rel] == old_outputs.get(rel):
                link_or_copy(staging, rel, out / rel, mode)
                return True
            written.append(rel)
            return False

        try:
            for url, info in infos.items():
                source_path = self.source_path(info.rel)
                prev, nxt = neighbours[url]
                crumbs = breadcrumbs(url, titles, config.title)
                contents = all_contents.get(url, [])
                folder = url.rpartition("/")[0]
                if folder not in folder_trees:   # the pages of a folder show the same tree
                    shown = local_tree(tree, url)
                    folder_trees[folder] = (shown, _sha(json.dumps(shown)))
                shown, tree_key = folder_trees[folder]
                page_site = dict(site, tree=shown)
                # repr, not JSON: these dicts are built in a fixed order, and JSON cost a tenth of a rebuild.
                render_key = _sha(site_key, info.key, tree_key, repr((crumbs, prev, nxt, source_path, contents)))
                pages_manifest[url] = {"render_key": render_key, "info": info.__dict__}
                if reuse(url, render_key, old_pages.get(url, {}).get("render_key")):
                    continue
                page = prepared.get(url) or self.load_prepared(info, sources[url])
                intro, rest = split_intro(page.sections[0].notes_html) if contents and page.sections else ("", "")
                write_file(staging, url, render_template(self.templates, "page.html", page_site, {
                    "title": page.title, "summary": page.summary, "url": url, "root": root_prefix(url),
                    "source_path": source_path,
                    "view_source_url": config.repo_url + source_path if config.repo_url else "",
                    "canonical_url": page_address(config.url, url) if config.url else "",
                    "breadcrumbs": crumbs, "prev": prev, "next": nxt, "sections": page.sections,
                    "is_markdown_page": page.is_markdown_page,
                    "contents": contents, "intro_html": intro, "rest_html": rest, "outline": page.outline}))
                self.result.pages_rendered += 1
            for rel, path in self.static:
                copy_file(staging, rel, path)
            for rel in sorted(used_assets):
                copy_file(staging, rel, self.source / rel)
            write_file(staging, MATH_CSS, "/* MathJax CommonHTML output (written by the site build) */\n"
                       + self.math_css.strip() + "\n")
            write_file(staging, SEARCH_INDEX, search_index_script(
                (info.title, url, info.search_json, info.summary) for url, info in infos.items()))
            not_found_site = dict(site, tree=local_tree(tree, "404.html"))
            not_found_key = _sha(site_key, json.dumps(not_found_site["tree"]))
            if not reuse("404.html", not_found_key, self.manifest.get("not_found_key")):
                write_file(staging, "404.html", self.render_404(not_found_site, render_template))
            if config.url:
                write_file(staging, "sitemap.xml", make_sitemap(config.url, list(infos)))
            write_output_list(staging, generated)
        except jinja2.TemplateError as error:
            discard(staging)
            self.result.errors.append(_template_error(error, self.templates))
            return
        except (MathJaxUnavailable, MathJaxNotFound) as error:   # a page re-prepared in `load_prepared`
            discard(staging)
            self.result.errors.append(f"cannot typeset math: {error}")
            return
        except BaseException:
            discard(staging)
            raise
        if self.check:
            self.result.differences = compare_trees(staging, out)
            discard(staging)
            return
        try:
            if trees_differ(staging, out, written):
                swap_into_place(staging, out)
                self.result.swapped = True
            else:
                discard(staging)   # the same files as the current output: leave it (and its mtimes) alone
        except OutputConflict as error:
            discard(staging)
            self.result.errors.append(str(error))
            return
        if fingerprint is not None:
            self.cache.save_manifest(out, {"inputs": fingerprint, "pages": pages_manifest,
                                           "not_found_key": not_found_key,
                                           "outputs": _own_outputs(out), "warnings": self.result.warnings})

    def load_prepared(self, info: PageInfo, source):
        """An unchanged page to render again (its navigation changed): from the cache, or prepared afresh
        should the cache have lost it."""
        from .prepare_page import PreparedPage, finish_page, prepare_or_fail

        cached = self.cache.get_page(info.key)
        if cached is not None:
            return PreparedPage.from_dict(cached)
        parsed, failed = prepare_or_fail(source)
        if failed is not None:
            return failed
        return finish_page(parsed, self.typesetter.typeset((m.tex, m.display) for m in parsed.maths))

    def source_path(self, rel: str) -> str:
        """The source file's path in its repository (for "view source"), else inside the source's parent."""
        if self.source_prefix is None:   # once a build: resolving paths was a thirtieth of a one-file rebuild
            source = self.source.resolve()
            try:
                self.source_prefix = source.relative_to(Path(self.config.source_root).resolve()).as_posix()
            except ValueError:
                self.source_prefix = source.name
        return rel if self.source_prefix == "." else f"{self.source_prefix}/{rel}"

    def render_404(self, site: dict, render_template) -> str:
        from urllib.parse import urlsplit

        # A host serves 404.html at any depth, so its links start from the site's root path.
        root = (urlsplit(self.config.url).path or "/") if self.config.url else "/"
        notes = ("<h1>Page not found</h1>\n<p>There is no page at this address. Go to the "
                 f'<a href="{root}index.html">home page</a>.</p>\n')
        page = {"title": "Page not found", "summary": "", "url": "404.html", "root": root, "source_path": "",
                "view_source_url": "", "canonical_url": "", "prev": None, "next": None,
                "breadcrumbs": [{"title": site["title"], "url": "index.html"}], "is_markdown_page": True,
                "contents": [], "intro_html": "", "rest_html": "", "outline": [],
                "sections": [{"id": "section-0", "notes_kind": "markdown", "code_html": "", "notes_text": "",
                              "headings": [], "notes_html": notes}]}
        name = "404.html" if (self.templates / "404.html").is_file() else "page.html"
        return render_template(self.templates, name, site, page)


# Pygments is the largest part of preparing a page. With this many pages to prepare, a second Python process
# highlights while this one parses Markdown (and Node typesets): see the closing note of issue 11 for what
# it measured. Fewer pages would not pay back the process's start (about 0.3 s).
HIGHLIGHTER_MIN_PAGES = 20


def _start_highlighter(pages: int):
    """A one-process pool for `highlight_page`, or None when it would not pay (few pages, one core)."""
    if pages < HIGHLIGHTER_MIN_PAGES or (os.cpu_count() or 1) < 2:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: this process has threads (the MathJax reader), which a fork must not copy.
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def _warning_order(warning: str):
    """By file, then line number (as a number); a sort keeps the order of warnings on one line."""
    file, _, rest = warning.partition(":")
    line = rest.partition(":")[0]
    return (file, int(line) if line.isdigit() else 0)


def _template_error(error: Exception, templates: Path) -> str:
    """`file:line: reason` for a Jinja2 error (missing template, syntax error, unknown field)."""
    import jinja2

    if isinstance(error, jinja2.TemplateNotFound):
        return f"{templates / error.name}:1: template not found"
    if isinstance(error, jinja2.TemplateSyntaxError):
        return f"{error.filename or templates}:{error.lineno}: template syntax error: {error.message}"
    return f"{templates / 'page.html'}:1: template error: {error}"


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="labml-docs", description="Build a side-by-side site (notes and math beside the code) from a folder "
        "of annotated Python modules and Markdown files.", epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True, type=Path, metavar="SRC",
                        help="folder of .py and .md files to build pages from, e.g. labml_nn")
    parser.add_argument("--out", required=True, type=Path, metavar="OUT",
                        help="folder the site is written to, e.g. docs; files in it that the build did not "
                             "write (CNAME, .git, ...) are kept")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, metavar="DIR",
                        help=f"where typeset equations and prepared pages are kept between builds "
                             f"(default: {DEFAULT_CACHE})")
    parser.add_argument("--strict", action="store_true",
                        help="fail on any warning (broken link, bad TeX, unreadable file, syntax error), "
                             "leaving OUT as it was")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when OUT differs from what a build would write")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="site settings (title, url, repo_url) in YAML; default: site.yaml in SRC or in "
                             "a folder above it, up to the repository's root; none: the title is SRC's name "
                             "and no canonical or view-source links are written")
    parser.add_argument("--templates", type=Path, default=DEFAULT_TEMPLATES, metavar="DIR",
                        help="Jinja2 templates (page.html, optional 404.html, static/) to use instead of "
                             "the built-in ones")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = argument_parser().parse_args(argv)
    result = build_site(args.source, args.out, args.templates, args.config, args.cache_dir, check=args.check,
                        strict=args.strict)
    for line in result.warnings:
        print(f"{line}" if args.strict else f"warning: {line}", file=sys.stderr)
    for line in result.errors:
        print(f"error: {line}", file=sys.stderr)
    if result.errors or (args.strict and result.warnings):
        problems = f"{len(result.errors)} error(s)" if result.errors else f"{len(result.warnings)} warning(s) " \
                                                                           f"under --strict"
        print(f"build failed: {problems}; {args.out}/ left unchanged", file=sys.stderr)
        return EXIT_FAILED
    warned = f", {len(result.warnings)} warning(s)" if result.warnings else ""
    if args.check:
        if result.differences:
            for line in result.differences[:50]:
                print(line, file=sys.stderr)
            print(f"{args.out}/ is stale ({len(result.differences)} difference(s)): build it again",
                  file=sys.stderr)
            return EXIT_FAILED
        print(f"{args.out}/ is up to date ({result.pages_total} pages{warned})")
        return EXIT_OK
    if result.up_to_date:
        print(f"{args.out}/ is up to date ({result.pages_total} pages{warned}, {result.seconds:.3f} s)")
    else:
        print(f"built {result.pages_total} pages into {args.out}/ ({result.pages_rendered} rendered, "
              f"{result.equations_typeset} equations typeset{warned}, {result.seconds:.2f} s"
              f"{'' if result.swapped else ', output unchanged'})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
