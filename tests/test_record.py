"""`hullscan.record` behaves as `dataclasses` does for everything hullscan declares with it: each
class below is declared twice, once with each decorator, and both must agree."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from hullscan import record as rec

KINDS = {
    "dataclasses": (dataclasses.dataclass, dataclasses.field, dataclasses.replace, dataclasses.asdict,
                    dataclasses.FrozenInstanceError),
    "record": (rec.record, rec.field, rec.replace, rec.asdict, rec.FrozenInstanceError),
}


def declare(kind: str):
    decorate, field, *_ = KINDS[kind]

    @decorate(frozen=True)
    class Point:
        x: int
        y: int = 0
        label: str = field(default="", compare=False)
        scale: ClassVar[int] = 10

    @decorate
    class Bag:
        name: str
        items: list[str] = field(default_factory=list)
        secret: str = field(default="hidden", repr=False)

        def __post_init__(self) -> None:
            self.name = self.name.strip()

    @decorate
    class Child(Bag):
        extra: int = 1

    @decorate(frozen=True)
    class Hashed:
        a: int

        def __hash__(self) -> int:
            return 42

    return Point, Bag, Child, Hashed


@pytest.fixture(params=sorted(KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def observe(kind: str) -> dict[str, object]:
    """Everything observable about the declared classes, as plain values to compare across kinds."""
    Point, Bag, Child, Hashed = declare(kind)
    _, _, replace, asdict, frozen_error = KINDS[kind]
    seen: dict[str, object] = {}
    p = Point(1, y=2, label="a")
    seen["repr"] = [repr(p), repr(Bag(" n ", ["i"])), repr(Child("c", extra=3))]
    seen["eq"] = [p == Point(1, 2, "other label"), p == Point(1, 3), Bag("n") == Bag("n"), Bag("n") == Child("n"),
                  p == (1, 2)]
    seen["hash"] = [hash(p) == hash(Point(1, 2, "x")), Bag.__hash__ is None, hash(Hashed(1))]
    seen["defaults"] = [Bag("n").items is not Bag("n").items, Point.y, Point.scale, "scale" in Point.__match_args__]
    seen["match_args"] = [Point.__match_args__, Child.__match_args__]
    seen["post_init"] = [Bag("  padded ").name, Child(" c ").name]
    seen["replace"] = [repr(replace(p, y=5)), replace(Bag(" a "), items=["x"]).name]
    seen["asdict"] = asdict(Child("c", ["i"], extra=2))
    try:
        p.x = 5  # type: ignore[misc]
        seen["frozen"] = "assigned"
    except frozen_error as ex:
        seen["frozen"] = isinstance(ex, AttributeError)
    errors = []
    for args, kwargs in [((), {}), ((1, 2, "l", 4), {}), ((1,), {"x": 2}), ((1,), {"nope": 1})]:
        try:
            Point(*args, **kwargs)
            errors.append("ok")
        except TypeError:
            errors.append("TypeError")
    seen["errors"] = errors
    try:
        replace(p, nope=1)
        seen["replace_unknown"] = "ok"
    except TypeError:
        seen["replace_unknown"] = "TypeError"
    return seen


def test_record_matches_dataclasses() -> None:
    want, got = observe("dataclasses"), observe("record")
    for key in want:
        assert got[key] == want[key], key


def test_a_required_field_after_a_default_is_refused(kind: str) -> None:
    decorate = KINDS[kind][0]
    with pytest.raises(TypeError):
        @decorate
        class Bad:
            a: int = 0
            b: int


def test_default_and_factory_together_are_refused(kind: str) -> None:
    field = KINDS[kind][1]
    with pytest.raises(ValueError):
        field(default=1, default_factory=int)


def test_the_models_a_warm_scan_loads_are_records_not_dataclasses() -> None:
    """The point of record.py: nothing a warm scan imports pays for dataclasses' compiled methods."""
    from hullscan.cache import blobs
    from hullscan.image import model, target
    from hullscan.match import options
    from hullscan.model import findings, image, inventory, report, verdict
    from hullscan.policy import model as policy_model
    from hullscan.scan.options import ScanOptions
    from hullscan.scan.service import ScanService

    domain_classes = [c for mod in (image, inventory, findings, verdict, report)
                      for c in vars(mod).values() if isinstance(c, type) and c.__module__ == mod.__name__]
    classes = [model.Platform, model.Layer, model.Image, target.SourceOptions,
               target.Target, options.MatchOptions, policy_model.LicenseRule, policy_model.Rules,
               policy_model.Exception_, policy_model.Policy, ScanOptions, ScanService,
               blobs.FileIdentity, *domain_classes]
    assert [c.__name__ for c in classes if dataclasses.is_dataclass(c) or not hasattr(c, "__record_fields__")] == []
