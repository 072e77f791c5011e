"""`@record`: the data classes a warm scan loads, declared like dataclasses, built without compiling.

Written by hand because nothing else does this cheaply: `dataclasses` compiles each generated method
from source with `exec` (`__init__`, `__repr__`, `__eq__`, and for frozen classes `__setattr__`,
`__delattr__`, `__hash__`), about 1 ms per class; the 18 classes a warm scan needs cost 15-25 ms of a
~100 ms run (bench/README.md "Full scan"). attrs compiles the same way and NamedTuple imports typing.
Here the methods are shared closures reading the class's field table: creating a class costs a few
microseconds, creating an instance about a microsecond more than a dataclass's — so classes built in
hot loops (packages, tar members of the cold path) stay dataclasses.

The subset of dataclass behaviour hullscan uses: fields from annotations in definition order (base
classes first), defaults and `field(default_factory=…, repr=…, compare=…)`, keyword or positional
construction, `__post_init__`, `frozen=True` (assignment raises FrozenInstanceError, instances hash by
their compared fields), `__eq__` between instances of the same class, `__repr__`, `__match_args__`,
and `replace()` / `fields()` / `asdict()` below. Type checkers see dataclass semantics through
`dataclass_transform` (PEP 681).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm scan's start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
else:
    def dataclass_transform(**_kwargs):  # noqa: D103 — typing's decorator is a no-op at run time
        return lambda f: f


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record (dataclasses.FrozenInstanceError's meaning)."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Field:
    __slots__ = ("name", "default", "default_factory", "repr", "compare")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,  # noqa: A002
                 compare: bool = True) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING, repr: bool = True,  # noqa: A002
          compare: bool = True) -> Any:
    return Field(default, default_factory, repr, compare)


def _is_classvar(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.startswith(("ClassVar", "typing.ClassVar"))


@dataclass_transform(field_specifiers=(field, Field))
def record(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any:
    """Make `cls` a record (use as `@record` or `@record(frozen=True)`)."""

    def wrap(c: type[T]) -> type[T]:
        return _build(c, frozen)

    return wrap if cls is None else wrap(cls)


def _build(cls: type, frozen: bool) -> type:
    table: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        table.update(getattr(base, "__record_fields__", {}))
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name = name
        if isinstance(value, Field):  # the class attribute holds the plain default, as with dataclasses
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        table[name] = f
    fields_ = tuple(table.values())
    seen_default = ""
    for f in fields_:
        if f.default is not MISSING or f.default_factory is not MISSING:
            seen_default = f.name
        elif seen_default:
            raise TypeError(f"non-default argument {f.name!r} follows default argument {seen_default!r}")
    _set(cls, "__record_fields__", table)
    _set(cls, "__match_args__", tuple(table))
    names = tuple(table)
    compared = tuple(f.name for f in fields_ if f.compare)
    shown = tuple(f.name for f in fields_ if f.repr)
    post_init = getattr(cls, "__post_init__", None)
    setter = object.__setattr__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__}() takes {len(names)} positional arguments but {len(args)} were given")
        for k in kwargs:
            if k not in table:
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {k!r}")
        for i, f in enumerate(fields_):
            if i < len(args):
                if f.name in kwargs:
                    raise TypeError(f"{cls.__name__}() got multiple values for argument {f.name!r}")
                value = args[i]
            elif f.name in kwargs:
                value = kwargs[f.name]
            elif f.default is not MISSING:
                value = f.default
            elif f.default_factory is not MISSING:
                value = f.default_factory()
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {f.name!r}")
            setter(self, f.name, value)
        if post_init is not None:
            post_init(self)

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self: Any, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in compared)

    _set(cls, "__init__", __init__)
    own = cls.__dict__
    if "__repr__" not in own:
        _set(cls, "__repr__", __repr__)
    # dataclasses' rule: a class body defining __eq__ gets __hash__ = None from Python; that is not "explicit"
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    if "__eq__" not in own:
        _set(cls, "__eq__", __eq__)
    if frozen:
        def __setattr__(self: Any, name: str, value: Any) -> None:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self: Any, name: str) -> None:
            raise FrozenInstanceError(f"cannot delete field {name!r}")

        def __hash__(self: Any) -> int:
            return hash(tuple(getattr(self, n) for n in compared))

        _set(cls, "__setattr__", __setattr__)
        _set(cls, "__delattr__", __delattr__)
        if not explicit_hash:
            _set(cls, "__hash__", __hash__)
    elif not explicit_hash:
        _set(cls, "__hash__", None)  # mutable and compared by value: unhashable
    return cls


def _set(cls: type, name: str, value: Any) -> None:
    """Give the class a method (or table) built at run time: the same as `cls.name = value`, which the
    type checker refuses for methods it sees declared on `object` with other signatures."""
    setattr(cls, name, value)


def fields(obj: Any) -> tuple[Field, ...]:
    """The fields of a record class or instance, in order."""
    return tuple(obj.__record_fields__.values())


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of a record with some fields changed (`__post_init__` runs again, as with dataclasses).

    The copy is made from the instance's attribute dict, not through `__init__`: its fields are already
    checked, and the policy stage replaces every finding of a warm scan (`__init__`'s argument checks were
    most of that cost)."""
    cls = type(obj)
    table: dict[str, Field] = cls.__record_fields__  # type: ignore[attr-defined]  # set by the decorator
    for name in changes:
        if name not in table:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
    new = object.__new__(cls)
    state = new.__dict__
    state.update(obj.__dict__)
    state.update(changes)
    post_init = getattr(cls, "__post_init__", None)
    if post_init is not None:
        post_init(new)
    return new


def asdict(obj: Any) -> Any:
    """Records (and the lists, tuples and dicts holding them) as plain dicts, recursively."""
    if hasattr(type(obj), "__record_fields__"):
        return {n: asdict(getattr(obj, n)) for n in type(obj).__record_fields__}
    if isinstance(obj, list | tuple):
        return type(obj)(asdict(v) for v in obj)
    if isinstance(obj, dict):
        return {asdict(k): asdict(v) for k, v in obj.items()}
    return obj
