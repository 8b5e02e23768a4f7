"""Math that can be copied and found, and pages that never scroll sideways because of it (real Chromium).

Each equation keeps its TeX in `data-tex` (utils/render_markdown.py); site.js writes a copied selection that
holds math as plain text with `$tex$` / `$$tex$$`, and display equations offer "Copy TeX" (mouse and keyboard).
MathJax's hidden MathML copy for screen readers used to push the page wider than a phone (site.css).
"""

from __future__ import annotations

import pytest

from test_site_browser import ADAM_PAGE, PHONE, DESKTOP, site_pages

SELECT_JS = """(selector) => {
  const element = typeof selector === "string" ? document.querySelector(selector) : selector;
  element.scrollIntoView({block: "center"});
  const range = document.createRange();
  range.selectNodeContents(element);
  getSelection().removeAllRanges();
  getSelection().addRange(range);
}"""

# What the copy handler put on the clipboard, read from the copy event itself (listening after site.js).
LISTEN_FOR_COPY_JS = """() => {
  window.__copied = [];
  window.addEventListener("copy", (e) => window.__copied.push(
      {text: e.clipboardData.getData("text/plain"), prevented: e.defaultPrevented}));
}"""

# The first paragraph with inline math; its text pieces and the TeX of its equations, in order.
PARAGRAPH_JS = """() => {
  const p = [...document.querySelectorAll(".notes p")].find(p => p.querySelectorAll(".math.inline").length >= 2);
  p.id = "copy-me";
  const parts = [];
  for (const node of p.childNodes) {
    if (node.nodeType === 1 && node.matches(".math")) parts.push({tex: node.getAttribute("data-tex")});
    else parts.push({text: node.textContent.replace(/\\s+/g, " ")});
  }
  return parts;
}"""


def _context(browser, site_server, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_server.rstrip("/"))
    context.set_default_timeout(5000)
    return context


def _clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def test_copying_prose_with_inline_math_puts_each_equation_as_dollar_tex_among_the_words(browser, site_server):
    context = _context(browser, site_server)
    page = context.new_page()
    page.goto(site_server + ADAM_PAGE, wait_until="load")
    parts = page.evaluate(PARAGRAPH_JS)
    maths = [part["tex"] for part in parts if "tex" in part]
    assert len(maths) >= 2 and all(maths), parts
    page.evaluate(LISTEN_FOR_COPY_JS)
    page.evaluate(SELECT_JS, "#copy-me")
    page.keyboard.press("Control+c")
    copied = _clipboard(page)
    expected = "".join(part.get("text", "") if "text" in part else f"${part['tex']}$" for part in parts).strip()
    assert copied == expected
    # Without the handler the browser copies "… per parameter: \n of the gradient …": no TeX, broken lines.
    assert "\n" not in copied and all(f"${tex}$" in copied for tex in maths)
    assert page.evaluate("window.__copied") == [{"text": copied, "prevented": True}]
    context.close()


def test_copying_a_section_keeps_display_tex_on_its_own_lines_and_code_without_line_numbers(browser, site_server):
    context = _context(browser, site_server)
    page = context.new_page()
    page.goto(site_server + ADAM_PAGE, wait_until="load")
    facts = page.evaluate("""() => {
      const s = document.querySelector(".section:has(.notes div.math.display):has(.code .lineno)");
      s.id = "copy-section";
      return {display: s.querySelector(".notes div.math.display").getAttribute("data-tex"),
              numbers: [...s.querySelectorAll(".code .lineno")].map(n => n.textContent),
              code: [...s.querySelectorAll(".code .line")].map(l => {
                const c = l.cloneNode(true); c.querySelector(".lineno")?.remove(); return c.textContent; })};
    }""")
    page.evaluate(SELECT_JS, "#copy-section")
    page.keyboard.press("Control+c")
    copied = _clipboard(page)
    assert f"\n$${facts['display']}$$\n" in copied
    code = "\n".join(facts["code"])
    assert code.strip() in copied                      # the code as lines, without the numbers before them
    assert not any(line.startswith(facts["numbers"][0]) for line in copied.splitlines()
                   if facts["code"][0].strip() and line.endswith(facts["code"][0].strip()))
    context.close()


