"""Lockfile and manifest parsers, one module per format.

Each parser is a pure function of one file's bytes (plus a `warn` callback) returning plain JSON
data; the ecosystem analyzers in `hullscan.inventory` call them and build `Package`s.
"""
