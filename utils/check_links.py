"""Check every relative link in the notes: it must reach a generated page, an anchor on it, or a file.

Input is plain data: for each page its url and links [{"target", "line"}]; the set of anchors of every
page; the files of the source tree that are not pages (images etc.). Returns the errors (`source:line:
broken link -> target (why)`) and the files that links use, which the build copies beside the pages.
"""
import posixpath
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import unquote, urlsplit

from .errors import SourceError


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


def check_links(pages: List[dict], anchors: Dict[str, Optional[Set[str]]], assets: Set[str],
                extra_files: Set[str]) -> Tuple[List[SourceError], Set[str]]:
    """`pages`: [{"url", "display", "links": [{"target", "line"}]}]; `anchors[url]` is None when that page
    failed to build (its anchors are unknown); `assets`: non-page files of the source tree (site paths)."""
    errors: List[SourceError] = []
    used_assets: Set[str] = set()
    for page in pages:
        for link in page["links"]:
            target = link["target"]
            resolved = resolve_link(page["url"], target)
            if resolved is None:
                continue
            path, fragment = resolved

            def broken(why: str) -> None:
                errors.append(SourceError(page["display"], link["line"], f"broken link -> {target} ({why})"))

            if path.startswith("../") or path == "..":
                broken("outside the site")
            elif path in anchors:
                known = anchors[path]
                if fragment and known is not None and fragment not in known:
                    broken(f"no anchor #{fragment} on {path}")
            elif path in assets:
                used_assets.add(path)
            elif path in extra_files:
                pass
            else:
                broken(f"no page or file {path}")
    return errors, used_assets
