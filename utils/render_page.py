"""Jinja2 templates -> page HTML. The front end owns the templates; this stage only fills them in.

Each template is compiled once per build (Jinja2 keeps it in its environment).
"""
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4)
def _environment(templates_dir: str):
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir),
                              autoescape=jinja2.select_autoescape(["html", "xml"]),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def split_intro(notes_html: str) -> tuple:
    """(intro, rest) of an index page's first notes: the title and the paragraph after it, where the list of
    the folder's pages goes before the long prose. No title: nothing comes before the list."""
    if not notes_html.lstrip().startswith("<h1"):
        return "", notes_html
    end = notes_html.find("</h1>") + len("</h1>")
    after = notes_html[end:]
    paragraph = after.lstrip()
    if paragraph.startswith("<p>"):
        end += len(after) - len(paragraph) + paragraph.find("</p>") + len("</p>")
    return notes_html[:end], notes_html[end:]


def render_template(templates_dir: Path, name: str, site: dict, page: dict) -> str:
    return _environment(str(Path(templates_dir).resolve())).get_template(name).render(site=site, page=page)