def test_copying_only_code_is_left_to_the_browser(browser, site_server):
    context = _context(browser, site_server)
    page = context.new_page()
    page.goto(site_server + ADAM_PAGE, wait_until="load")
    page.evaluate(LISTEN_FOR_COPY_JS)
    page.evaluate(SELECT_JS, ".code pre")
    page.keyboard.press("Control+c")
    copied = page.evaluate("window.__copied")
    assert len(copied) == 1 and copied[0]["prevented"] is False
    first = page.evaluate("document.querySelector('.code pre .lineno').textContent")
    assert not _clipboard(page).startswith(first)
    context.close()


def _popover(page) -> dict:
    return page.evaluate("""() => {
      const p = document.querySelector(".copy-tex-popover");
      const b = p && p.querySelector("button");
      return p && {hidden: p.hidden, visible: !!p.getClientRects().length, label: b.getAttribute("aria-label"),
                   text: b.textContent, focused: document.activeElement === b,
                   box: b.getBoundingClientRect().toJSON()};
    }""")


def test_clicking_a_display_equation_offers_copy_tex_which_copies_it_between_double_dollars(browser, site_server):
    context = _context(browser, site_server)
    page = context.new_page()
    page.goto(site_server + ADAM_PAGE, wait_until="load")
    equation = page.locator(".math.display[data-tex]").first
    tex = equation.get_attribute("data-tex")
    equation.locator("mjx-container").click()
    popover = _popover(page)
    assert popover and popover["visible"] and "Copy TeX" in popover["text"] and "Copy TeX" in popover["label"]
    box = equation.bounding_box()
    assert box["x"] <= popover["box"]["x"] and popover["box"]["right"] <= box["x"] + box["width"] + 1
    page.get_by_role("button", name="Copy TeX").click()
    assert _clipboard(page) == f"$${tex}$$"
    assert _popover(page)["text"] == "Copied"
    page.click("h1")                                          # elsewhere: it closes
    assert _popover(page)["visible"] is False
    context.close()


