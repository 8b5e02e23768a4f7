"""Accessibility of the generated site in a real browser (Debian Chromium through Playwright).

axe-core (pinned in package.json, injected from node_modules) runs on every page in the light and in the
dark theme and must find nothing; the keyboard tests walk the page with Tab and the keys a reader would
press: the identifier highlighting, the Pages menu, the search results, the section permalinks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
CODE_PAGE = "optimizers/adam.html"
RESULTS_PAGE = "optimizers/mnist_results/readme.html"   # wide tables

# Two things would hide most of a page from axe, so the run lifts them first; neither changes a colour:
# - sections off screen are not rendered (content-visibility: auto), and axe skips what is not rendered;
# - a code line's background is a gradient (the gutter band, in the code background's own colour, and the
#   dash of a wrapped line's continuation rows, in the gutter where no text is); axe gives up on any text
#   over a background image ("could not be determined"), so without this no code token nor line number
#   would be checked at all.
REVEAL_FOR_AXE = (".section { content-visibility: visible !important; }"
                  " .code .line { background: none !important; }")

AXE_RUN_JS = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"], iframes: false });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, count: v.nodes.length,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").replace(/\\s+/g, " ")),
  }));
}
"""

# The stored choice, applied as the boot script in _macros.html applies it, so one load serves both themes.
SET_THEME_JS = """
theme => {
  localStorage.setItem("site-theme", theme);
  document.documentElement.setAttribute("data-theme", theme);
  return getComputedStyle(document.body).backgroundColor;
}
"""

# Everything Tab can reach, in the order the browser visits it, found by pressing Tab.
FOCUSED_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  return { tag: el.tagName, cls: el.className || "", text: (el.textContent || "").trim().slice(0, 40),
           permalink: el.classList.contains("permalink"), inCode: !!el.closest(".code"),
           key: el.id || (el.tagName + ":" + (el.getAttribute("href") || "") + ":" + (el.textContent || "").slice(0, 30)) };
}
"""


def _site_pages(site) -> list[str]:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if "static" not in p.relative_to(site).parts)
    assert CODE_PAGE in pages and RESULTS_PAGE in pages and "index.html" in pages, pages
    return pages


def _need_axe():
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` (axe-core is a devDependency in package.json).",
                    pytrace=False)


@pytest.fixture(scope="module")
def axe_violations(browser, site_server, built_site):
    """{theme: {page: [violation, ...]}} for every page: axe run in light, then in dark, on one load."""
    _need_axe()
    found = {"light": {}, "dark": {}}
    backgrounds = {}
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script("try { localStorage.setItem('site-theme', 'light'); } catch (e) {}")
    page = context.new_page()
    try:
        for name in _site_pages(built_site):
            page.goto(site_server + name)
            page.add_script_tag(path=str(AXE_JS))
            page.add_style_tag(content=REVEAL_FOR_AXE)
            for theme in found:
                backgrounds.setdefault(theme, set()).add(page.evaluate(SET_THEME_JS, theme))
                found[theme][name] = page.evaluate(AXE_RUN_JS)
    finally:
        context.close()
    assert backgrounds["light"].isdisjoint(backgrounds["dark"]), backgrounds   # dark really was dark
    return found


def _report(per_page) -> str:
    lines = []
    for name, violations in per_page.items():
        for v in violations:
            lines.append(f"{name}: {v['id']} ({v['impact']}, {v['count']} nodes)")
            lines += [f"    {node}" for node in v["nodes"]]
    return "\n".join(lines)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_violations_on_any_page(axe_violations, theme):
    per_page = {name: v for name, v in axe_violations[theme].items() if v}
    assert not per_page, f"axe-core violations in the {theme} theme:\n{_report(per_page)}"


def test_axe_sees_the_code_tokens_and_line_numbers(browser, site_server):
    # The contrast of code is checked, not skipped: axe reaches a verdict on nearly every code token and
    # on the line numbers (a new background image or hidden section would make it give up silently).
    _need_axe()
    page = browser.new_page(viewport=DESKTOP)
    try:
        page.goto(site_server + CODE_PAGE)
        page.add_script_tag(path=str(AXE_JS))
        page.add_style_tag(content=REVEAL_FOR_AXE)
        counts = page.evaluate("""async () => {
          const r = await axe.run(document, { runOnly: ["color-contrast"] });
          const inCode = list => list.flatMap(v => v.nodes).filter(n => n.target.join(" ").includes("#L")
                                || /class="(lineno|[a-z0-9]{1,3})"/.test(n.html));
          const linenos = list => list.flatMap(v => v.nodes).filter(n => n.html.includes('class="lineno"'));
          return { passed: inCode(r.passes).length, undecided: inCode(r.incomplete).length,
                   failed: inCode(r.violations).length, linenoPassed: linenos(r.passes).length,
                   linenos: document.querySelectorAll(".code .lineno").length };
        }""")
    finally:
        page.close()
    assert counts["failed"] == 0, counts
    assert counts["passed"] > 200 and counts["undecided"] <= 0.02 * counts["passed"], counts
    assert counts["linenoPassed"] == counts["linenos"] > 50, counts


def _tab_walk(page, limit=400):
    """Press Tab from the top of the page until focus comes back round; the elements reached, in order."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    stops, seen = [], set()
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused is None:
            continue
        if focused["key"] in seen:
            break
        seen.add(focused["key"])
        stops.append(focused)
    return stops


