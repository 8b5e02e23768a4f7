"""Shared helpers for the core site-generator tests: a tiny package on disk and a placeholder template.

The placeholder template stands in for the front end's templates so these tests pin the core pipeline
only; it prints every field of the page the core passes to templates.
"""
from pathlib import Path
import textwrap

from utils.build import build_site

PLACEHOLDER_PAGE = """<!DOCTYPE html>
<html><head><title>{{ page.title }}</title>
<meta name="description" content="{{ page.summary }}">
<link rel="canonical" href="{{ page.canonical_url }}">
<link rel="stylesheet" href="{{ page.root }}static/mathjax.css"></head>
<body>
<nav>{% for c in page.breadcrumbs %}<a href="{{ page.root }}{{ c.url }}">{{ c.title }}</a>{% endfor %}</nav>
<a class="source" href="{{ page.view_source_url }}">view source</a>
{% for s in page.sections %}<section id="{{ s.id }}" class="{{ s.notes_kind }}">
<div class="notes">{{ s.notes_html | safe }}</div>
<div class="code">{{ s.code_html | safe }}</div></section>
{% endfor %}
{% if page.prev %}<a rel="prev" href="{{ page.root }}{{ page.prev.url }}">{{ page.prev.title }}</a>{% endif %}
{% if page.next %}<a rel="next" href="{{ page.root }}{{ page.next.url }}">{{ page.next.title }}</a>{% endif %}
</body></html>
"""

SITE_YAML = """title: Test site
url: https://docs.sample-lab.net/test/
repo_url: https://code.sample-lab.net/test/blob/main/
"""


def write_tree(root: Path, files: dict) -> Path:
    """Write {relative path: text or bytes} under root; text is dedented."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def make_project(tmp_path: Path, files: dict) -> dict:
    """A source package, templates and config under tmp_path; returns the paths build_site needs."""
    source = write_tree(tmp_path / "pkg", files)
    templates = tmp_path / "templates"
    (templates / "static").mkdir(parents=True)
    (templates / "page.html").write_text(PLACEHOLDER_PAGE, encoding="utf-8")
    (templates / "static" / "site.css").write_text("body { margin: 0 }\n", encoding="utf-8")
    config = tmp_path / "site.yaml"
    config.write_text(SITE_YAML, encoding="utf-8")
    return {"source": source, "out": tmp_path / "docs", "templates": templates, "config": config,
            "cache_dir": tmp_path / "cache"}


def build(project: dict, **overrides):
    return build_site(**{**project, **overrides})


def tree_bytes(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


GOOD_PACKAGE = {
    "__init__.py": r'''
        """
        ---
        title: Test package
        summary: A package for the generator tests.
        ---

        # Test package

        * [Adam](opt/adam.py) and [its update](opt/adam.html#update-rule)
        """
        ''',
    "opt/__init__.py": r'''
        """
        # Optimizers

        See [RAdam](radam.py), [section 1 of Adam](adam.html#section-1) and [notes](readme.md).

        ![a figure](figure.svg)
        """
        ''',
    "opt/adam.py": r'''
        """
        ---
        title: Adam
        summary: Adam, step by step.
        ---

        # Adam

        $$\hat{m}_t = \frac{m_t}{1-\beta_1^t}$$

        ## Update rule
        """
        import math


        # $m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t$
        def step(m, g, beta1=0.9):
            return beta1 * m + (1 - beta1) * g  # keep this comment
        ''',
    "opt/radam.py": r'''
        """
        # RAdam

        Back to [Adam](adam.py). Costs $5 and $10.
        """
        x = 1
        ''',
    "opt/readme.md": """
        # Notes

        Some notes with $\\vert x \\vert$ math.
        """,
    "opt/figure.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>\n',
}
