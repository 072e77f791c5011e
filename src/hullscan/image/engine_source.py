"""`docker:IMAGE` and `podman:IMAGE`: an image held by a container engine (docs/engines.md).

Opening one costs a ping and an inspect: the image ID (its config digest), tags, repo digests and
diff_ids are all a warm scan needs (its result is keyed by them, no byte of the image is read). A cold
scan reads the image once from the engine's save stream (`SaveSource.stream()`, engine_save.py), and the
layers' bytes go straight to the walker (walk/streamed.py); the config arrives in that stream too, so
until then `Image.config` holds only what the inspect says (platform, diff_ids).

Every call after the inspect names the image by its ID, so a tag moved meanwhile cannot swap the image.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import IO, Any

from hullscan.errors import FetchError, InputError
from hullscan.image.docker_archive import DOCKER_LAYER
from hullscan.image.engine import EngineClient, EngineDown, ImageInspect, connect
from hullscan.image.engine_save import CHUNK, SaveStream, member_name
from hullscan.image.model import Image, Layer, Platform
from hullscan.image.tarstream import REGULAR, TarError, TarReader
from hullscan.model.image import ImageConfig
from hullscan.record import record


class SaveSource:
    """How a cold scan reads an engine image: its save stream, once; a member again only when the
    walker must (a hard link's target, a layer the first pass only hashed) — by a fresh stream skipped
    forward to it, since nothing of the first is kept."""

    def __init__(self, client: EngineClient, inspect: ImageInspect, label: str) -> None:
        self.client = client
        self.inspect = inspect
        self.label = label

    @contextmanager
    def stream(self) -> Iterator[SaveStream]:
        with self._save() as chunks:
            yield SaveStream(chunks, self.inspect, self.label)

    @contextmanager
    def _save(self) -> Iterator[Iterator[bytes]]:
        """The save stream; an image removed since the inspect is InputError (the engine answers HTTP 500)."""
        with ExitStack() as stack:
            try:
                chunks = stack.enter_context(self.client.save_image(self.inspect.id))
            except EngineDown:
                raise
            except FetchError:
                if self.client.inspect_image(self.inspect.id) is None:
                    raise InputError(f"{self.label}: the image was removed from the engine during the scan") from None
                raise
            yield chunks

    def open_member(self, name: str) -> IO[bytes]:
        """One member's data from a new save stream; closing it closes that stream."""
        stack = ExitStack()
        try:
            reader = TarReader(stack.enter_context(self._save()))
            for m in reader.members():
                if m.kind == REGULAR and member_name(m.name) == name:
                    return io.BufferedReader(_Member(reader, stack), buffer_size=CHUNK)
        except TarError as err:
            stack.close()
            raise InputError(f"{self.label}: save stream: {err}") from None
        except BaseException:
            stack.close()
            raise
        stack.close()
        raise InputError(f"{self.label}: {name} is no longer in the engine's save stream")


class _Member(io.RawIOBase):
    """A member's data from a stream of its own (SaveSource.open_member)."""

    def __init__(self, reader: TarReader, stack: ExitStack) -> None:
        self._reader = reader
        self._stack = stack

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self._reader.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._stack.close()
        super().close()


@record
class EngineImage(Image):
    """An Image whose layers are read from the engine's save stream (walk/streamed.py), not by `opener`."""

    save: SaveSource | None = None


def open_engine_image(kind: str, name: str, *, input_ref: str, host: str = "", platform: Platform | None = None) -> EngineImage:
    """The image NAME (name, short or long ID, name@digest) of the engine: EngineDown (exit 3) when no
    engine answers, InputError (exit 2) when it does not hold the image."""
    client = connect(kind, host)
    try:
        found = client.inspect_image(name)
        if found is None:
            raise InputError(f"{name}: no such image in the {client.label}")
        return engine_image(client, found, kind=kind, name=name, input_ref=input_ref, platform=platform)
    except BaseException:
        client.close()
        raise


def find_engine_image(kind: str, name: str, *, input_ref: str, host: str = "",
                      platform: Platform | None = None) -> EngineImage | None:
    """The same for a bare target: None when no engine answers or it does not hold the image."""
    try:
        client = connect(kind, host)
    except EngineDown:
        return None
    try:
        found = client.inspect_image(name)
        if found is None:
            client.close()
            return None
        return engine_image(client, found, kind=kind, name=name, input_ref=input_ref, platform=platform)
    except BaseException:
        client.close()
        raise


def engine_image(client: EngineClient, found: ImageInspect, *, kind: str, name: str, input_ref: str,
                 platform: Platform | None = None) -> EngineImage:
    """The Image of an inspected engine image (module docstring); it closes the client."""
    label = f"{kind}:{name}"
    config = ImageConfig(raw={}, architecture=found.architecture, os=found.os, variant=found.variant,
                         diff_ids=found.diff_ids)
    if platform is not None:
        platform.check_config(config, label)
    layers = [Layer(index=i, digest="", size=-1, media_type=DOCKER_LAYER, diff_id=diff_id, opener=_streamed, local=False)
              for i, diff_id in enumerate(found.diff_ids)]
    return EngineImage(
        input=input_ref,
        source_type=kind,
        name=found.repo_tags[0] if found.repo_tags else name,
        config=config,
        layers=layers,
        config_digest=found.id,
        repo_tags=found.repo_tags,
        repo_digests=found.repo_digests,
        closers=[client.close],
        save=SaveSource(client, found, label),
    )


def _streamed() -> IO[bytes]:
    raise OSError("an engine image's layers are read from its save stream")
