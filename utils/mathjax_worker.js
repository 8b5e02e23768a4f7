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

// Typeset once at load, so that the snapshot holds MathJax with its code already compiled and its lazy
// tables filled: a cold build's first equations then run as fast as later ones (about a tenth less time in
// all). Generic TeX, not the site's: it only warms MathJax up. The plain worker does the same, so both start
// from the same state. Nothing here may define macros, which would outlive the warm-up.
const WARM_UP = [
  ["x", false],
  ["\\alpha_t + \\beta^2 - \\gamma_{i,j} \\cdot \\theta", false],
  ["\\frac{a}{b} = \\sqrt{x^2 + y^2} \\leq \\sum_{i=1}^{n} x_i", true],
  ["\\hat{m}_t \\leftarrow \\frac{m_t}{1 - \\beta_1^t}", true],
  ["\\textcolor{red}{x} + \\text{if } x > 0 \\quad \\mathbb{E}[x] \\in \\mathbb{R}^d", false],
  ["\\begin{align} a &= b + c \\\\ d &= \\frac{e}{f} \\end{align}", true],
  ["\\left( \\frac{1}{2} \\right) \\Big\\vert x \\Big\\vert \\lVert v \\rVert_2", true],
  ["\\begin{cases} 1 & x > 0 \\\\ 0 & \\text{otherwise} \\end{cases}", true],
  ["\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix} \\begin{bmatrix} 1 \\\\ 2 \\end{bmatrix}", true],
  ["\\operatorname{softmax}(x)_i = \\frac{\\exp(x_i)}{\\sum_j \\exp(x_j)}", true],
  ["\\mathcal{L}(\\theta) = -\\log p_\\theta(x) \\approx \\nabla_\\theta f(\\theta) \\odot g", false],
  ["\\prod_{k=1}^{K} \\int_0^\\infty e^{-x} \\, dx \\to \\lim_{n \\to \\infty} \\max_{i} \\min_j", true],
  ["\\overline{x} \\tilde{y} \\bar{z} \\vec{v} \\dot{a} \\underbrace{a+b}_{c} \\overbrace{d}^{e}", true],
  ["\\mathbf{W} \\boldsymbol{\\mu} \\mathrm{d} \\mathit{x} \\mathsf{s} \\mathtt{t} \\epsilon \\varepsilon \\rho_\\infty", false],
  ["\\begin{aligned} f(x) &\\approx \\tfrac{1}{2} x^\\top A x \\\\ &\\ne \\dfrac{1}{3} \\end{aligned}", true],
  ["\\begin{equation} \\label{eq:a} y = mx + c \\tag{1} \\end{equation}", true],
  ["a \\times b \\div c \\pm d \\mp e \\ll f \\gg g \\sim h \\equiv i \\propto j \\forall k \\exists l", false],
  ["\\{ x \\mid x \\in A \\cup B \\cap C \\setminus D \\subseteq E \\} \\emptyset \\langle u, v \\rangle", false],
  ["\\sqrt[3]{x} \\binom{n}{k} \\lfloor x \\rfloor \\lceil y \\rceil \\ldots \\cdots \\vdots \\ddots", true],
  ["\\color{blue}{a} \\colorbox{yellow}{b} \\boxed{c} \\cancel{d} \\xrightarrow{e} \\underset{f}{g} \\stackrel{h}{=}", true],
];

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
  const jax = {
    typeset(request) {
      // Each equation starts with fresh equation numbering and labels, so output never depends on order.
      tex.parseOptions.tags.reset();
      return adaptor.outerHTML(html.convert(request.tex, {display: Boolean(request.display)}));
    },
    stylesheet() {
      return adaptor.textContent(svg.styleSheet(html));
    },
  };
  for (const [source, display] of WARM_UP) jax.typeset({tex: source, display});
  return jax;
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
