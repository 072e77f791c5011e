"""Secrets and risky settings in the image config (not in any layer's files), and the config as reports
show it: every field a report echoes, with the secrets those findings name masked.

Secrets: the secret rules over every string of the config that a report echoes, each field as one text
(list fields one entry per line): `Env`, `Entrypoint`, `Cmd`, `Labels` (one `key=value` per line,
sorted by key), `ExposedPorts`, `User`, `WorkingDir`, each history entry's `created_by` (BuildKit
records build args there: `RUN |2 NPM_TOKEN=… /bin/sh -c …`; `ENV`/`ARG` lines too), `comment` and
`created`, and the top-level `architecture`, `os`, `variant`, `created`.

Masking: `scan_config` returns the findings and the config with each secret they found masked, from the
byte spans of the same scan (`engine.scan_spans`), so "reported" and "masked" cannot disagree: a
label's secret found only with its key in front (`API_TOKEN=…`) is masked in the value too. Build-arg
values named like secrets are masked in history as in their finding. The scan service reports only this
masked config (no raw document), so neither a writer nor the result cache ever holds a secret.

Config findings, with their own ids:
- `config-user-root`: no `USER`, or `USER root`/`0` — the container runs as root.
- `config-secret-build-arg`: a build argument whose name says secret (TOKEN, PASSWORD, KEY…) has
  its value recorded in the image history, readable by anyone who can pull the image.
- `config-add-url`: `ADD` from a URL without `--checksum`: the build fetched unpinned remote content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from hullscan.model.image import HistoryEntry, ImageConfig
from hullscan.record import replace
from hullscan.secrets.engine import MAX_FINDINGS, MAX_SIZE, masked_line, scan_spans
from hullscan.secrets.finding import fingerprint
from hullscan.secrets.redact import NOT_SCANNED, Span, clip, encode, mask_region
from hullscan.secrets.rules import Ruleset, default_ruleset

_SECRET_NAME = re.compile(
    r"(?i)(?:^|_|-)(?:token|secret|passw(?:or)?d|pwd|passphrase|api_?key|access_?key|private_?key|"
    r"credentials?|auth|pat|npmrc|pypirc)(?:$|_|-)|(?:password|secret|token)$"
)
_BUILD_ARGS = re.compile(r"^\s*(?:RUN\s+)?\|(\d+)\s+")
_BUILD_ARG = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*")
_ARG_LINE = re.compile(r"^\s*(?:/bin/sh -c #\(nop\)\s+)?ARG\s+(.*)$", re.S)
_ARG_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S+)")
_ADD_URL = re.compile(r"(?:^|#\(nop\)\s+|\s)ADD\s+((?:--[a-z-]+(?:=\S+)?\s+)*)(?:(?:https?|ftp)://\S+)", re.I)
_ROOT_USERS = {"", "root", "0"}
_MATCH_CUT = 300
"""Characters of a history line a config finding shows."""

Lines = list[tuple[bytes, list[Span] | None]]
"""Each scanned entry's bytes with its secret spans (None: not scanned to its end, shown as NOT_SCANNED)."""


@dataclass
class ConfigScan:
    """What `scan_config` found, and the config as a report may show it."""

    findings: list[dict[str, Any]]
    """Secret (`class: secret`) and config (`class: config`) findings, in docs/secrets.md's shape."""
    config: ImageConfig
    """The config with every secret masked and no raw document."""
    ruleset: Ruleset
    created_by: dict[str, str] = field(default_factory=dict)
    """Each history line → its masked form (layers name the history line that made them)."""

    def mask_created_by(self, text: str) -> str:
        """A history line as the masked config shows it (scanned here when no history entry holds it)."""
        masked = self.created_by.get(text)
        if masked is None:
            _, masked = _history_line("config:history", text, self.ruleset, None)
            self.created_by[text] = masked
        return masked


def _finding(
    rule_id: str, severity: str, title: str, path: str, match: str, key: str, *,
    source: str, layer: int | None, message: str,
) -> dict[str, Any]:
    return {
        "class": "config",
        "rule_id": rule_id,
        "category": "ImageConfig",
        "severity": severity,
        "title": title,
        "message": message,
        "path": path,
        "line": {"start": 1, "end": 1},
        "match": match,
        "fingerprint": fingerprint(rule_id, path, key.encode("utf-8", "replace")),
        "offset": 0,
        "source": source,
        "layer": layer,
        "removed_in": None,
    }


def _layer_of_history(history: tuple[HistoryEntry, ...]) -> list[int | None]:
    """For each history entry, the index of the layer it created (None for metadata-only entries)."""
    out: list[int | None] = []
    n = 0
    for h in history:
        if h.empty_layer:
            out.append(None)
        else:
            out.append(n)
            n += 1
    return out