def test_permalinks_are_not_tab_stops_and_the_code_is_one(browser, site_server):
    page = browser.new_page(viewport=DESKTOP)
    try:
        page.goto(site_server + CODE_PAGE)
        permalinks = page.locator("a.permalink").count()
        assert permalinks > 10
        stops = _tab_walk(page)
        # The skip link stays first.
        assert stops and "skip-link" in stops[0]["cls"], stops[:3]
        assert [s for s in stops if s["permalink"]] == []
        # All of the code (hundreds of names) is a single tab stop.
        assert len([s for s in stops if s["inCode"]]) == 1, [s for s in stops if s["inCode"]]
        assert len(stops) < 60, len(stops)
        # A permalink still works with the mouse.
        second = page.locator("section.section").nth(1)
        second.hover()
        second.locator("a.permalink").click()
        assert page.evaluate("location.hash") == "#" + second.get_attribute("id")
    finally:
        page.close()


def _focused_name(page):
    return page.evaluate("""() => { const el = document.activeElement;
        return el && el.closest(".code") ? { text: el.textContent, line: el.closest(".line").id,
                                             offset: Array.from(document.querySelectorAll(".code span")).indexOf(el) } : null; }""")


def _highlighted(page):
    return page.evaluate("Array.from(document.querySelectorAll('.ident-highlight')).map(e => e.textContent)")


def test_identifier_highlighting_works_from_the_keyboard(browser, site_server):
    page = browser.new_page(viewport=DESKTOP)
    try:
        page.goto(site_server + CODE_PAGE)
        name = None
        for _ in range(80):
            page.keyboard.press("Tab")
            name = _focused_name(page)
            if name:
                break
        assert name, "Tab never reached the code"
        page.keyboard.press("Enter")
        marked = _highlighted(page)
        assert len(marked) > 1 and set(marked) == {name["text"]}, (name, marked)
        page.keyboard.press("Enter")   # again: clears
        assert _highlighted(page) == []

        # Arrows move focus between names, and between the uses of one name; the tab stop follows.
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        moved = _focused_name(page)
        assert moved and moved["offset"] > name["offset"], (name, moved)
        page.keyboard.press("ArrowDown")
        use = _focused_name(page)
        assert use["text"] == moved["text"] and use["offset"] != moved["offset"], (moved, use)
        page.keyboard.press(" ")
        marked = _highlighted(page)
        assert len(marked) > 1 and set(marked) == {use["text"]}
        page.keyboard.press("Escape")
        assert _highlighted(page) == []
        assert page.evaluate("document.querySelectorAll('.code [tabindex=\"0\"]').length") == 1
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        assert _focused_name(page) == use
        # The page did not scroll away on the arrow keys: the focused name is on screen.
        assert page.evaluate("""() => { const r = document.activeElement.getBoundingClientRect();
                                        return r.top >= 0 && r.bottom <= innerHeight; }""")
    finally:
        page.close()


def test_escape_closes_the_pages_menu_and_returns_focus_to_its_button(browser, site_server):
    page = browser.new_page(viewport=DESKTOP)
    try:
        page.goto(site_server + CODE_PAGE)
        page.focus(".site-nav summary")
        page.keyboard.press("Enter")
        assert page.evaluate("document.querySelector('.site-nav').open")
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('.site-tree')")
        page.keyboard.press("Escape")
        assert not page.evaluate("document.querySelector('.site-nav').open")
        assert page.evaluate("document.activeElement === document.querySelector('.site-nav summary')")
    finally:
        page.close()


def test_escape_closes_the_search_results_and_returns_focus_to_the_box(browser, site_server):
    page = browser.new_page(viewport=DESKTOP)
    try:
        page.goto(site_server + CODE_PAGE)
        box = page.locator("form.search input")
        box.focus()
        page.keyboard.type("adam")
        results = page.locator("#search-results")
        results.locator("[role=option]").first.wait_for()
        page.keyboard.press("Escape")
        assert results.is_hidden()
        assert page.evaluate("document.activeElement === document.querySelector('form.search input')")
        # From a result reached with Tab as well.
        page.keyboard.type("w")
        results.locator("[role=option]").first.wait_for()
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('#search-results')")
        page.keyboard.press("Escape")
        assert results.is_hidden()
        assert page.evaluate("document.activeElement === document.querySelector('form.search input')")
    finally:
        page.close()


def test_a_table_that_scrolls_on_a_phone_is_a_named_tab_stop_and_not_on_a_desktop(browser, site_server):
    _need_axe()
    facts = {}
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = browser.new_page(viewport=viewport)
        try:
            page.goto(site_server + RESULTS_PAGE)
            page.add_script_tag(path=str(AXE_JS))
            # Bring every box near the viewport once, as a reader scrolling down would.
            for i in range(page.locator(".notes table").count()):
                page.locator(".notes table").nth(i).scroll_into_view_if_needed()
                page.wait_for_timeout(50)
            page.wait_for_timeout(100)
            facts[label] = page.evaluate("""async () => {
              const tables = Array.from(document.querySelectorAll(".notes table"));
              const r = await axe.run(document, { runOnly: ["scrollable-region-focusable"] });
              return { scrolling: tables.filter(t => t.scrollWidth > t.clientWidth + 1).length,
                       focusable: tables.filter(t => t.tabIndex === 0 && t.getAttribute("aria-label")).length,
                       violations: r.violations.flatMap(v => v.nodes.map(n => n.target.join(" "))) };
            }""")
            if facts[label]["scrolling"]:
                # The keyboard scrolls it once it has focus.
                table = page.locator(".notes table[tabindex='0']").first
                table.focus()
                for _ in range(3):
                    page.keyboard.press("ArrowRight")
                page.wait_for_function("t => t.scrollLeft > 0", arg=table.element_handle(), timeout=5000)
        finally:
            page.close()
    assert facts["phone"]["scrolling"] >= 1, facts
    assert facts["phone"]["focusable"] == facts["phone"]["scrolling"], facts
    assert facts["phone"]["violations"] == [], facts
    assert facts["desktop"]["scrolling"] == facts["desktop"]["focusable"] == 0, facts
