// Long-lived MathJax worker: typesets TeX to SVG (with assistive MathML) for the site build.
//
// Protocol, one JSON object per line:
//   stdin : {"id": 3, "tex": "\\frac{a}{b}", "display": true}
//   stdout: {"id": 3, "html": "<mjx-container ...>...</mjx-container>"}
//        or {"id": 3, "error": "Undefined control sequence \\foo"}
// A request {"id": 0, "stylesheet": true} answers {"id": 0, "css": "..."}: the CSS the output needs.
// Glyphs are written inline into each SVG (fontCache 'none'), so output depends only on the TeX and
// no element ids are shared between equations on a page.
//
// Two ways to start it, same answers (tested):
//   node mathjax_worker.js                      loads MathJax (about 0.3 s), then serves;
//   node --snapshot-blob worker.blob            a V8 startup snapshot taken right after loading MathJax
//                                               (utils/mathjax_snapshot.py makes it), which skips the load.
'use strict';

function loadMathJax() {
  const {mathjax} = require('mathjax-full/js/mathjax.js');
  const {TeX} = require('mathjax-full/js/input/tex.js');
  const {SVG} = require('mathjax-full/js/output/svg.js');
  const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
  const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
  const {AssistiveMmlHandler} = require('mathjax-full/js/a11y/assistive-mml.js');
  const {AllPackages} = require('mathjax-full/js/input/tex/AllPackages.js');

  // 'noerrors' and 'noundefined' would turn bad TeX into red text on the page; we want the build to fail.
  const packages = AllPackages.filter((name) => name !== 'noerrors' && name !== 'noundefined');
  const adaptor = liteAdaptor();
  AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
  const tex = new TeX({
    packages,
    formatError: (jax, error) => { throw error; },
  });
  const svg = new SVG({fontCache: 'none'});
  const html = mathjax.document('', {InputJax: tex, OutputJax: svg});
  return {
    typeset(request) {
      // Each equation starts with fresh equation numbering and labels, so output never depends on order.
      tex.parseOptions.tags.reset();
      return adaptor.outerHTML(html.convert(request.tex, {display: Boolean(request.display)}));
    },
    stylesheet() {
      return adaptor.textContent(svg.styleSheet(html));
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

const snapshot = require('v8').startupSnapshot;
if (snapshot && snapshot.isBuildingSnapshot()) {
  const jax = loadMathJax();
  snapshot.setDeserializeMainFunction(() => serve(jax));
} else {
  serve(loadMathJax());
}
