"""The secret scanner as an image analyzer: every regular file of every layer, deleted ones included.

Per layer (cached by diff_id): its one file rule's parser turns a file into its masked findings (or None).
Per image: `assemble` reads `view.history` — every fact of every layer, including files a later
layer deleted or replaced — and stamps each finding with the layer that wrote the file and the
layer that removed it (`removed_in`, None while the file is still in the image): a key deleted in
a later layer still ships in the image.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from hullscan.secrets.engine import MAX_SIZE, compile_ruleset, path_allowed, scan_bytes
from hullscan.secrets.rules import Ruleset, build_ruleset, default_ruleset, load_config
from hullscan.walk.analyzer import Analyzer, AnalyzerView, Assembled, FileRule, WarnFn

ENGINE_VERSION = b"hullscan-secret-engine-6"
"""Bump when the engine's facts change; the rules' text feeds the analyzer version too."""

# Formats whose bytes a text regex cannot read (compressed, media, compiled code, `libfoo.so.1.2`):
# skipping them by name means the walker never even reads them out of the layer. `.git/objects` are
# zlib-compressed loose objects and packs (the working tree files beside them are scanned). Every
# other file is read and the engine sniffs it (NUL in the first 8 KiB = binary).
_SKIP_EXT = tuple(
    "png jpg jpeg gif bmp ico icns webp tif tiff psd xcf svgz mp3 mp4 m4a ogg oga opus wav flac avi mkv mov "
    "webm woff woff2 ttf otf eot pfb gz tgz bz2 tbz tbz2 xz txz zst lz4 lzma z zip jar war ear aar whl egg apk "
    "deb udeb rpm 7z rar cab msi iso img qcow2 pyc pyo class o a so dll exe dylib wasm node mo gmo pdf sqlite "
    "sqlite3 db pack idx npy npz pkl pickle parquet onnx pt safetensors bin".split()
)


def _version(config_bytes: bytes = b"") -> int:
    rules = resources.files("hullscan.secrets").joinpath("rules.yaml").read_bytes()
    digest = hashlib.sha256(ENGINE_VERSION + b"\0" + rules + b"\0" + config_bytes).digest()
    return int.from_bytes(digest[:4], "big")


class SecretAnalyzer(Analyzer):
    """Secrets in files (scanner `secret`). Build with `SecretAnalyzer.with_config(path)` for `--secret-config`."""

    name: ClassVar[str] = "secret"
    version: int = _version()
    max_size: ClassVar[int] = MAX_SIZE
    wants_history: ClassVar[bool] = True
    scanners: ClassVar[frozenset[str]] = frozenset({"secret"})

    def __init__(self, ruleset: Ruleset | None = None, version: int | None = None) -> None:
        # The built-in ruleset is built on first use (~0.3 s with its Hyperscan databases): the
        # registry instantiates every analyzer, and a vuln-only scan should not pay for secrets.
        self._ruleset = ruleset
        if version is not None:
            self.version = version  # instance value: a custom config keys its own cache entries
        # Every file but the formats above and what every rule would skip for its path (tests, docs,
        # examples…, asked of the ruleset only when a file gets this far: it is built on first use).
        self.files = (FileRule(
            globs=("**",), min_size=1, max_size=MAX_SIZE, exclude_extensions=_SKIP_EXT,
            exclude=("**/*.so.*", "**/.git/objects/**"), skip=lambda path: path_allowed(self.ruleset, path),
            parse=self._scan,
        ),)

    @property
    def ruleset(self) -> Ruleset:
        if self._ruleset is None:
            self._ruleset = default_ruleset()
        return self._ruleset

    def prepare(self) -> None:
        """Compile the rules now: called before layer walkers fork, so they inherit them."""
        compile_ruleset(self.ruleset)

    @classmethod
    def with_config(cls, path: str | Path) -> SecretAnalyzer:
        """The analyzer for `--secret-config FILE` (ours or Trivy's format)."""
        raw = Path(path).read_bytes() if Path(path).is_file() else b""
        return cls(build_ruleset(load_config(path)), version=_version(raw))

    def _scan(self, path: str, data: bytes, warn: WarnFn) -> Any:
        findings = scan_bytes(path, data, self.ruleset, path_checked=True)  # the rule's `skip` asked path_allowed
        return [f.to_dict() for f in findings] or None

    def assemble(self, view: AnalyzerView) -> Assembled:
        facts: list[dict[str, Any]] = []
        for ff in view.history:
            for d in ff.fact or ():
                facts.append({**d, "layer": ff.layer, "removed_in": ff.removed_in})
        facts.sort(key=lambda d: (d["layer"], d["path"], d["line"]["start"], d["rule_id"]))
        return Assembled(facts=facts)
