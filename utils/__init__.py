"""The site generator: annotated Python modules -> side-by-side pages (notes and math left, code right).

The stages, each one module with one job, in the order a page goes through them:

    read_source      find the source files and read them as text (no import, no exec)
    split_sections   cut a module into sections: notes (docstrings, comments) beside the code they explain
    render_markdown  Markdown to HTML; math, links and headings are collected for the next stages
    typeset_math     TeX to CommonHTML with MathJax (found by mathjax_install), in one long-lived Node worker,
                     with a persistent cache
    highlight_code   Pygments highlighting of the code column and of fenced code in notes
    check_links      every relative link in notes must reach a page, an anchor or a file
    render_page      Jinja2 templates -> HTML text
    write_site       write into a temporary folder beside the output, then swap it in atomically

`build` runs them in order (`python -m utils.build --source labml_nn --out docs`), `serve` previews.
"""
