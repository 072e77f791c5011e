"""Where registry credentials come from, in order, and how a `WWW-Authenticate` challenge reads.

Order (the first source that has something for the registry wins):
1. `--username` with `--password-stdin` (SourceOptions.username / password);
2. HULLSCAN_REGISTRY_USERNAME / HULLSCAN_REGISTRY_PASSWORD;
3. the Docker config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): `credHelpers[host]`,
   then `credsStore`, via the `docker-credential-NAME get` program; then `auths[host]`
   (`auth` = base64 user:password, or `username`/`password`, or `identitytoken`);
4. the containers auth file (`$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`),
   as written by `skopeo login` / `podman login`;
5. anonymous.

A Credentials value never prints its secret (`repr` hides it); error messages name `source` only.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from hullscan.errors import InputError
from hullscan.image.registry_ref import DOCKER_HUB

ENV_USERNAME = "HULLSCAN_REGISTRY_USERNAME"
ENV_PASSWORD = "HULLSCAN_REGISTRY_PASSWORD"
HELPER_TIMEOUT = 30


@dataclass(frozen=True)
class Credentials:
    """What to present to a registry, and where it came from (for error messages)."""

    source: str
    """Human description of the source, e.g. `~/.docker/config.json (auths)`; never the secret."""
    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    """An OAuth2 refresh token (Docker's `identitytoken`): exchanged at the token realm."""

    @property
    def anonymous(self) -> bool:
        return not (self.username or self.password or self.identity_token)

    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in output."""
        return tuple(s for s in (self.password, self.identity_token) if s)


ANONYMOUS = Credentials(source="anonymous")


def _host_keys(host: str) -> list[str]:
    """The keys a config may use for this registry."""
    if host == DOCKER_HUB:
        return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
    return [host]


def _norm_key(key: str) -> str:
    """`https://host:port/v2/` → `host:port` (Docker accepts keys with scheme and path)."""
    k = re.sub(r"^[a-z]+://", "", key.strip())
    k = k.split("/", 1)[0]
    return "docker.io" if k in ("index.docker.io", "registry-1.docker.io") else k


def resolve_credentials(host: str, username: str = "", password: str = "", env: dict[str, str] | None = None) -> Credentials:
    """The credentials for `host` from the first source that has them (see the module docstring)."""
    env = dict(os.environ) if env is None else env
    if username or password:
        if not (username and password):
            raise InputError("--username needs a password (--password-stdin), and the other way round")
        return Credentials("--username/--password-stdin", username, password)
    env_user, env_pass = env.get(ENV_USERNAME, ""), env.get(ENV_PASSWORD, "")
    if env_user or env_pass:
        return Credentials(f"environment ({ENV_USERNAME}/{ENV_PASSWORD})", env_user, env_pass)
    docker_dir = env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    found = _from_docker_config(Path(docker_dir) / "config.json", host)
    if found is not None:
        return found
    auth_file = env.get("REGISTRY_AUTH_FILE") or (
        os.path.join(env["XDG_RUNTIME_DIR"], "containers", "auth.json") if env.get("XDG_RUNTIME_DIR") else ""
    )
    if auth_file:
        found = _from_auths(Path(auth_file), host)
        if found is not None:
            return found
    return ANONYMOUS


def _load(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None  # no such file: this source has no credentials
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: unreadable credentials file ({type(err).__name__})") from None
    return data if isinstance(data, dict) else None


def _display(path: Path) -> str:
    home = os.path.expanduser("~")
    s = str(path)
    return "~" + s[len(home) :] if home and home != "/" and s.startswith(home + os.sep) else s


def _from_docker_config(path: Path, host: str) -> Credentials | None:
    doc = _load(path)
    if doc is None:
        return None
    helpers = h if isinstance(h := doc.get("credHelpers"), dict) else {}
    for key, helper in helpers.items():
        if _norm_key(key) == host and isinstance(helper, str) and helper:
            found = run_helper(helper, host, f"{_display(path)} (credHelpers: docker-credential-{helper})")
            if found is not None:
                return found
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        found = run_helper(store, host, f"{_display(path)} (credsStore: docker-credential-{store})")
        if found is not None:
            return found
    return _auth_entry(doc, host, f"{_display(path)} (auths)")


def _from_auths(path: Path, host: str) -> Credentials | None:
    doc = _load(path)
    return None if doc is None else _auth_entry(doc, host, f"{_display(path)} (auths)")


def _auth_entry(doc: dict, host: str, source: str) -> Credentials | None:
    auths = a if isinstance(a := doc.get("auths"), dict) else {}
    for key, entry in auths.items():
        if _norm_key(key) != host or not isinstance(entry, dict):
            continue
        user, pw = str(entry.get("username") or ""), str(entry.get("password") or "")
        if entry.get("auth"):
            try:
                user, _, pw = base64.b64decode(str(entry["auth"])).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise InputError(f"{source}: the `auth` entry for {host} is not base64 user:password") from None
        token = str(entry.get("identitytoken") or "")
        if user or pw or token:
            return Credentials(source, user, pw, token)
    return None


def run_helper(helper: str, host: str, source: str) -> Credentials | None:
    """`docker-credential-HELPER get` with the server URL on stdin; None when it has nothing for host."""
    if not re.match(r"^[A-Za-z0-9_.-]+$", helper):
        raise InputError(f"{source}: invalid credential helper name {helper!r}")
    exe = f"docker-credential-{helper}"
    server = "https://index.docker.io/v1/" if host == DOCKER_HUB else host
    try:
        proc = subprocess.run(
            [exe, "get"], input=server.encode(), capture_output=True, timeout=HELPER_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise InputError(f"{source}: {exe} is not installed") from None
    except (OSError, subprocess.TimeoutExpired) as err:
        raise InputError(f"{source}: {exe} failed ({type(err).__name__})") from None
    if proc.returncode != 0:
        # "credentials not found in native keychain" is the protocol's way to say "none"
        if b"not found" in proc.stdout.lower() or b"not found" in proc.stderr.lower():
            return None
        raise InputError(f"{source}: {exe} exited with status {proc.returncode}")
    try:
        doc = json.loads(proc.stdout)
        user, secret = str(doc.get("Username", "")), str(doc.get("Secret", ""))
    except (ValueError, AttributeError):
        raise InputError(f"{source}: {exe} printed something that is not its JSON answer") from None
    if not secret:
        return None
    if user == "<token>":  # the protocol's marker for an identity (refresh) token
        return Credentials(source, "", "", secret)
    return Credentials(source, user, secret)


@dataclass(frozen=True)
class Challenge:
    """A parsed `WWW-Authenticate` header."""

    scheme: str
    """`basic` or `bearer` (lowercase)."""
    params: dict[str, str]


_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?')


def parse_challenge(header: str) -> Challenge | None:
    """`Bearer realm="…",service="…",scope="…"` → Challenge; None when absent or unreadable.
    (Hand-written: httpx parses Digest challenges only, and the grammar is a few lines.)"""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        m = _PARAM_RE.match(rest, pos)
        if not m or m.end() == pos:
            break
        value = m.group(2) if m.group(2) is not None else (m.group(3) or "")
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
        pos = m.end()
    return Challenge(scheme.lower(), params)
