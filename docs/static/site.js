/* Page behaviour: theme toggle, identifier highlighting, and the offline search box.
   No network use beyond this site's own files; everything works from file:// too. */
(function () {
  "use strict";

  var THEME_KEY = "site-theme";
  var root = document.documentElement;

  /* ---------- Theme toggle ---------- */

  function systemPrefersDark() {
    return !!(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  }

  function currentTheme() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "light" || chosen === "dark") return chosen;
    return systemPrefersDark() ? "dark" : "light";
  }

  function storeTheme(theme) {
    try { window.localStorage.setItem(THEME_KEY, theme); } catch (e) { /* storage blocked: the choice lasts this page only */ }
  }

  function setUpThemeToggle() {
    var button = document.querySelector(".theme-toggle");
    if (!button) return;
    function describe() {
      var next = currentTheme() === "dark" ? "light" : "dark";
      button.setAttribute("aria-label", "Switch to the " + next + " theme");
      button.title = "Switch to the " + next + " theme";
    }
    button.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      storeTheme(next);
      describe();
    });
    describe();
  }

  /* ---------- Identifier highlighting ---------- */

  // Pygments' short classes for names: variables, functions, classes, builtins, attributes …
  var NAME_CLASSES = ["n", "nf", "nc", "nb", "bp", "nv", "na", "nn", "nx", "fm", "vm", "vc", "vg", "vi", "py", "nd"];
  var HIGHLIGHT = "ident-highlight";
  var highlighted = [];
  var highlightedName = null;

  function isName(element) {
    if (!element || element.tagName !== "SPAN" || !element.closest(".code")) return false;
    for (var i = 0; i < NAME_CLASSES.length; i++) {
      if (element.classList.contains(NAME_CLASSES[i])) return true;
    }
    return false;
  }

  function clearHighlight() {
    for (var i = 0; i < highlighted.length; i++) highlighted[i].classList.remove(HIGHLIGHT);
    highlighted = [];
    highlightedName = null;
  }

  function highlightName(name) {
    clearHighlight();
    var selector = NAME_CLASSES.map(function (c) { return ".code span." + c; }).join(",");
    var spans = document.querySelectorAll(selector);
    for (var i = 0; i < spans.length; i++) {
      if (spans[i].textContent === name) {
        spans[i].classList.add(HIGHLIGHT);
        highlighted.push(spans[i]);
      }
    }
    highlightedName = name;
  }

  function setUpIdentifierHighlighting() {
    document.addEventListener("click", function (event) {
      var target = event.target;
      if (isName(target)) {
        var name = target.textContent;
        // A second click on the same name clears the marks.
        if (name === highlightedName) clearHighlight(); else highlightName(name);
      } else if (highlightedName !== null && target.closest && target.closest(".code")) {
        clearHighlight();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && highlightedName !== null) clearHighlight();
    });
  }

  /* ---------- Search ---------- */

  var index = null;          // the parsed index once loaded
  var indexState = "idle";   // idle | loading | ready | failed
  var waiting = [];

  // The index is a script setting a global, so it loads from file:// where fetch() is blocked.
  function loadIndex(src, done) {
    if (indexState === "ready") { done(); return; }
    waiting.push(done);
    if (indexState === "loading") return;
    indexState = "loading";
    var script = document.createElement("script");
    script.src = src;
    script.async = true;
    script.onload = function () {
      index = window.SITE_SEARCH_INDEX ? invert(window.SITE_SEARCH_INDEX) : null;
      indexState = index ? "ready" : "failed";
      flush();
    };
    script.onerror = function () { indexState = "failed"; flush(); };
    document.head.appendChild(script);
  }

  // The file holds each page's entries as the page gave them (so a rebuild only joins strings); turn them
  // into documents and, per term, its (document, weight) pairs, with the terms sorted for prefix search.
  function invert(raw) {
    var pages = [], docs = [], byTerm = Object.create(null);   // no prototype: "constructor" is a word too
    for (var p = 0; p < raw.pages.length; p++) {
      var page = raw.pages[p];
      pages.push([page[0], page[1]]);
      for (var d = 0; d < page[2].length; d++) {
        var entry = page[2][d], id = docs.length;
        docs.push([p, entry[0], entry[1], entry[2]]);   // [page number, section anchor, heading, snippet]
        for (var term in entry[3]) (byTerm[term] || (byTerm[term] = [])).push(id, entry[3][term]);
      }
    }
    var terms = Object.keys(byTerm).sort();
    return { pages: pages, docs: docs, terms: terms, postings: terms.map(function (t) { return byTerm[t]; }) };
  }

  function flush() {
    var callbacks = waiting;
    waiting = [];
    for (var i = 0; i < callbacks.length; i++) callbacks[i]();
  }

  // Same folding as the index builder: lower case, accents removed, letters and digits only.
  function words(text) {
    var folded = text.toLowerCase();
    if (folded.normalize) folded = folded.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
    return folded.match(/[a-z0-9]+/g) || [];
  }

  // Terms are sorted, so every term starting with a prefix sits in one run found by binary search.
  function termsWithPrefix(prefix) {
    var terms = index.terms;
    var low = 0, high = terms.length;
    while (low < high) {
      var mid = (low + high) >> 1;
      if (terms[mid] < prefix) low = mid + 1; else high = mid;
    }
    var found = [];
    for (var i = low; i < terms.length && terms[i].lastIndexOf(prefix, 0) === 0; i++) found.push(i);
    return found;
  }

  // Scores of the documents a query word matches; an exact word counts more than a prefix.
  function scoresFor(word, allowPrefix) {
    var scores = {};
    var termIds = allowPrefix ? termsWithPrefix(word) : [];
    if (!allowPrefix) {
      var exact = termsWithPrefix(word);
      for (var e = 0; e < exact.length; e++) if (index.terms[exact[e]] === word) termIds.push(exact[e]);
    }
    for (var t = 0; t < termIds.length; t++) {
      var exactMatch = index.terms[termIds[t]] === word;
      var postings = index.postings[termIds[t]];
      for (var p = 0; p < postings.length; p += 2) {
        var doc = postings[p];
        var weight = postings[p + 1] * (exactMatch ? 1 : 0.6);
        if (!scores[doc] || scores[doc] < weight) scores[doc] = weight;
      }
    }
    return scores;
  }

  function search(query) {
    var queryWords = words(query);
    if (!queryWords.length) return [];
    var total = null;
    for (var w = 0; w < queryWords.length; w++) {
      // The word being typed matches as a prefix; finished words, with two or more letters, too.
      var scores = scoresFor(queryWords[w], queryWords[w].length >= 2 || w === queryWords.length - 1);
      if (total === null) {
        total = scores;
      } else {
        var both = {};
        for (var doc in total) if (scores[doc]) both[doc] = total[doc] + scores[doc];
        total = both;
      }
    }
    var results = [];
    for (var id in total) results.push({ doc: +id, score: total[id] });
    results.sort(function (a, b) { return b.score - a.score || a.doc - b.doc; });
    return results.slice(0, 12).map(function (r) {
      var doc = index.docs[r.doc];   // [page number, section anchor, section heading, snippet]
      var page = index.pages[doc[0]];
      return { title: page[0], url: page[1] + (doc[1] ? "#" + doc[1] : ""), heading: doc[2], snippet: doc[3], words: queryWords };
    });
  }

  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  // Put the text in an element, marking the query words in it.
  function appendMarked(parent, text, queryWords) {
    var pattern = new RegExp("(" + queryWords.map(escapeRegExp).join("|") + ")", "ig");
    var last = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      if (match[0].length === 0) { pattern.lastIndex++; continue; }
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var mark = document.createElement("mark");
      mark.textContent = match[0];
      parent.appendChild(mark);
      last = match.index + match[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function setUpSearch() {
    var form = document.querySelector("form.search");
    if (!form) return;
    var input = form.querySelector("input");
    var list = form.querySelector(".search-results");
    var siteRoot = form.getAttribute("data-root") || "";
    var indexSrc = form.getAttribute("data-index");
    var active = -1;

    function open() { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function message(text) {
      list.textContent = "";
      var item = document.createElement("li");
      item.className = "search-message";
      item.textContent = text;
      list.appendChild(item);
      open();
    }

    function render() {
      var query = input.value.trim();
      if (!query) { close(); return; }
      if (indexState === "failed") { message("The search index could not be loaded."); return; }
      if (indexState !== "ready") { message("Loading the search index…"); return; }
      var results = search(query);
      list.textContent = "";
      active = -1;
      if (!results.length) { message("No pages match “" + query + "”."); return; }
      for (var i = 0; i < results.length; i++) {
        var result = results[i];
        var item = document.createElement("li");
        item.id = "search-result-" + i;
        item.setAttribute("role", "option");
        var link = document.createElement("a");
        link.href = siteRoot + result.url;
        var title = document.createElement("span");
        title.className = "result-title";
        appendMarked(title, result.title, result.words);
        if (result.heading && result.heading !== result.title) {
          var section = document.createElement("span");
          section.className = "result-section";
          section.appendChild(document.createTextNode(" › "));
          appendMarked(section, result.heading, result.words);
          title.appendChild(section);
        }
        link.appendChild(title);
        if (result.snippet) {
          var snippet = document.createElement("span");
          snippet.className = "result-snippet";
          appendMarked(snippet, result.snippet, result.words);
          link.appendChild(snippet);
        }
        item.appendChild(link);
        list.appendChild(item);
      }
      open();
    }

    function move(step) {
      var items = list.querySelectorAll("[role=option]");
      if (!items.length) return;
      if (active >= 0) items[active].setAttribute("aria-selected", "false");
      active = (active + step + items.length) % items.length;
      items[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function ensureIndex() { loadIndex(indexSrc, render); }

    input.addEventListener("focus", ensureIndex);
    input.addEventListener("input", function () { ensureIndex(); render(); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Escape") { close(); input.blur(); }
      else if (event.key === "Enter") {
        event.preventDefault();
        var items = list.querySelectorAll("[role=option] a");
        var chosen = items[active >= 0 ? active : 0];
        if (chosen) window.location.href = chosen.href;
      }
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    document.addEventListener("click", function (event) { if (!form.contains(event.target)) close(); });
    // "/" focuses the search box, as on many documentation sites.
    document.addEventListener("keydown", function (event) {
      var tag = (event.target && event.target.tagName) || "";
      if (event.key === "/" && tag !== "INPUT" && tag !== "TEXTAREA" && !event.target.isContentEditable) {
        event.preventDefault();
        input.focus();
      }
    });
  }

  /* ---------- Site tree: close the drop-down when clicking elsewhere ---------- */

  function setUpSiteNav() {
    var nav = document.querySelector(".site-nav");
    if (!nav) return;
    document.addEventListener("click", function (event) {
      if (nav.open && !nav.contains(event.target)) nav.open = false;
    });
  }

  function start() {
    setUpThemeToggle();
    setUpIdentifierHighlighting();
    setUpSearch();
    setUpSiteNav();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
