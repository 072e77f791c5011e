"""Secrets and risky settings in the image config JSON (not in any layer's files).

Secrets: the secret rules over `config.Env` (one `NAME=value` per line), each `history[].created_by`
(BuildKit records build args there: `RUN |2 NPM_TOKEN=… /bin/sh -c …`; `ENV`/`ARG` lines too) and
`config.Labels` (one `key=value` per line, sorted by key).

Config findings, with their own ids:
- `config-user-root`: no `USER`, or `USER root`/`0` — the container runs as root.
- `config-secret-build-arg`: a build argument whose name says secret (TOKEN, PASSWORD, KEY…) has
  its value recorded in the image history, readable by anyone who can pull the image.
- `config-add-url`: `ADD` from a URL without `--checksum`: the build fetched unpinned remote content.
"""

from __future__ import annotations

import re
from typing import Any

from hullscan.secrets.engine import scan_bytes
from hullscan.secrets.finding import fingerprint, mask_secret
from hullscan.secrets.rules import Ruleset, default_ruleset

_SECRET_NAME = re.compile(
    r"(?i)(?:^|_|-)(?:token|secret|passw(?:or)?d|pwd|passphrase|api_?key|access_?key|private_?key|"
    r"credentials?|auth|pat|npmrc|pypirc)(?:$|_|-)|(?:password|secret|token)$"
)
_BUILD_ARGS = re.compile(r"^\s*(?:RUN\s+)?\|(\d+)\s+")
_ARG_LINE = re.compile(r"^\s*(?:/bin/sh -c #\(nop\)\s+)?ARG\s+(.*)$", re.S)
_ADD_URL = re.compile(r"(?:^|#\(nop\)\s+|\s)ADD\s+((?:--[a-z-]+(?:=\S+)?\s+)*)(?:(?:https?|ftp)://\S+)", re.I)
_ROOT_USERS = {"", "root", "0"}


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


def _layer_of_history(history: list[dict[str, Any]]) -> list[int | None]:
    """For each history entry, the index of the layer it created (None for metadata-only entries)."""
    out: list[int | None] = []
    n = 0
    for h in history:
        if h.get("empty_layer"):
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
        for _ in range(int(m.group(1))):
            am = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*").match(created_by, pos)
            if not am:
                break
            found.append((am.group(1), am.group(2), am.start(2), am.end(2)))
            pos = am.end()
    am = _ARG_LINE.match(created_by)
    if am:
        base = am.start(1)
        for vm in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S+)", am.group(1)):
            found.append((vm.group(1), vm.group(2).strip("\"'"), base + vm.start(2), base + vm.end(2)))
    return found


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for a, b in sorted(spans):
        if a < pos:
            continue
        out.append(text[pos:a])
        out.append(mask_secret(text[a:b]))
        pos = b
    out.append(text[pos:])
    return "".join(out)


def _secrets(path: str, text: str, ruleset: Ruleset, source: str, layer: int | None) -> list[dict[str, Any]]:
    out = []
    for f in scan_bytes(path, text.encode("utf-8", "surrogateescape"), ruleset, source=source):
        d = f.to_dict()
        d["class"] = "secret"
        d["layer"] = layer
        out.append(d)
    return out


def scan_image_config(config: dict[str, Any], ruleset: Ruleset | None = None) -> list[dict[str, Any]]:
    """Findings over a raw OCI/Docker image config: secrets (`class: secret`) and config findings
    (`class: config`), in the finding shape of docs/secrets.md. Never raises on odd shapes."""
    ruleset = ruleset or default_ruleset()
    if not isinstance(config, dict):
        return []
    cfg = cf if isinstance(cf := config.get("config"), dict) else {}
    out: list[dict[str, Any]] = []

    env = [e for e in cfg.get("Env") or [] if isinstance(e, str)]
    if env:
        out += _secrets("config:Env", "\n".join(e.replace("\n", " ") for e in env), ruleset, "env", None)

    labels = lb if isinstance(lb := cfg.get("Labels"), dict) else {}
    if labels:
        # sorted by key: the line number must not depend on how the config JSON was serialized
        text = "\n".join(f"{k}={str(v).replace(chr(10), ' ')}" for k, v in sorted(labels.items()))
        out += _secrets("config:Labels", text, ruleset, "label", None)

    history = [h for h in config.get("history") or [] if isinstance(h, dict)]
    layers = _layer_of_history(history)
    for i, h in enumerate(history):
        created_by = str(h.get("created_by") or "")
        if not created_by:
            continue
        path = f"config:history[{i}]"
        out += _secrets(path, created_by, ruleset, "history", layers[i])
        secret_args = [(n, v, a, b) for n, v, a, b in _build_args(created_by) if v and _SECRET_NAME.search(n)]
        if secret_args:
            spans = [(a, b) for _, _, a, b in secret_args]
            names = ", ".join(sorted({n for n, *_ in secret_args}))
            out.append(_finding(
                "config-secret-build-arg", "HIGH", "Secret passed as a build argument", path,
                _mask_spans(created_by, spans)[:300], names + "\0" + "\0".join(v for _, v, _, _ in secret_args),
                source="history", layer=layers[i],
                message=f"build argument(s) {names} are recorded in the image history; use build secrets (RUN --mount=type=secret)",
            ))
        am = _ADD_URL.search(created_by)
        if am and "--checksum" not in (am.group(1) or ""):
            out.append(_finding(
                "config-add-url", "MEDIUM", "ADD from a remote URL", path, created_by[:300], created_by,
                source="history", layer=layers[i],
                message="ADD fetched a remote URL without --checksum; download and verify it in a RUN step, or pin it with --checksum",
            ))

    user = str(cfg.get("User") or "").strip()
    if user.split(":", 1)[0] in _ROOT_USERS:
        out.append(_finding(
            "config-user-root", "HIGH", "Image runs as root", "config:User", f"User={user!r}", user,
            source="config", layer=None,
            message="no USER is set (or USER is root): the container's processes run as root",
        ))
    return out
