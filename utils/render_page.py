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


def render_template(templates_dir: Path, name: str, site: dict, page: dict) -> str:
    return _environment(str(Path(templates_dir).resolve())).get_template(name).render(site=site, page=page)