def test_copy_tex_is_reachable_by_keyboard_and_escape_closes_it(browser, site_server):
    context = _context(browser, site_server, PHONE)
    page = context.new_page()
    page.goto(site_server + ADAM_PAGE, wait_until="load")
    equation = page.locator(".math.display[data-tex]").first
    tex = equation.get_attribute("data-tex")
    # Tab reaches the equation from the section's permalink before it.
    page.evaluate("""() => { const e = document.querySelector(".math.display[data-tex]");
                           e.closest(".section").querySelector(".permalink").focus(); }""")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.math.display[data-tex]')"):
            break
    assert page.evaluate("document.activeElement === document.querySelector('.math.display[data-tex]')")
    assert page.evaluate("document.activeElement.getAttribute('aria-describedby')") == "copy-tex-hint"
    page.keyboard.press("Enter")
    popover = _popover(page)
    assert popover["visible"] and popover["focused"], popover
    # Open on a phone, it stays on the screen.
    assert 0 <= popover["box"]["x"] and popover["box"]["right"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.keyboard.press("Enter")                              # the focused button
    assert _clipboard(page) == f"$${tex}$$"
    assert page.evaluate("document.querySelector('.copy-tex-status').textContent") == "TeX copied to the clipboard"
    page.keyboard.press("Escape")
    assert _popover(page)["visible"] is False
    assert page.evaluate("document.activeElement === document.querySelector('.math.display[data-tex]')")
    page.keyboard.press(" ")                                  # Space opens it too
    assert _popover(page)["focused"]
    page.keyboard.press("Escape")
    assert _popover(page)["visible"] is False
    context.close()


def test_find_in_page_finds_the_words_on_both_sides_of_an_equation(browser, site_server):
    context = _context(browser, site_server)
    page = context.new_page()
    page.goto(site_server + ADAM_PAGE, wait_until="load")
    parts = page.evaluate(PARAGRAPH_JS)
    index = next(i for i, part in enumerate(parts) if "tex" in part and 0 < i < len(parts) - 1)
    before, after = parts[index - 1]["text"].strip(), parts[index + 1]["text"].strip()
    for words in (" ".join(before.split()[-3:]), " ".join(after.split()[:3])):
        assert words and page.evaluate("(w) => window.find(w, false, false, true)", words), words
    context.close()


FULL_LAYOUT_JS = """() => {
  // Sections off screen are not laid out (content-visibility: auto); lay them all out, as scrolling does.
  document.querySelectorAll(".section").forEach(s => s.style.contentVisibility = "visible");
  return document.fonts.ready.then(() => {
    const width = document.documentElement.clientWidth;
    // The outermost element reaching past the right edge, to say what widened the page.
    const past = [...document.body.querySelectorAll("*")].find(e => e.getBoundingClientRect().right > width + 0.5);
    return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width,
            culprit: past ? past.outerHTML.slice(0, 160) : null};
  });
}"""


def test_no_page_scrolls_sideways_at_390px_with_every_section_laid_out(browser, site_server, built_site):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    wide = {}
    for path in site_pages(built_site):
        page.goto(site_server + path, wait_until="load")
        facts = page.evaluate(FULL_LAYOUT_JS)
        if facts["scrollWidth"] > facts["clientWidth"]:
            wide[path] = facts
    context.close()
    assert wide == {}


def test_a_wide_screen_reader_mathml_at_the_right_edge_neither_widens_the_page_nor_leaves(browser, site_server):
    """The corpus case (labml-nn's rl/ppo/experiment.html was 45 px too wide): an inline equation ending the
    line, whose MathML as the browser draws it is wider than its typeset form."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(site_server + ADAM_PAGE, wait_until="load")
    facts = page.evaluate("""() => {
      const math = document.querySelector(".math.inline").cloneNode(true);
      const mml = math.querySelector("mjx-assistive-mml math");
      mml.innerHTML = "<mtext>" + "a wide screen reader text ".repeat(8) + "</mtext>";
      const p = document.createElement("p");
      p.style.textAlign = "right";
      p.append("edge ", math);
      const notes = document.querySelector(".notes");
      notes.closest(".section").style.contentVisibility = "visible";   // laid out as when scrolled to
      notes.prepend(p);
      const copy = math.querySelector("mjx-assistive-mml"), style = getComputedStyle(copy);
      return {scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
              mmlWidth: mml.getBoundingClientRect().width, display: style.display, visibility: style.visibility,
              ariaHidden: copy.closest("[aria-hidden=true]") !== null, text: copy.textContent};
    }""")
    context.close()
    assert facts["mmlWidth"] > PHONE["width"]            # the MathML is laid out, wider than the screen
    assert facts["scrollWidth"] <= facts["clientWidth"], facts
    # Still there for screen readers: rendered, not hidden from the accessibility tree, text intact.
    assert facts["display"] != "none" and facts["visibility"] == "visible" and not facts["ariaHidden"]
    assert "a wide screen reader text" in facts["text"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_copy_tex_button_screenshot(browser, site_server, artifacts_dir, scheme):
    context = browser.new_context(viewport=PHONE, color_scheme=scheme)
    page = context.new_page()
    page.goto(site_server + ADAM_PAGE, wait_until="load")
    page.locator(".math.display[data-tex] mjx-container").first.click()
    assert _popover(page)["visible"]
    path = artifacts_dir / f"adam-copy-tex-{scheme}.png"
    page.screenshot(path=str(path))
    context.close()
    assert path.stat().st_size > 10_000
