// Long-lived MathJax worker: typesets TeX to CommonHTML (with assistive MathML) for the site build.
//
// Protocol, one JSON object per line:
//   stdin : {"id": 3, "tex": "\\frac{a}{b}", "display": true}
//   stdout: {"id": 3, "html": "<mjx-container ...>...</mjx-container>"}
//        or {"id": 3, "error": "Undefined control sequence \\foo"}
// A request {"id": 0, "stylesheet": true} answers {"id": 0, "css": "..."}: the CSS the output needs.
//
// CommonHTML writes each character as an element with CSS classes (<mjx-c class="mjx-c1D465 TEX-I">) and
// draws it with MathJax's web fonts, so an equation is a few hundred bytes where an SVG with its glyph paths
// inline was several kilobytes. The classes are defined by the one stylesheet, which the site serves at
// static/mathjax.css with the fonts beside it in static/mathjax-fonts/ (FONT_FOLDER below; the Python side
// copies them, see utils/mathjax_install.py). The stylesheet is MathJax's whole one (adaptiveCSS off): it
// defines every character of every font, not only those this worker has typeset, so it is the same whichever
// equations came before it (or whether they came from the cache), and so is every equation's HTML.
//
// Each equation also drops what MathJax writes for the browser's own MathJax and old browsers but that a
// static page never reads (`slim` below): a tenth of the bytes, the same rendering and the same MathML.
//
// Started as `node mathjax_worker.js`, with NODE_PATH naming the node_modules folder that holds mathjax-full
// (utils/mathjax_install.py finds it), so it runs from any folder; or as the bundle of this file that
// utils/mathjax_install.py makes (same answers, faster).
'use strict';

// Where the fonts are, relative to the stylesheet (static/mathjax.css -> static/mathjax-fonts/).
const FONT_FOLDER = 'mathjax-fonts';

// The assistive MathML's anchor, which MathJax writes on every container as style="position: relative;".
const CONTAINER_CSS = '\nmjx-container[jax="CHTML"] {\n  position: relative;\n}\n';

// What the equation's HTML need not say (MathJax's output is otherwise kept as it is):
//  - the container's style="position: relative;" (CONTAINER_CSS says it once; any other style is kept);
//  - unselectable="on" on the MathML copy (for old Internet Explorer; the stylesheet's user-select does it);
//  - xmlns on <math> (HTML's parser puts <math> in the MathML namespace without it);
//  - data-mjx-* attributes in the MathML copy (notes for MathJax's own re-reading; screen readers skip them).
function slim(adaptor, container) {
  if (adaptor.getAttribute(container, 'style') === 'position: relative;') adaptor.removeAttribute(container, 'style');
  const strip = (node) => {
    if (adaptor.kind(node) === '#text' || adaptor.kind(node) === '#comment') return;
    for (const {name} of adaptor.allAttributes(node)) {
      if (name.startsWith('data-mjx-') || (name === 'xmlns' && adaptor.kind(node) === 'math')) {
        adaptor.removeAttribute(node, name);
      }
    }
    for (const child of adaptor.childNodes(node)) strip(child);
  };
  for (const child of adaptor.childNodes(container)) {
    if (adaptor.kind(child) === 'mjx-assistive-mml') {
      adaptor.removeAttribute(child, 'unselectable');
      strip(child);
    }
  }
  return container;
}

// Commands whose effect outlives the equation that uses them (macros, environments, operators, colours, tag
// forms, package options), by the names MathJax 3.2's TeX packages give them.
const STATEFUL = new Set([
  'newcommand', 'renewcommand', 'newenvironment', 'renewenvironment', 'def', 'let', 'DeclareMathOperator',
  'DeclarePairedDelimiter', 'DeclarePairedDelimiterX', 'DeclarePairedDelimiterXPP', 'DeclarePairedDelimiters',
  'DeclarePairedDelimitersX', 'DeclarePairedDelimitersXPP', 'newtagform', 'renewtagform', 'usetagform',
  'mathtoolsset', 'definecolor', 'Newextarrow', 'setOptions', 'require', 'Require',
]);

function mayChangeState(source) {
  return (source.match(/\\[A-Za-z]+/g) || []).some((cs) => STATEFUL.has(cs.slice(1)));
}

function loadMathJax() {
  const {mathjax} = require('mathjax-full/js/mathjax.js');
  const {TeX} = require('mathjax-full/js/input/tex.js');
  const {CHTML} = require('mathjax-full/js/output/chtml.js');
  const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
  const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
  const {AssistiveMmlHandler} = require('mathjax-full/js/a11y/assistive-mml.js');
  const {AllPackages} = require('mathjax-full/js/input/tex/AllPackages.js');

  // 'noerrors' and 'noundefined' would turn bad TeX into red text on the page; we want the build to fail.
  const packages = AllPackages.filter((name) => name !== 'noerrors' && name !== 'noundefined');
  const adaptor = liteAdaptor();
  AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
  const chtml = new CHTML({fontURL: FONT_FOLDER, adaptiveCSS: false});
  const fresh = () => {
    const tex = new TeX({packages, formatError: (jax, error) => { throw error; }});
    return {tex, html: mathjax.document('', {InputJax: tex, OutputJax: chtml})};
  };
  let current = fresh();
  let css = null;
  return {
    typeset(request) {
      // Each equation starts with fresh equation numbering and labels and none of the definitions of the ones
      // before it, so output never depends on order (or on which equations came from the cache). Fresh TeX
      // input takes a few ms, so it is made only after an equation that may have defined something.
      if (current === null) current = fresh();
      const {tex, html} = current;
      tex.parseOptions.tags.reset();
      if (mayChangeState(request.tex)) current = null;
      return adaptor.outerHTML(slim(adaptor, html.convert(request.tex, {display: Boolean(request.display)})));
    },
    stylesheet() {
      if (css === null) css = adaptor.textContent(chtml.styleSheet((current || fresh()).html)) + CONTAINER_CSS;
      return css;
    },
  };
}

function answer(jax, line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    return {id: -1, error: 'bad request: ' + error.message};
  }
  if (request.stylesheet) return {id: request.id, css: jax.stylesheet()};
  try {
    return {id: request.id, html: jax.typeset(request)};
  } catch (error) {
    return {id: request.id, error: String((error && error.message) || error)};
  }
}

function serve(jax) {
  const readline = require('readline');
  const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
  const out = [];
  let pending = false;
  const flush = () => {
    if (out.length) {
      process.stdout.write(out.join(''));
      out.length = 0;
    }
  };
  lines.on('line', (line) => {
    if (!line.trim()) return;
    out.push(JSON.stringify(answer(jax, line)) + '\n');
    // Batch writes: flush every 64 replies, and whenever input goes quiet.
    if (out.length >= 64) flush();
    if (!pending) {
      pending = true;
      setImmediate(() => { pending = false; flush(); });
    }
  });
  lines.on('close', flush);
}

serve(loadMathJax());
