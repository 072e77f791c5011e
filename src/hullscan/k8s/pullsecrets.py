"""A workload's imagePullSecrets as registry credentials (`hullscan k8s --pull-secrets`).

Secrets of type `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`: a Docker config, `{"auths": …}`)
and `kubernetes.io/dockercfg` (`.dockercfg`: the older bare map of registries) are read as
docs/registry.md reads a Docker config's `auths` (the same entry reader). Credentials found this way
are used for that workload's images only, and appear in messages by source (`pull secret NS/NAME`),
never by value.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from hullscan.errors import InputError
from hullscan.image.registry_auth import Credentials, _auth_entry

TYPES = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson", "kubernetes.io/dockercfg": ".dockercfg"}


def credentials(secret: dict[str, Any], registry: str, source: str) -> Credentials | None:
    """The secret's entry for `registry` (as docs/registry.md normalizes hosts), None when it has none;
    InputError (naming the secret, not its content) when it is not a readable pull secret."""
    kind = secret.get("type")
    key = TYPES.get(kind) if isinstance(kind, str) else None
    if key is None:
        raise InputError(f"{source}: type {kind!r} is not a pull secret ({', '.join(TYPES)})")
    data = secret.get("data")
    raw = data.get(key) if isinstance(data, dict) else None
    if not isinstance(raw, str):
        raise InputError(f"{source}: no data[{key!r}]")
    try:
        doc = json.loads(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        raise InputError(f"{source}: data[{key!r}] is not base64 JSON") from None
    if not isinstance(doc, dict):
        raise InputError(f"{source}: data[{key!r}] is not a JSON object")
    if key == ".dockercfg":
        doc = {"auths": doc}
    return _auth_entry(doc, registry, source)
