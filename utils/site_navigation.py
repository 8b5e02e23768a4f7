"""Navigation from the list of pages: the site tree, breadcrumbs, and the reading order (previous/next).

Input is plain page records {"title", "links", "order", "in_reading_order"} keyed by url; the index page of
a folder is `folder/index.html` (or, without one, the folder's `readme.html`).

Order within a folder is the author's: the names in its index page's `order:` front matter, then the pages
and sub-folders in the order its links first mention them, then the rest alphabetically (pages, then
sub-folders). The reading order of the site walks that tree depth first, index pages first; pages marked
`in_reading_order: false` (tooling) stay out of it, and point back to their folder's index instead.
"""
import posixpath
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .check_links import resolve_link, served_as

Pages = Dict[str, dict]
HOME_LABEL_CHARS = 24   # a longer home title is shown as "Home" in the breadcrumbs (the full title on hover)


def _folder_of(url: str) -> str:
    return posixpath.dirname(url)


def _stem(name: str) -> str:
    return posixpath.splitext(posixpath.basename(name.rstrip("/")))[0]


def folder_index(folder: str, urls) -> Optional[str]:
    """The page that stands for `folder`: its index.html, else its readme (any case), else None."""
    prefix = folder + "/" if folder else ""
    if prefix + "index.html" in urls:
        return prefix + "index.html"
    return next((prefix + name for name in ("readme.html", "README.html", "Readme.html") if prefix + name in urls),
                None)


def _folders(pages: Pages) -> Dict[str, List[str]]:
    """{folder: its pages}, with every ancestor folder present (possibly without pages of its own)."""
    folders: Dict[str, List[str]] = {}
    for url in pages:
        folder = _folder_of(url)
        folders.setdefault(folder, []).append(url)
        while folder:
            folder = _folder_of(folder)
            folders.setdefault(folder, [])
    return folders


def folder_entries(pages: Pages, folders: Optional[Dict[str, List[str]]] = None) -> Dict[str, List[Tuple[str, str]]]:
    """{folder: [("page", url) or ("folder", sub-folder)]} in the author's order; the index page not included."""
    folders = folders if folders is not None else _folders(pages)
    children: Dict[str, List[str]] = {}
    for folder in folders:
        if folder:
            children.setdefault(_folder_of(folder), []).append(folder)
    entries = {}
    for folder, urls in folders.items():
        index = folder_index(folder, urls)
        pages_here = sorted((u for u in urls if u != index), key=posixpath.basename)
        subfolders = sorted(children.get(folder, []))
        alphabetical = [("page", u) for u in pages_here] + [("folder", f) for f in subfolders]
        by_stem = {_stem(u): ("page", u) for u in pages_here}
        by_stem.update({posixpath.basename(f): ("folder", f) for f in subfolders})
        ranked: List[Tuple[str, str]] = []

        def rank(entry) -> None:
            if entry is not None and entry not in ranked:
                ranked.append(entry)

        if index is not None:
            record = pages[index]
            for name in record.get("order", []):
                rank(by_stem.get(_stem(name)))
            for target in record.get("links", []):
                rank(_linked_entry(index, target, pages, pages_here, subfolders))
        entries[folder] = ranked + [e for e in alphabetical if e not in ranked]
    return entries


def _linked_entry(index: str, target: str, pages: Pages, pages_here: List[str], subfolders: List[str]):
    """The entry of the index's folder that a link from it reaches, or None (another host, elsewhere, itself)."""
    resolved = resolve_link(index, target)
    if resolved is None:
        return None
    path = served_as(resolved[0], pages)
    if path in pages_here:
        return "page", path
    return next((("folder", sub) for sub in subfolders if path.startswith(sub + "/")), None)


@dataclass
class SiteOrder:
    """The order of a site, worked out once per build: each folder's pages, its entries in the author's
    order, and the reading order of all pages."""
    folders: Dict[str, List[str]]
    entries: Dict[str, List[Tuple[str, str]]]
    sequence: List[str]


def site_order(pages: Pages) -> SiteOrder:
    folders = _folders(pages)
    entries = folder_entries(pages, folders)
    sequence: List[str] = []

    def visit(folder: str) -> None:
        index = folder_index(folder, folders[folder])
        if index and pages[index].get("in_reading_order", True):
            sequence.append(index)
        for kind, name in entries[folder]:
            if kind == "folder":
                visit(name)
            elif pages[name].get("in_reading_order", True):
                sequence.append(name)

    visit("")
    return SiteOrder(folders, entries, sequence)


def build_tree(pages: Pages, order: Optional[SiteOrder] = None) -> List[dict]:
    """Nested [{"title", "url", "folder", "children"}] of every page in the author's order; a folder without
    an index page has url ""."""
    order = order or site_order(pages)
    entries, folders = order.entries, order.folders

    def node(folder: str) -> dict:
        index = folder_index(folder, folders[folder])
        children = []
        for kind, name in entries[folder]:
            children.append(node(name) if kind == "folder"
                            else {"title": pages[name]["title"], "url": name, "children": []})
        title = pages[index]["title"] if index else (posixpath.basename(folder) or "Home")
        return {"title": title, "url": index or "", "folder": folder, "children": children}

    root = node("")
    return [root] if root["url"] else root["children"]


