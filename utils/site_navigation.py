"""Navigation from the list of pages: the site tree, breadcrumbs, and previous/next within a folder.

Input is plain page records {"url", "title"}; the index page of a folder is `folder/index.html`.
Order: a folder's index first, then its pages by file name, then its sub-folders.
"""
import posixpath
from typing import Dict, List, Optional, Tuple


def _folder_of(url: str) -> str:
    return posixpath.dirname(url)


def _folder_order(urls: List[str]) -> List[str]:
    return sorted(urls, key=lambda u: (posixpath.basename(u) != "index.html", posixpath.basename(u)))


def build_tree(titles: Dict[str, str]) -> List[dict]:
    """Nested [{"title", "url", "children"}] of every page; a folder without an index has url ""."""
    folders: Dict[str, List[str]] = {}
    for url in titles:
        folder = _folder_of(url)
        folders.setdefault(folder, []).append(url)
        while folder:  # make sure every ancestor folder exists, even without pages of its own
            folder = _folder_of(folder)
            folders.setdefault(folder, [])

    def node(folder: str) -> dict:
        pages = _folder_order(folders.get(folder, []))
        index = posixpath.join(folder, "index.html") if folder else "index.html"
        children = [{"title": titles[url], "url": url, "children": []} for url in pages if url != index]
        subfolders = sorted(f for f in folders if f and _folder_of(f) == folder)
        children += [node(sub) for sub in subfolders]
        title = titles.get(index) or posixpath.basename(folder) or "Home"
        return {"title": title, "url": index if index in titles else "", "folder": folder, "children": children}

    root = node("")
    return [root] if root["url"] else root["children"]


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
    crumbs = [{"title": titles.get("index.html", home_title), "url": "index.html"}]
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


def prev_next_all(titles: Dict[str, str]) -> Dict[str, Tuple[Optional[dict], Optional[dict]]]:
    """(previous, next) page of every page within its folder, in one pass over the folders."""
    folders: Dict[str, List[str]] = {}
    for url in titles:
        folders.setdefault(_folder_of(url), []).append(url)
    links = {}
    for siblings in folders.values():
        siblings = _folder_order(siblings)
        entries = [{"title": titles[url], "url": url} for url in siblings]
        for i, url in enumerate(siblings):
            links[url] = (entries[i - 1] if i > 0 else None, entries[i + 1] if i + 1 < len(siblings) else None)
    return links


def prev_next(url: str, titles: Dict[str, str]) -> Tuple[Optional[dict], Optional[dict]]:
    return prev_next_all(titles)[url]


def root_prefix(url: str) -> str:
    """Relative prefix from a page to the site root: "" for `a.html`, "../" for `x/a.html`."""
    return "../" * url.count("/")
