"""Inventory × vulnerability DB → findings (claircore's matcher: filter → query → vulnerable)."""
