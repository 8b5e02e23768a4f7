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

  /* ---------- Identifier highlighting by keyboard ----------
     A roving tab stop: of the thousands of names in the code exactly one is in the tab order (tabindex=0;
     first the page's first name, then whichever name was last clicked or moved to), so the code adds one
     tab stop to a page, not hundreds. On that name: Enter or Space highlights every use (again: clears),
     Left / Right go to the previous / next name, Up / Down to the previous / next use of the same name,
     Home / End to the first / last name, Escape clears. */
  var IDENT_FOCUS = "data-ident-focus";
  var nameSpans = null;   // every name in the code, in page order (the code never changes once loaded)

  function allNames() {
    if (!nameSpans) {
      var selector = NAME_CLASSES.map(function (c) { return ".code span." + c; }).join(",");
      nameSpans = Array.prototype.slice.call(document.querySelectorAll(selector));
    }
    return nameSpans;
  }

  function makeRover(span, hint, focusOptions) {
    var previous = document.querySelector("[" + IDENT_FOCUS + "]");
    if (previous && previous !== span) {
      previous.removeAttribute(IDENT_FOCUS);
      previous.removeAttribute("tabindex");
      previous.removeAttribute("aria-describedby");
    }
    span.setAttribute(IDENT_FOCUS, "");
    span.setAttribute("aria-describedby", hint.id);
    span.tabIndex = 0;
    if (focusOptions) span.focus(focusOptions);
  }

  function setUpIdentifierKeyboard() {
    var first = allNames()[0];
    if (!first) return;
    var hint = document.createElement("span");
    hint.id = "ident-keys-hint";
    hint.hidden = true;
    hint.textContent = "Enter highlights every use of this name; arrow keys move between names and uses.";
    document.body.appendChild(hint);
    makeRover(first, hint, null);
    document.addEventListener("click", function (event) {
      // Keys go on from the name clicked; no scrolling, and no focus ring after a click.
      if (isName(event.target)) makeRover(event.target, hint, { preventScroll: true });
    });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (!target.hasAttribute || !target.hasAttribute(IDENT_FOCUS)) return;
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      var key = event.key, names = allNames(), at = names.indexOf(target), next = null;
      if (key === "Enter" || key === " ") {
        event.preventDefault();   // Space would scroll the page
        if (target.textContent === highlightedName) clearHighlight(); else highlightName(target.textContent);
        return;
      }
      if (key === "ArrowRight") next = names[at + 1];
      else if (key === "ArrowLeft") next = names[at - 1];
      else if (key === "Home") next = names[0];
      else if (key === "End") next = names[names.length - 1];
      else if (key === "ArrowDown" || key === "ArrowUp") {
        var step = key === "ArrowDown" ? 1 : -1;
        for (var i = 1; i < names.length && !next; i++) {
          var candidate = names[(at + step * i + names.length * i) % names.length];
          if (candidate.textContent === target.textContent) next = candidate;
        }
      } else return;
      event.preventDefault();   // arrows would scroll the page
      if (next) makeRover(next, hint, { preventScroll: false });
    });
  }

  /* ---------- Search ---------- */
  // Folding, weights and the index's shape follow utils/search_index.py (its docstring); the table of Greek
  // letters and the stop words come from the index file, so the two sides fold words alike.

  var index = null;          // the parsed index once loaded
  var indexState = "idle";   // idle | loading | ready | failed
  var waiting = [];
  var SNIPPET_CHARS = 150;   // text shown around the match
  var SNIPPET_LEAD = 45;     // of which before the first matched word, at most

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

  function flush() {
    var callbacks = waiting;
    waiting = [];
    for (var i = 0; i < callbacks.length; i++) callbacks[i]();
  }

  // -- Folding (search_index.fold / fold_words): each character lower-cased, decomposed, accents dropped, a
  // Greek letter spelled out as a word of its own; a Greek letter's name and the number after it are one word.
  var greekLetters = {}, greekNames = {}, stopWords = {}, foldCache = Object.create(null), joinNumber = null;
  var NON_ASCII = /[\ud800-\udbff][\udc00-\udfff]|[^\x00-\x7f]/g;

  function setFolding(raw) {
    var fold = raw.fold || {};
    greekLetters = fold.greek || {};
    greekNames = Object.create(null);   // no prototype: "constructor" is a word, not a Greek letter
    for (var letter in greekLetters) greekNames[greekLetters[letter]] = true;
    // A name (a whole word), then spaces, "_" or "{", then a number (a whole word): one word, as in `scan`.
    joinNumber = new RegExp("(^|[^a-z0-9])(" + Object.keys(greekNames).sort().join("|") +
                            ")[\\s_{]*([0-9]+)(?![a-z0-9])", "g");
    stopWords = Object.create(null);
    var stop = (fold.stop || "").split(" ");
    for (var s = 0; s < stop.length; s++) if (stop[s]) stopWords[stop[s]] = true;
    foldCache = Object.create(null);
  }

  function foldChar(ch) {
    var folded = foldCache[ch];
    if (folded !== undefined) return folded;
    var plain = ch.toLowerCase();
    if (plain.normalize) plain = plain.normalize("NFKD").toLowerCase().replace(/[\u0300-\u036f]/g, "");
    folded = "";
    for (var i = 0; i < plain.length; i++) {
      var name = greekLetters[plain.charAt(i)];
      folded += name ? " " + name + " " : plain.charAt(i);
    }
    return (foldCache[ch] = folded);
  }

  // The words of a text, and where each starts and ends in the text (for marking it).
  function scan(text) {
    var replaced = [], shift = 0;   // replaced: [folded start, text start, text length, folded length]
    var folded = text.replace(NON_ASCII, function (ch, offset) {
      var piece = foldChar(ch);
      replaced.push([offset + shift, offset, ch.length, piece.length]);
      shift += piece.length - ch.length;
      return piece;
    }).toLowerCase();
    // Where folded position `at` comes from in the text (`end`: the end of the character it comes from).
    function source(at, end) {
      var low = 0, high = replaced.length;
      while (low < high) { var mid = (low + high) >> 1; if (replaced[mid][0] <= at) low = mid + 1; else high = mid; }
      if (!low) return at + (end ? 1 : 0);
      var r = replaced[low - 1];
      if (at < r[0] + r[3]) return r[1] + (end ? r[2] : 0);
      return at - r[0] - r[3] + r[1] + r[2] + (end ? 1 : 0);
    }
    var words = [], starts = [], ends = [], pattern = /[a-z0-9]+/g, found, lastEnd = -1;
    while ((found = pattern.exec(folded)) !== null) {
      var word = found[0], n = words.length;
      if (n && greekNames[words[n - 1]] && /^[0-9]+$/.test(word) &&
          /^[\s_{]*$/.test(folded.slice(lastEnd, found.index))) {
        words[n - 1] += word;
        ends[n - 1] = source(found.index + word.length - 1, true);
      } else {
        words.push(word);
        starts.push(source(found.index, false));
        ends.push(source(found.index + word.length - 1, true));
      }
      lastEnd = found.index + word.length;
    }
    return { words: words, starts: starts, ends: ends };
  }

  // The same words as `scan`, faster (the index's whole text goes through here on the first search).
  function words(text) {
    var folded = text.replace(NON_ASCII, foldChar).toLowerCase();
    return (joinNumber ? folded.replace(joinNumber, "$1$2$3") : folded).match(/[a-z0-9]+/g) || [];
  }

  function indexable(word) { return word.length > 1 && !stopWords[word]; }

  // The file holds each page's entries as the page gave them (so a rebuild only joins strings); turn them
  // into documents and, per term, its (document, weight) pairs, with the terms sorted for prefix search.
  // Weights as search_index.entry_terms: title (page top) > heading > summary (page top) > text (1 to 4).
  function invert(raw) {
    setFolding(raw);
    var weights = raw.weights || {};
    var pages = [], docs = [], byTerm = Object.create(null);   // no prototype: "constructor" is a word too
    function raise(termWeights, text, weight) {
      var found = words(text);
      for (var i = 0; i < found.length; i++) {
        if (indexable(found[i]) && !(termWeights[found[i]] >= weight)) termWeights[found[i]] = weight;
      }
    }
    for (var p = 0; p < raw.pages.length; p++) {
      var page = raw.pages[p], summary = page[3] || "";
      pages.push([page[0], page[1], summary]);
      for (var d = 0; d < page[2].length; d++) {
        var entry = page[2][d], id = docs.length, top = entry[0] === "";
        var headings = [entry[1]].concat(entry[3] || []).join(" ");
        docs.push([p, entry[0], entry[1], entry[2]]);   // [page number, section anchor, heading, text]
        var counts = Object.create(null), found = words(entry[2]), term;
        for (var w = 0; w < found.length; w++) {
          if (indexable(found[w])) counts[found[w]] = (counts[found[w]] || 0) + 1;
        }
        var termWeights = Object.create(null);
        for (term in counts) {
          var count = counts[term];
          termWeights[term] = count === 1 ? 1 : count === 2 ? 2 : count < 6 ? 3 : 4;
        }
        if (top) raise(termWeights, summary, weights.summary || 6);
        raise(termWeights, headings, weights.heading || 8);
        if (top) raise(termWeights, page[0], weights.title || 20);
        for (term in termWeights) (byTerm[term] || (byTerm[term] = [])).push(id, termWeights[term]);
      }
    }
    var terms = Object.keys(byTerm).sort();
    return { pages: pages, docs: docs, terms: terms, postings: terms.map(function (t) { return byTerm[t]; }) };
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

  // The query's words: each finished word of two or more letters, and the word being typed, match as
  // prefixes too. A stop word or a single letter is never indexed: it may add to a score, never decide.
  function queryTerms(query) {
    var found = words(query), terms = [], seen = Object.create(null);
    for (var w = 0; w < found.length; w++) {
      var word = found[w], last = w === found.length - 1;
      if (seen[word] || (!last && !indexable(word))) continue;
      seen[word] = true;
      terms.push({ word: word, prefix: word.length >= 2 || last, optional: !indexable(word) });
    }
    return terms;
  }

  // Documents matching more of the query's words first, then by the sum of the words' weights (a title
  // match outweighs a heading match, which outweighs the text), then in site order.
  function search(query) {
    var terms = queryTerms(query);
    if (!terms.length) return [];
    var matched = {}, total = {};
    for (var t = 0; t < terms.length; t++) {
      var scores = scoresFor(terms[t].word, terms[t].prefix);
      for (var doc in scores) {
        matched[doc] = (matched[doc] || 0) + (terms[t].optional ? 0 : 1);
        total[doc] = (total[doc] || 0) + scores[doc];
      }
    }
    var results = [];
    for (var id in total) results.push({ doc: +id, matched: matched[id], score: total[id] });
    results.sort(function (a, b) { return b.matched - a.matched || b.score - a.score || a.doc - b.doc; });
    return results.slice(0, 12).map(function (r) {
      var doc = index.docs[r.doc];   // [page number, section anchor, section heading, text]
      var page = index.pages[doc[0]];
      return { title: page[0], url: page[1] + (doc[1] ? "#" + doc[1] : ""), heading: doc[2],
               snippet: snippet(doc[3], doc[1] ? "" : page[2], terms), terms: terms };
    });
  }

  // Where the query's words are in a text: [start, end) of each matching word, in order.
  function hitsIn(text, terms) {
    var scanned = scan(text), hits = [];
    for (var i = 0; i < scanned.words.length; i++) {
      var word = scanned.words[i];
      if (!indexable(word)) continue;
      for (var t = 0; t < terms.length; t++) {
        if (word === terms[t].word || (terms[t].prefix && word.lastIndexOf(terms[t].word, 0) === 0)) {
          hits.push([scanned.starts[i], scanned.ends[i], t]);
          break;
        }
      }
    }
    return hits;
  }

  // The part of a document's text around its best match (the window with most of the query's words, the
  // first such), with the matched words' places; the start of the text, or the page's summary, if the
  // words are only in the title or a heading.
  function snippet(text, summary, terms) {
    var hits = hitsIn(text, terms);
    if (!hits.length && summary) {
      var summaryHits = hitsIn(summary, terms);
      if (summaryHits.length || !text) { text = summary; hits = summaryHits; }
    }
    var start = 0, bestCount = 0;
    for (var h = 0; h < hits.length; h++) {
      var seen = {}, count = 0;
      for (var k = h; k < hits.length && hits[k][1] <= hits[h][0] + SNIPPET_CHARS - SNIPPET_LEAD; k++) {
        if (!seen[hits[k][2]]) { seen[hits[k][2]] = true; count++; }
      }
      if (count > bestCount) { bestCount = count; start = hits[h][0]; }
    }
    var from = Math.max(0, start - SNIPPET_LEAD), to = Math.min(text.length, from + SNIPPET_CHARS);
    if (to === text.length) from = Math.max(0, Math.min(from, to - SNIPPET_CHARS));
    // Cut at spaces, never inside a word (nor past the match itself).
    if (from > 0 && text.charAt(from - 1) !== " ") {
      var space = text.indexOf(" ", from);
      if (space >= 0 && space < start) from = space + 1;
    }
    if (to < text.length) { var back = text.lastIndexOf(" ", to); if (back > start) to = back; }
    var marks = [];
    for (var m = 0; m < hits.length; m++) {
      if (hits[m][0] >= from && hits[m][1] <= to) marks.push([hits[m][0] - from, hits[m][1] - from]);
    }
    return { text: text.slice(from, to), marks: marks, before: from > 0, after: to < text.length };
  }

  // Put the text in an element, the given [start, end) ranges marked.
  function appendRanges(parent, text, ranges) {
    var last = 0;
    for (var i = 0; i < ranges.length; i++) {
      if (ranges[i][0] < last) continue;
      parent.appendChild(document.createTextNode(text.slice(last, ranges[i][0])));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(ranges[i][0], ranges[i][1]);
      parent.appendChild(mark);
      last = ranges[i][1];
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // Put the text in an element, marking the query's words in it.
  function appendMarked(parent, text, terms) {
    appendRanges(parent, text, hitsIn(text, terms));
  }

  // For the tests and for timing a query from the console.
  window.siteSearch = {
    words: words, search: search,
    scannedWords: function (text) { return scan(text).words; },
    ready: function () { return indexState === "ready"; }
  };

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
        appendMarked(title, result.title, result.terms);
        if (result.heading && result.heading !== result.title) {
          var section = document.createElement("span");
          section.className = "result-section";
          section.appendChild(document.createTextNode(" › "));
          appendMarked(section, result.heading, result.terms);
          title.appendChild(section);
        }
        link.appendChild(title);
        if (result.snippet.text) {
          var snippetText = document.createElement("span");
          snippetText.className = "result-snippet";
          if (result.snippet.before) snippetText.appendChild(document.createTextNode("…"));
          appendRanges(snippetText, result.snippet.text, result.snippet.marks);
          if (result.snippet.after) snippetText.appendChild(document.createTextNode("…"));
          link.appendChild(snippetText);
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
      else if (event.key === "Escape" && !list.hidden) { close(); }   // focus stays in the box
      else if (event.key === "Escape") { input.blur(); }
      else if (event.key === "Enter") {
        event.preventDefault();
        var items = list.querySelectorAll("[role=option] a");
        var chosen = items[active >= 0 ? active : 0];
        if (chosen) window.location.href = chosen.href;
      }
    });
    // Escape on a result reached with Tab closes the list and returns to the box (focusing it first: its
    // focus handler would show the results again).
    list.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); input.focus(); close(); }
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

  /* ---------- Math: copying keeps the TeX (data-tex, written by utils/render_markdown.py) ---------- */
  // Typeset math has no text of its own (MathJax draws it with CSS), so the browser's copy drops it. A copied
  // selection that holds math is written out here instead: plain text, each equation as $tex$ or $$tex$$.
  // A display equation also offers "Copy TeX" on a click, or on Enter / Space once focused.

  var pendingCopy = null;   // text for the next copy event (the "Copy TeX" button), instead of the selection

  function mathTex(math) {
    var tex = math.getAttribute("data-tex");
    if (tex === null) return math.textContent;   // an equation MathJax rejected shows its TeX as written
    return math.classList.contains("display") ? "$$" + tex + "$$" : "$" + tex + "$";
  }

  // -1, 0 or 1: where the point (nodeA, offsetA) lies relative to (nodeB, offsetB) in the document.
  function comparePoints(nodeA, offsetA, nodeB, offsetB) {
    var a = document.createRange(), b = document.createRange();
    a.setStart(nodeA, offsetA);
    b.setStart(nodeB, offsetB);
    return a.compareBoundaryPoints(Range.START_TO_START, b);
  }

  // Whether the range holds part of this element (touching its edge from outside does not count).
  function rangeOverlaps(range, element) {
    return comparePoints(range.endContainer, range.endOffset, element, 0) > 0 &&
      comparePoints(element, element.childNodes.length, range.startContainer, range.startOffset) > 0;
  }

  function rangeRoot(range) {
    var node = range.commonAncestorContainer;
    var element = node.nodeType === 1 ? node : node.parentElement;
    var math = element && element.closest(".math");
    return math || node;
  }

  function rangeHasMath(range) {
    var root = rangeRoot(range);
    if (root.nodeType === 1 && root.matches(".math")) return true;
    if (root.nodeType !== 1) return false;
    var maths = root.querySelectorAll(".math");
    for (var i = 0; i < maths.length; i++) if (rangeOverlaps(range, maths[i])) return true;
    return false;
  }

  var PRESERVED_SPACE = /^(pre|pre-wrap|pre-line|break-spaces)$/;
  var BLOCK_DISPLAY = /^(block|flex|grid|list-item|table|table-row|table-caption|flow-root)$/;

  // Pieces of text (with whether their spaces collapse) and line breaks (numbers), in document order.
  function collect(node, range, pieces) {
    if (node.nodeType === 3) {
      var text = node.data;
      var end = node === range.endContainer ? range.endOffset : text.length;
      var start = node === range.startContainer ? range.startOffset : 0;
      var parent = node.parentElement;
      var keep = !!parent && PRESERVED_SPACE.test(getComputedStyle(parent).whiteSpace);
      pieces.push({ text: keep ? text.slice(start, end) : text.slice(start, end).replace(/[ \t\n\r\f]+/g, " "), keep: keep });
      return;
    }
    if (node.nodeType !== 1 && node.nodeType !== 9 && node.nodeType !== 11) return;
    var style = node.nodeType === 1 ? getComputedStyle(node) : null;
    if (style && node.matches(".math")) {
      if (!rangeOverlaps(range, node)) return;
      var block = BLOCK_DISPLAY.test(style.display);
      if (block) pieces.push(1);
      pieces.push({ text: mathTex(node), keep: true });
      if (block) pieces.push(1);
      return;
    }
    // Hidden text, and text readers cannot select: line numbers, MathJax's copy for screen readers.
    if (style && (style.display === "none" || (style.userSelect || style.webkitUserSelect) === "none")) return;
    if (node.tagName === "BR") { pieces.push({ text: "\n", keep: true }); return; }
    var breaks = !style ? 0 : /^(P|H[1-6])$/.test(node.tagName) ? 2 : BLOCK_DISPLAY.test(style.display) ? 1 : 0;
    if (breaks) pieces.push(breaks);
    for (var child = node.firstChild; child; child = child.nextSibling) {
      if (range.intersectsNode(child)) collect(child, range, pieces);
    }
    if (breaks) pieces.push(breaks);
  }

  // Join the pieces as the browser's own copy would: collapsed spaces, breaks only between text.
  function joinPieces(pieces) {
    var result = "", breaks = 0;
    for (var i = 0; i < pieces.length; i++) {
      var piece = pieces[i];
      if (typeof piece === "number") { breaks = Math.max(breaks, piece); continue; }
      var text = piece.text;
      if (!piece.keep && (breaks || result === "" || /[ \n]$/.test(result))) text = text.replace(/^ /, "");
      if (!text) continue;
      if (breaks && result) result = result.replace(/ +$/, "") + new Array(breaks + 1).join("\n");
      breaks = 0;
      result += text;
    }
    return result.replace(/ +$/, "");
  }

  function selectionText(selection) {
    var parts = [];
    for (var i = 0; i < selection.rangeCount; i++) {
      var range = selection.getRangeAt(i), pieces = [];
      collect(rangeRoot(range), range, pieces);
      parts.push(joinPieces(pieces));
    }
    return parts.join("\n");
  }

  function setUpMathCopy() {
    document.addEventListener("copy", function (event) {
      if (!event.clipboardData) return;
      var text = pendingCopy;
      if (text === null) {
        var selection = window.getSelection();
        if (!selection || selection.isCollapsed) return;
        var hasMath = false;
        for (var i = 0; i < selection.rangeCount && !hasMath; i++) hasMath = rangeHasMath(selection.getRangeAt(i));
        if (!hasMath) return;   // no math: the browser's own copy (code still drops its line numbers)
        text = selectionText(selection);
      }
      event.clipboardData.setData("text/plain", text);
      event.preventDefault();
    });
  }

  function copyText(text, done) {
    var copied = false;
    pendingCopy = text;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    pendingCopy = null;
    if (copied || !(navigator.clipboard && navigator.clipboard.writeText)) { done(copied); return; }
    navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
  }

  var EQUATION = ".math.display[data-tex]";

  function setUpCopyTex() {
    if (!document.querySelector(EQUATION)) return;
    var hint = document.createElement("span");
    hint.id = "copy-tex-hint";
    hint.hidden = true;
    hint.textContent = "Press Enter to copy its TeX.";
    document.body.appendChild(hint);
    var equations = document.querySelectorAll(EQUATION);
    for (var i = 0; i < equations.length; i++) {
      equations[i].tabIndex = 0;
      equations[i].setAttribute("aria-describedby", "copy-tex-hint");
    }

    var popover = document.createElement("span");
    popover.className = "copy-tex-popover";
    popover.hidden = true;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-tex";
    button.textContent = "Copy TeX";
    button.setAttribute("aria-label", "Copy TeX of this equation");
    var status = document.createElement("span");
    status.className = "copy-tex-status";
    status.setAttribute("role", "status");
    popover.appendChild(button);
    popover.appendChild(status);
    var current = null;   // the equation the popover is open on

    function close(refocus) {
      if (!current) return;
      var equation = current;
      current = null;
      popover.hidden = true;
      if (refocus) equation.focus();
    }

    function open(equation) {
      current = equation;
      button.textContent = "Copy TeX";
      status.textContent = "";
      // Right after the equation, so Tab goes on from there; placed over its top right corner.
      equation.insertAdjacentElement("afterend", popover);
      popover.hidden = false;
      var parent = popover.offsetParent || document.body;
      var box = equation.getBoundingClientRect(), frame = parent.getBoundingClientRect();
      popover.style.top = Math.round(box.top - frame.top + parent.scrollTop) + "px";
      popover.style.right = Math.max(0, Math.round(frame.right - box.right)) + "px";
      button.focus();
    }

    button.addEventListener("click", function () {
      if (!current) return;
      copyText(mathTex(current), function (copied) {
        button.textContent = copied ? "Copied" : "Copy failed";
        status.textContent = copied ? "TeX copied to the clipboard" : "The TeX could not be copied";
      });
    });
    document.addEventListener("click", function (event) {
      var target = event.target;
      if (!target.closest || popover.contains(target)) return;
      var equation = target.closest(EQUATION);
      var selection = window.getSelection();
      // A drag that selected text, or a click on a link in the equation, is not a request to copy.
      if (equation && (target.closest("a") || (selection && !selection.isCollapsed))) equation = null;
      if (equation && equation !== current) open(equation); else close(false);
    });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if ((event.key === "Enter" || event.key === " ") && target.matches && target.matches(EQUATION)) {
        event.preventDefault();   // Space would scroll the page
        if (target === current) close(false); else open(target);
      } else if (event.key === "Escape" && current) {
        close(popover.contains(document.activeElement) || document.activeElement === current);
      }
    });
    popover.addEventListener("focusout", function (event) {
      var next = event.relatedTarget;
      if (next && !popover.contains(next) && next !== current) close(false);
    });
    window.addEventListener("resize", function () { close(false); });
  }

  /* ---------- Site tree: close the drop-down when clicking elsewhere ---------- */

  function setUpSiteNav() {
    var nav = document.querySelector(".site-nav");
    if (!nav) return;
    document.addEventListener("click", function (event) {
      if (nav.open && !nav.contains(event.target)) nav.open = false;
    });
    // Escape closes the open menu; focus returns to its button when it was in the menu (or nowhere).
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !nav.open) return;
      var focused = document.activeElement;
      nav.open = false;
      if (!focused || focused === document.body || nav.contains(focused)) nav.querySelector("summary").focus();
    });
  }

  /* ---------- Boxes that scroll sideways are reachable by keyboard ----------
     A wide table or a long display equation scrolls inside its own box on a narrow screen. While a box
     scrolls it is a tab stop with a name, so arrow keys can scroll it; once it fits it is not, so wide
     screens get no extra stops. A box is measured when it nears the viewport (sections off screen are not
     laid out, and measuring would lay them out) and again after a resize. One that is already a tab stop
     for another reason is left alone. */
  var SCROLL_BOXES = ".notes table, .math.display";

  function markIfScrolls(box) {
    var scrolls = box.scrollWidth > box.clientWidth + 1;
    var marked = box.getAttribute("data-scrolls");
    if (scrolls && marked === null && box.tabIndex < 0) {
      var labelled = box.hasAttribute("aria-label");
      box.setAttribute("data-scrolls", labelled ? "" : "labelled");
      box.tabIndex = 0;
      if (box.tagName !== "TABLE") box.setAttribute("role", "region");   // a table keeps its own role
      if (!labelled) box.setAttribute("aria-label", (box.tagName === "TABLE" ? "Table" : "Equation") + ", scrolls sideways");
    } else if (!scrolls && marked !== null) {
      box.removeAttribute("data-scrolls");
      box.removeAttribute("tabindex");
      if (box.tagName !== "TABLE") box.removeAttribute("role");
      if (marked === "labelled") box.removeAttribute("aria-label");
    }
  }

  function setUpScrollableBoxes() {
    var boxes = document.querySelectorAll(SCROLL_BOXES);
    if (!boxes.length || !window.IntersectionObserver) return;
    var near = [];
    var observer = new IntersectionObserver(function (entries) {
      for (var i = 0; i < entries.length; i++) {
        var box = entries[i].target, at = near.indexOf(box);
        if (entries[i].isIntersecting) {
          if (at < 0) near.push(box);
          markIfScrolls(box);
        } else if (at >= 0) {
          near.splice(at, 1);
        }
      }
    }, { rootMargin: "200px 0px" });
    for (var i = 0; i < boxes.length; i++) observer.observe(boxes[i]);
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { near.forEach(markIfScrolls); }, 150);
    });
  }

  function start() {
    setUpThemeToggle();
    setUpIdentifierHighlighting();
    setUpIdentifierKeyboard();
    setUpSearch();
    setUpSiteNav();
    setUpMathCopy();
    setUpCopyTex();
    setUpScrollableBoxes();   // after setUpCopyTex: equations it made tab stops are left alone
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