def reading_order(pages: Pages) -> List[str]:
    """Every page in reading order: each folder's index, then its entries, depth first; tooling pages left out."""
    return site_order(pages).sequence


def local_tree(tree: List[dict], url: str) -> List[dict]:
    """The tree as one page shows it: the top level, and the folders on the way to the page opened.
    Every page listing the whole tree cost 20 KB per page on a 220-page site (more than most pages' text)."""
    here = _folder_of(url)

    def opened(folder: str) -> bool:
        return folder == "" or here == folder or here.startswith(folder + "/")

    def prune(nodes: List[dict]) -> List[dict]:
        shown = []
        for node in nodes:
            folder = node.get("folder")
            # A folded folder with no page of its own still lists its entries: nothing else reaches them.
            keep = folder is None or opened(folder) or not node["url"]
            children = prune(node["children"]) if keep else []
            shown.append({"title": node["title"], "url": node["url"], "children": children})
        return shown

    return prune(tree)


def breadcrumbs(url: str, titles: Dict[str, str], home_title: str) -> List[dict]:
    """Home first, then each folder above the page, then the page itself (urls relative to the site root)."""
    home = titles.get("index.html", home_title)
    # A long home title ("Annotated Research Paper Implementations: ...") would fill a phone's header
    crumbs = [{"title": home, "url": "index.html", "label": home if len(home) <= HOME_LABEL_CHARS else "Home"}]
    if url == "index.html":
        return crumbs
    parts = _folder_of(url).split("/") if _folder_of(url) else []
    for depth in range(1, len(parts) + 1):
        index = "/".join(parts[:depth]) + "/index.html"
        if index == url:
            break
        if index in titles:  # a folder without __init__.py has no page to link to
            crumbs.append({"title": titles[index], "url": index})
    crumbs.append({"title": titles[url], "url": url})
    return crumbs


def folder_contents_all(pages: Pages, order: Optional[SiteOrder] = None) -> Dict[str, List[dict]]:
    """What each index page lists as cards: its folder's entries in the author's order, each
    {"title", "url", "summary"}; a sub-folder is shown by its index page (without one, by its first page in
    reading order). Pages that are no folder's index are not in the result."""
    order = order or site_order(pages)
    folders, entries, sequence = order.folders, order.entries, order.sequence
    contents = {}
    for folder, urls in folders.items():
        index = folder_index(folder, urls)
        if index is None:
            continue
        cards = []
        for kind, name in entries[folder]:
            target = folder_index(name, folders[name]) if kind == "folder" else name
            if kind == "folder" and target is None:
                target = next((u for u in sequence if u.startswith(name + "/")), None)
            if target is not None and pages[target].get("in_reading_order", True):
                cards.append({"title": pages[target]["title"], "url": target,
                              "summary": pages[target].get("summary", "")})
        contents[index] = cards
    return contents


def folder_contents(pages: Pages, url: str) -> List[dict]:
    """The cards of one page ([] for a page that is no index); `folder_contents_all` does every page at once."""
    return folder_contents_all(pages).get(url, [])


def prev_next_all(pages: Pages, order: Optional[SiteOrder] = None) -> Dict[str, Tuple[Optional[dict], Optional[dict]]]:
    """(previous, next) of every page in the reading order. The last page leads back to the first, so that
    every page has a next step; a page out of the reading order leads to its folder's index (or the first page)."""
    order = order or site_order(pages)
    sequence, folders = order.sequence, order.folders

    def entry(url: str) -> dict:
        return {"title": pages[url]["title"], "url": url}

    links: Dict[str, Tuple[Optional[dict], Optional[dict]]] = {}
    for i, url in enumerate(sequence):
        after = sequence[i + 1] if i + 1 < len(sequence) else sequence[0]
        links[url] = (entry(sequence[i - 1]) if i > 0 else None, entry(after) if after != url else None)
    for url in pages:
        if url not in links:
            folder, back = _folder_of(url), None
            while back is None:
                back = folder_index(folder, folders[folder])
                if back == url:
                    back = None
                if not folder:
                    break
                folder = _folder_of(folder)
            back = back or (sequence[0] if sequence else None)
            links[url] = (None, entry(back) if back and back != url else None)
    return links


def prev_next(url: str, pages: Pages) -> Tuple[Optional[dict], Optional[dict]]:
    return prev_next_all(pages)[url]


def root_prefix(url: str) -> str:
    """Relative prefix from a page to the site root: "" for `a.html`, "../" for `x/a.html`."""
    return "../" * url.count("/")
