"""sitemap.xml: the XML declaration on line 1, one <url><loc> per page, no dates (builds are deterministic)."""
from html import escape  # with quote=False, what xml.sax.saxutils.escape does, without its 30 ms of imports
from typing import Iterable


def page_address(site_url: str, url: str) -> str:
    """Absolute address of a page; a folder's index.html is addressed as the folder."""
    if url == "index.html" or url.endswith("/index.html"):
        url = url[: -len("index.html")]
    return site_url + url


def make_sitemap(site_url: str, urls: Iterable[str]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for url in sorted(urls):
        lines.append(f"  <url><loc>{escape(page_address(site_url, url), quote=False)}</loc></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"
