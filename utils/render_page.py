"""Jinja2 templates -> page HTML. The front end owns the templates; this stage only fills them in."""
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4)
def _environment(templates_dir: str):
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir),
                              autoescape=jinja2.select_autoescape(["html", "xml"]),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def render_template(templates_dir: Path, name: str, site: dict, page: dict) -> str:
    return _environment(str(templates_dir)).get_template(name).render(site=site, page=page)


def has_template(templates_dir: Path, name: str) -> bool:
    return (Path(templates_dir) / name).is_file()


def warm_templates(templates_dir: Path) -> None:
    """Compile every template ahead of rendering (a build does this while MathJax is still busy); Jinja2 keeps
    them. Errors are left for `render_template`, which reports them with the page."""
    import jinja2

    environment = _environment(str(templates_dir))
    for name in environment.list_templates(extensions=["html"]):
        try:
            environment.get_template(name)
        except jinja2.TemplateError:
            pass
