"""
---
title: labml_nn
summary: Annotated PyTorch implementations of deep-learning algorithms, written to be read.
---

# labml_nn

Annotated PyTorch implementations of deep-learning algorithms, written to be read side by side with the math
they implement.

Every page is one Python module. The notes on the left are its docstrings and comments: what the algorithm
does, the equations from its paper, and why the code is written the way it is; the code on the right is the
module itself, line by line, with its original line numbers. The code is the library: `pip install -e .`
and `from labml_nn.optimizers.adam import Adam` runs exactly what the page shows. Each algorithm is checked
in tests against the reference implementation named on its page.

Start with a section (listed above), follow a page's links, or read on with *Next* at the bottom of each page.
"""