def _build_args(created_by: str) -> list[tuple[str, str, int, int]]:
    """(name, value, value start, value end) of the build args BuildKit/legacy builders recorded."""
    found: list[tuple[str, str, int, int]] = []
    m = _BUILD_ARGS.match(created_by)
    if m:
        pos = m.end()
        for _ in range(int(m.group(1)[:6])):  # a hostile count must not spin: each arg needs a match
            am = _BUILD_ARG.match(created_by, pos)
            if not am:
                break
            found.append((am.group(1), am.group(2), am.start(2), am.end(2)))
            pos = am.end()
    am = _ARG_LINE.match(created_by)
    if am:
        base = am.start(1)
        for vm in _ARG_VALUE.finditer(am.group(1)):
            found.append((vm.group(1), vm.group(2).strip("\"'"), base + vm.start(2), base + vm.end(2)))
    return found


def _probe(data: bytes, flatten: bool) -> bytes:
    """What the engine scans: a NUL would make the text "binary" and unscanned, a hostile way to hide a
    secret; list entries are one line each. Same length, so spans index `data` too."""
    data = data.replace(b"\0", b" ")
    return data.replace(b"\n", b" ") if flatten else data


def _scan(path: str, data: bytes, ruleset: Ruleset, source: str) -> tuple[list[dict[str, Any]], list[tuple[int, int]], int]:
    """Findings (as dicts), secret spans and how far the text was scanned completely."""
    found, spans = scan_spans(path, data, ruleset, source=source)
    covered = min(len(data), MAX_SIZE)
    if len(found) >= MAX_FINDINGS:  # the engine stopped reporting: nothing is known past the last one
        covered = min(covered, spans[-1][1])
    return [f.to_dict() for f in found], spans, covered


def _scan_lines(path: str, entries: list[str], ruleset: Ruleset, source: str, layer: int | None, *,
                flatten: bool = True) -> tuple[list[dict[str, Any]], Lines]:
    """Secrets in `entries` scanned as one text, one entry per line (`flatten`: newlines inside an entry
    become spaces), and each entry's spans. An entry past what the engine covered is scanned alone (its
    secrets masked, not reported: the file-level cap already says there are many)."""
    raw = [encode(e) for e in entries]
    data = b"\n".join(_probe(r, flatten) for r in raw)
    findings, spans, covered = _scan(path, data, ruleset, source)
    for f in findings:
        f["class"] = "secret"
        f["layer"] = layer
    lines: Lines = []
    lo = 0
    for r in raw:
        hi = lo + len(r)
        if hi <= covered:
            lines.append((r, clip(spans, lo, hi)))
        else:
            _, alone, alone_covered = _scan(path, _probe(r, flatten), ruleset, source)
            lines.append((r, clip(alone, 0, len(r)) if alone_covered >= len(r) else None))
        lo = hi + 1
    return findings, lines


def _history_line(path: str, created_by: str, ruleset: Ruleset,
                  layer: int | None) -> tuple[list[dict[str, Any]], str]:
    """Findings of one history line (secrets, secret build args, ADD from a URL) and its masked form."""
    out, lines = _scan_lines(path, [created_by], ruleset, "history", layer, flatten=False)
    data, spans = lines[0]
    secret_args = [(n, v, a, b) for n, v, a, b in _build_args(created_by) if v and _SECRET_NAME.search(n)]
    if spans is not None and secret_args:
        # build-arg values are secrets by their name: masked like the engine's (char → byte offsets),
        # in the line and in the match of each secret found on it
        args = [(len(encode(created_by[:a])), len(encode(created_by[:b]))) for _, _, a, b in secret_args]
        found = [(a, b) for a, b, _ in spans]
        probe = _probe(data, False)
        for f, (a, b) in zip(out, found, strict=True):
            f["match"] = masked_line(probe, a, b, found + args)
        spans = spans + [(a, b, True) for a, b in args]
    masked = mask_region(data, spans)
    if secret_args:
        names = ", ".join(sorted({n for n, *_ in secret_args}))
        out.append(_finding(
            "config-secret-build-arg", "HIGH", "Secret passed as a build argument", path,
            masked[:_MATCH_CUT], names + "\0" + "\0".join(v for _, v, _, _ in secret_args),
            source="history", layer=layer,
            message=f"build argument(s) {names} are recorded in the image history; use build secrets (RUN --mount=type=secret)",
        ))
    am = _ADD_URL.search(created_by)
    if am and "--checksum" not in (am.group(1) or ""):
        out.append(_finding(
            "config-add-url", "MEDIUM", "ADD from a remote URL", path, masked[:_MATCH_CUT], created_by,
            source="history", layer=layer,
            message="ADD fetched a remote URL without --checksum; download and verify it in a RUN step, or pin it with --checksum",
        ))
    return out, masked


def _masked_list(lines: Lines) -> tuple[str, ...]:
    return tuple(mask_region(data, spans) for data, spans in lines)


def _one(path: str, text: str, ruleset: Ruleset, source: str = "config") -> tuple[list[dict[str, Any]], str]:
    """A single-valued field: its secrets and its masked value."""
    if not text:
        return [], text
    out, lines = _scan_lines(path, [text], ruleset, source, None)
    return out, mask_region(*lines[0])


