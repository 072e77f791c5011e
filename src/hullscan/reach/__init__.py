"""Reachability (docs/reachability.md): whether a finding's vulnerable code can run in the image.

`assess.py` runs after matching on the applied facts of the reach analyzers and the image config;
one module per level decides what it can (`go.py` symbols, `elf.py` linkage, `python.py`/`node.py`
imports) and everything else stays `unknown`.
"""
