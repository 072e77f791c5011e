"""Root conftest. Helpers shared by the tests live in testsupport.py (import them from there, not from
a conftest: several directories have one, so `from conftest import …` would name whichever loaded last)."""