def _labels(labels: dict[str, str], ruleset: Ruleset) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Labels scanned as sorted `key=value` lines (a rule may need the key: `API_TOKEN=…`); key and
    value masked apart from the same spans."""
    items = sorted(labels.items())
    out, lines = _scan_lines("config:Labels", [f"{k}={v}" for k, v in items], ruleset, "label", None)
    masked: dict[str, str] = {}
    for (key, _), (data, spans) in zip(items, lines, strict=True):
        cut = len(encode(key))
        mkey = mask_region(data, spans, 0, cut) if spans is not None else NOT_SCANNED
        while mkey in masked:  # two keys masked alike: both kept
            mkey += " "
        masked[mkey] = mask_region(data, spans, cut + 1)
    return out, masked


def scan_config(config: ImageConfig, ruleset: Ruleset | None = None) -> ConfigScan:
    """Findings over an image config and the config with their secrets masked (see the module doc)."""
    ruleset = ruleset or default_ruleset()
    out: list[dict[str, Any]] = []

    def lines(name: str, entries: tuple[str, ...], source: str) -> tuple[str, ...]:
        found, scanned = _scan_lines(f"config:{name}", list(entries), ruleset, source, None)
        out.extend(found)
        return _masked_list(scanned)

    def one(name: str, text: str, source: str = "config") -> str:
        found, masked = _one(f"config:{name}", text, ruleset, source)
        out.extend(found)
        return masked

    env = lines("Env", config.env, "env") if config.env else ()
    entrypoint = lines("Entrypoint", config.entrypoint, "entrypoint") if config.entrypoint else ()
    cmd = lines("Cmd", config.cmd, "cmd") if config.cmd else ()
    found, labels = _labels(config.labels, ruleset) if config.labels else ([], {})
    out += found

    history: list[HistoryEntry] = []
    created_by: dict[str, str] = {}
    for i, (h, layer) in enumerate(zip(config.history, _layer_of_history(config.history), strict=True)):
        path = f"config:history[{i}]"
        masked = h.created_by
        if h.created_by:
            found, masked = _history_line(path, h.created_by, ruleset, layer)
            out += found
            created_by.setdefault(h.created_by, masked)
        comment, created = one(f"history[{i}].comment", h.comment, "history"), one(f"history[{i}].created", h.created, "history")
        history.append(HistoryEntry(created, masked, h.empty_layer, comment))

    exposed = lines("ExposedPorts", config.exposed_ports, "config") if config.exposed_ports else ()
    user = one("User", config.user)
    if config.user.strip().split(":", 1)[0] in _ROOT_USERS:
        out.append(_finding(
            "config-user-root", "HIGH", "Image runs as root", "config:User", f"User={user.strip()!r}",
            config.user.strip(), source="config", layer=None,
            message="no USER is set (or USER is root): the container's processes run as root",
        ))
    masked_config = replace(
        config, raw={}, user=user, env=env, entrypoint=entrypoint, cmd=cmd, labels=labels, exposed_ports=exposed,
        history=tuple(history), working_dir=one("WorkingDir", config.working_dir),
        architecture=one("architecture", config.architecture), os=one("os", config.os),
        variant=one("variant", config.variant), created=one("created", config.created),
    )
    return ConfigScan(out, masked_config, ruleset, created_by)


def _strs(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return (value,) if isinstance(value, str) else ()


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def config_view(doc: dict[str, Any]) -> ImageConfig:
    """The fields of a raw config document that `scan_config` reads (odd shapes read as empty; the image
    sources parse the same fields strictly, image/manifest.py)."""
    cfg = doc.get("config") or doc.get("container_config") or {}
    cfg = cfg if isinstance(cfg, dict) else {}
    labels = cfg.get("Labels")
    ports = cfg.get("ExposedPorts")
    history = doc.get("history")
    return ImageConfig(
        raw=doc, architecture=_str(doc.get("architecture")), os=_str(doc.get("os")), variant=_str(doc.get("variant")),
        created=_str(doc.get("created")), user=_str(cfg.get("User")), env=_strs(cfg.get("Env")),
        entrypoint=_strs(cfg.get("Entrypoint")), cmd=_strs(cfg.get("Cmd")), working_dir=_str(cfg.get("WorkingDir")),
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        exposed_ports=tuple(sorted(str(p) for p in ports)) if isinstance(ports, dict) else (),
        history=tuple(HistoryEntry(_str(h.get("created")), _str(h.get("created_by")), bool(h.get("empty_layer")),
                                   _str(h.get("comment")))
                      for h in (history if isinstance(history, list) else ()) if isinstance(h, dict)),
    )


def scan_image_config(config: dict[str, Any], ruleset: Ruleset | None = None) -> list[dict[str, Any]]:
    """Findings over a raw OCI/Docker image config document: secrets (`class: secret`) and config
    findings (`class: config`), in the finding shape of docs/secrets.md. Never raises on odd shapes."""
    if not isinstance(config, dict):
        return []
    return scan_config(config_view(config), ruleset).findings
