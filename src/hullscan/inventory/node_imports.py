"""JavaScript imports, per file, for the import-level reachability (hullscan.reach.node).

Facts, cached per layer like every analyzer's:

- every `.js`/`.mjs`/`.cjs` file, and every executable with a `#!…node` line (npm's `bin` scripts):
  its module specifiers, read by tree-sitter's JavaScript grammar (current ECMAScript with JSX, from
  PyPI's `tree-sitter-javascript` wheel) — `require("x")`, `module.require("x")`, `import … from "x"`,
  `import "x"`, `export … from "x"`, `import("x")` — and its dynamic ones (`require(name)`), keeping a
  literal prefix (`require("./locale/" + name)`), which bounds what can load;
- every `package.json`: what Node's resolution and npm read (`name`, `main`, `exports`, `imports`,
  `bin`, `scripts.start`, `type`).

tree-sitter never raises on bad input: it recovers with ERROR nodes. A file with any is kept with its
error count, and a closure that reaches it is `unknown` (an import may hide in what it could not read).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from hullscan.inventory.lockfiles.load import load_json
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, MiB, WarnFn

NAME = "node-imports"

_SHEBANG = re.compile(rb"^#![^\n]*\bnode(js)?\b")
# Cheap test before running the query: a file naming neither `require` nor `import`/`export` has none.
_HINT = re.compile(rb"require|import|export")
_QUERY = """
(import_statement source: (string) @static)
(export_statement source: (string) @static)
(call_expression function: (import) arguments: (arguments . (_) @call))
(call_expression function: (identifier) @fn arguments: (arguments . (_) @call) (#eq? @fn "require"))
(call_expression
  function: (member_expression object: (identifier) @obj property: (property_identifier) @prop)
  arguments: (arguments . (_) @call)
  (#eq? @obj "module") (#eq? @prop "require"))
"""
MANIFEST_KEYS = ("name", "main", "exports", "imports", "bin", "type")


class _Grammar:
    """The parser and query, built on first use (tree-sitter loads only when a JavaScript file is read)."""

    parser: Any = None
    query: Any = None

    @classmethod
    def get(cls) -> tuple[Any, Any]:
        if cls.parser is None:
            import tree_sitter
            import tree_sitter_javascript

            language = tree_sitter.Language(tree_sitter_javascript.language())
            cls.query = tree_sitter.Query(language, _QUERY)
            cls.parser = tree_sitter.Parser(language)
        return cls.parser, cls.query


def _text(node: Any) -> str:
    return bytes(node.text or b"").decode("utf-8", "replace")


def _string_value(node: Any) -> str | None:
    """A string literal's value (escapes decoded); None when it is not a plain string."""
    if node.type == "string":
        parts = []
        for child in node.named_children:
            if child.type == "string_fragment":
                parts.append(_text(child))
            elif child.type == "escape_sequence":
                try:
                    parts.append(codecs.decode(_text(child), "unicode_escape"))
                except (UnicodeDecodeError, ValueError):
                    return None
        return "".join(parts)
    if node.type == "template_string":
        if any(c.type == "template_substitution" for c in node.named_children):
            return None
        return "".join(_text(c) for c in node.named_children if c.type == "string_fragment")
    return None


def _literal_prefix(node: Any) -> str:
    """The constant text an expression starts with ('' when none): `"./l/" + x`, `` `./l/${x}` ``."""
    value = _string_value(node)
    if value is not None:
        return value
    if node.type == "template_string":
        prefix = []
        for child in node.named_children:
            if child.type == "template_substitution":
                break
            if child.type == "string_fragment":
                prefix.append(_text(child))
        return "".join(prefix)
    if node.type == "binary_expression" and node.child_by_field_name("operator") is not None:
        if _text(node.child_by_field_name("operator")) == "+":
            left = node.child_by_field_name("left")
            return _literal_prefix(left) if left is not None else ""
    if node.type == "parenthesized_expression" and node.named_children:
        return _literal_prefix(node.named_children[0])
    return ""


def _count_errors(node: Any) -> int:
    count, todo = 0, [node]
    while todo:
        n = todo.pop()
        if n.type == "ERROR" or n.is_missing:
            count += 1
        elif n.has_error:
            todo.extend(n.children)
    return count


def extract(source: bytes) -> dict[str, Any]:
    """One file's module specifiers: `{"i": [[specifier, line]…], "d": [[line, prefix]…], "e": errors}`
    (only the keys that have content). `i` holds static imports and literal `require`/`import()`; `d`
    each import whose specifier is computed, with its literal prefix ('' when none); `e` how many
    places tree-sitter could not parse."""
    if _HINT.search(source) is None:
        return {}
    parser, query = _Grammar.get()
    import tree_sitter

    tree = parser.parse(source)
    imports: list[list[Any]] = []
    dynamic: list[list[Any]] = []
    for _pattern, captures in tree_sitter.QueryCursor(query).matches(tree.root_node):
        for node in captures.get("static", ()):
            value = _string_value(node)
            if value:
                imports.append([value, node.start_point[0] + 1])
        for node in captures.get("call", ()):
            value = _string_value(node)
            if value:
                imports.append([value, node.start_point[0] + 1])
            elif value is None and node.type not in ("number", "true", "false", "null", "undefined"):
                # a computed specifier (a number or a literal never names a module: it throws)
                dynamic.append([node.start_point[0] + 1, _literal_prefix(node)])
    out: dict[str, Any] = {}
    if imports:
        out["i"] = imports
    if dynamic:
        out["d"] = dynamic
    if tree.root_node.has_error:
        out["e"] = _count_errors(tree.root_node)
    return out


def _parse_source(path: str, data: bytes, warn: WarnFn) -> Any:
    return extract(data)


def _parse_script(path: str, data: bytes, warn: WarnFn) -> Any:
    """An executable: a Node script only when its `#!` line names node."""
    if not _SHEBANG.match(data):
        return None
    fact = extract(data)
    fact["shebang"] = data.split(b"\n", 1)[0][2:].decode("utf-8", "replace").strip()
    return fact


def _parse_manifest(path: str, data: bytes, warn: WarnFn) -> Any:
    """What resolution and npm read of a package.json (`{"pkg": {…}}`; `{}` when unreadable, so the
    directory still counts as a package)."""
    doc = load_json(data, "package.json", warn)
    if not isinstance(doc, dict):
        return {"pkg": {}}
    kept = {k: doc[k] for k in MANIFEST_KEYS if k in doc}
    scripts = doc.get("scripts")
    if isinstance(scripts, dict) and isinstance(scripts.get("start"), str):
        kept["start"] = scripts["start"]
    return {"pkg": kept}


class NodeImportsAnalyzer(Analyzer):
    """Per-file module specifiers of JavaScript code, and package manifests (reach/node.py reads them)."""

    name = NAME
    version = 1
    scanners = frozenset({"vuln"})
    files = (
        FileRule(names=("package.json",), max_size=4 * MiB, parse=_parse_manifest),
        FileRule(extensions=("js", "mjs", "cjs"), parse=_parse_source),
        FileRule(executable=True, max_size=MiB, exclude_extensions=("so", "node", "py"), parse=_parse_script),
    )
    max_size = 16 * MiB  # bundles can be big; bigger ones are left out with a warning

    def assemble(self, view: AnalyzerView) -> Assembled:
        return Assembled(facts={path: ff.fact for path, ff in view.files.items()})
