"""Jinja2 templates -> page HTML. The front end owns the templates; this stage only fills them in.

Templates are compiled once per build. `python -m utils.render_page templates` (run by `make bytecode`)
also keeps their compiled code in `templates/__pycache__/`, as Python does for modules, and a build loads
it from there when the template's text is exactly what was compiled (Jinja2 checks a checksum of the
source); an edited template is compiled afresh. Builds only read that folder, never write it.
"""
import sys
from functools import lru_cache
from pathlib import Path

COMPILED_DIR = "__pycache__"   # beside the templates


def _bytecode_cache(templates_dir: str, write: bool):
    import jinja2

    class CompiledTemplates(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except (OSError, ValueError, EOFError):  # unreadable or from another Jinja2/Python: compile
                bucket.reset()

        def dump_bytecode(self, bucket) -> None:
            if write:
                Path(self.directory).mkdir(exist_ok=True)
                super().dump_bytecode(bucket)

    return CompiledTemplates(str(Path(templates_dir) / COMPILED_DIR), "%s.jinja")


@lru_cache(maxsize=4)
def _environment(templates_dir: str, write_compiled: bool = False):
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir),
                              autoescape=jinja2.select_autoescape(["html", "xml"]),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              bytecode_cache=_bytecode_cache(templates_dir, write_compiled))


def _folder(templates_dir) -> str:
    # Absolute, so a template's compiled code is found whichever way its folder was named.
    return str(Path(templates_dir).resolve())


def render_template(templates_dir: Path, name: str, site: dict, page: dict) -> str:
    return _environment(_folder(templates_dir), False).get_template(name).render(site=site, page=page)


def has_template(templates_dir: Path, name: str) -> bool:
    return (Path(templates_dir) / name).is_file()


def warm_templates(templates_dir: Path, write_compiled: bool = False) -> None:
    """Compile every template ahead of rendering (a build does this while MathJax is still busy); Jinja2 keeps
    them. Errors are left for `render_template`, which reports them with the page."""
    import jinja2

    environment = _environment(_folder(templates_dir), write_compiled)
    for name in environment.list_templates(extensions=["html"]):
        try:
            environment.get_template(name)
        except jinja2.TemplateError:
            pass


if __name__ == "__main__":
    for folder in sys.argv[1:] or ["templates"]:
        warm_templates(Path(folder), write_compiled=True)
