"""Check every relative link in the notes: it must reach a generated page, an anchor on it, or a file.

Input is plain data: each page's url, display name and links [(target, line)]; the anchors of every page
(ids of headings, sections and code lines, and those raw HTML defines with `id=` or `name=`); the files of
the source tree that are not pages (images etc.) and the other files the build writes. Returns warnings
(`source:line: broken link -> target: why`) and the files that links use, which the build copies beside
the pages.

A link without an extension resolves as a static host serves it: `../feed_forward` reaches
`feed_forward.html`, or `feed_forward/index.html` when that is a folder's page.
"""
import posixpath
from typing import Dict, Iterable, List, Optional, Set, Tuple
from urllib.parse import unquote, urlsplit


def resolve_link(page_url: str, target: str) -> Optional[Tuple[str, str]]:
    """(path relative to the site root, fragment), or None for links this checker does not own
    (other hosts, mailto:, site-absolute paths)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("/"):
        return None
    fragment = unquote(parts.fragment)
    if not parts.path:
        return page_url, fragment
    joined = posixpath.join(posixpath.dirname(page_url), unquote(parts.path))
    resolved = posixpath.normpath(joined)
    if parts.path.endswith("/") or resolved == ".":
        resolved = posixpath.join("" if resolved == "." else resolved, "index.html")
    return resolved, fragment


def served_as(path: str, pages: Dict[str, Optional[Set[str]]]) -> str:
    """The page a static host serves for an extension-less `path` (`x` -> `x.html` or `x/index.html`)."""
    if path in pages or posixpath.splitext(path)[1]:
        return path
    for candidate in (path + ".html", posixpath.join(path, "index.html")):
        if candidate in pages:
            return candidate
    return path


def check_links(pages: Iterable[Tuple[str, str, List[Tuple[str, int]]]], anchors: Dict[str, Optional[Set[str]]],
                assets: Set[str], generated: Set[str]) -> Tuple[List[str], Set[str]]:
    """`pages`: (url, display name, links); `anchors[url]` is None when that page failed to build (its
    anchors are unknown); `assets`: non-page files of the source tree; `generated`: other files the build
    writes (stylesheets, fonts, the search index). Returns (warnings, assets that links use)."""
    warnings: List[str] = []
    used_assets: Set[str] = set()
    for url, display, links in pages:
        for target, line in links:
            resolved = resolve_link(url, target)
            if resolved is None:
                continue
            path, fragment = resolved
            path = served_as(path, anchors)
            problem = None
            if path.startswith("../") or path == "..":
                problem = "it points outside the site"
            elif path in anchors:
                known = anchors[path]
                if fragment and known is not None and fragment not in known:
                    problem = f"{path} has no anchor #{fragment}"
            elif path in assets:
                used_assets.add(path)
            elif path not in generated:
                problem = f"{path} does not exist (no page or file)"
            if problem:
                warnings.append(f"{display}:{line}: broken link -> {target}: {problem}")
    return warnings, used_assets
