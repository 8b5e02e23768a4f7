"""
---
title: labml_nn
summary: Annotated PyTorch implementations of deep-learning algorithms, written to be read.
---

# labml_nn

Annotated PyTorch implementations, written to be read side by side with the math they implement.

* [Optimizers](optimizers/index.html)
"""
