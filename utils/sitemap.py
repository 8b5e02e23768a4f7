"""sitemap.xml: the XML declaration on line 1, one <url><loc> per page, no dates (builds are deterministic)."""
from typing import Iterable

# XML's three special characters in text (xml.sax.saxutils.escape does the same, but importing it pulls in
# urllib.request and http.client: 30 ms of a cold build).
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    return text.translate(_XML_ESCAPES)


def page_address(site_url: str, url: str) -> str:
    """Absolute address of a page; a folder's index.html is addressed as the folder."""
    if url == "index.html" or url.endswith("/index.html"):
        url = url[: -len("index.html")]
    return site_url + url


def make_sitemap(site_url: str, urls: Iterable[str]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for url in sorted(urls):
        lines.append(f"  <url><loc>{escape(page_address(site_url, url))}</loc></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"
