"""The generator handles any package: a generated package of 200 modules and ~2000 equations builds without
a crash in reasonable time, and planted failures among them are each reported with file:line while every
page still builds."""
import time

from site_core_helpers import build, make_project

MODULES = 200
STEPS = 4
EQUATIONS_PER_MODULE = 3 * STEPS  # a comment, a display equation and a docstring per step: 2400 in all
SECONDS_LIMIT = 240  # generous: 2 shared CPU cores; a cold build here takes well under a minute


def module_source(index: int) -> str:
    lines = ['r"""', "---", f"title: Module {index}", f"summary: Generated module number {index}.", "---", "",
             f"# Module {index}", "", f"See [the next module](m{(index + 1) % MODULES:03d}.py) and "
             f"[the package](index.html#section-0).", '"""', "import math", ""]
    for step in range(STEPS):
        lines += ["", f"# Step {step}: $x_{{{index}}}^{{({step})}} = \\frac{{{step} + {index}}}{{\\beta_{step}}}$",
                  "#", f"# $$\\hat{{m}}_{{{index},{step}}} = \\sum_{{i=1}}^{{{step + 2}}} \\textcolor{{red}}{{g_i}}$$",
                  f"def step_{step}(x):",
                  f'    """Returns $\\vert x \\vert + {step}$, i.e. the cost in $5 units."""',
                  f"    return abs(x) + {step}  # end-of-line comment"]
    return "\n".join(lines) + "\n"


def test_two_hundred_modules_two_thousand_equations_build_and_failures_are_each_reported(tmp_path):
    files = {"__init__.py": '"""\n# Generated package\n"""\n'}
    files.update({f"m{i:03d}.py": module_source(i) for i in range(MODULES)})
    project = make_project(tmp_path, files)
    source = project["source"]
    # Plant three failures among the 200 modules.
    (source / "m017.py").write_text(module_source(17).replace("import math", "import math\ndef broken(:"))
    (source / "m101.py").write_text(module_source(101).replace("\\frac{", "\\frac{{", 1))
    (source / "m150.py").write_text(module_source(150).replace("m151.py", "m999.py"))

    started = time.perf_counter()
    result = build(project)
    cold_seconds = time.perf_counter() - started
    assert cold_seconds < SECONDS_LIMIT
    assert result.ok and not result.errors
    assert len(result.warnings) == 3, result.warnings
    assert result.warnings[0].endswith("m017.py:12: syntax error: invalid syntax")
    assert "m101.py:14: invalid TeX: x_{101}^{(0)} = \\frac{{0 + 101}{\\beta_0} -- MathJax:" in result.warnings[1]
    assert result.warnings[2].endswith("m150.py:9: broken link -> m999.html: m999.html does not exist (no page or file)")
    # Distinct equations: the docstring ones repeat across modules, the others do not.
    assert result.equations_typeset >= (MODULES - 1) * 2 * STEPS  # m017 cannot be parsed
    assert len(list(project["out"].glob("m*.html"))) == MODULES   # the faulty pages too

    for index in (17, 101, 150):
        (source / f"m{index:03d}.py").write_text(module_source(index))
    fixed = build(project)
    assert fixed.ok, fixed.errors[:5]
    assert fixed.pages_total == MODULES + 1
    pages = sorted(project["out"].glob("m*.html"))
    assert len(pages) == MODULES
    assert all(page.read_text().count("<mjx-container") == EQUATIONS_PER_MODULE for page in pages)
