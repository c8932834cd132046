"""The closed list of messages, each a typed class that checks what it is read from.

A message is a map with a ``type`` and the fields its class declares; a field a message does
not declare is ignored (later versions add optional fields), a missing or mistyped one, and
any type not listed here, is a `ProtocolError`. `read_from_host` and `read_from_monitor`
are the only ways in: the harness never acts on a message that has not been checked.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, ClassVar

from conformance.protocol import values
from conformance.protocol.frames import MAX_FRAME, ProtocolError

Check = Callable[[Any], Any]


def _fail(what: str, value: Any) -> ProtocolError:
    shown = repr(value)
    return ProtocolError(f"{what}, not {shown[:80]}{'...' if len(shown) > 80 else ''}")


def integer(value: Any) -> int:
    if type(value) is not int:
        raise _fail("an integer", value)
    return value


def boolean(value: Any) -> bool:
    if type(value) is not bool:
        raise _fail("true or false", value)
    return value


def number(value: Any) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _fail("a finite number", value)
    return float(value)


def text(limit: int) -> Check:
    def check(value: Any) -> str:
        if type(value) is not str or len(value) > limit:
            raise _fail(f"a string of at most {limit} characters", value)
        return value

    return check


def blob(value: Any) -> bytes:
    if type(value) is not bytes or len(value) > MAX_FRAME:
        raise _fail("binary data", value)
    return value


def one_of(*allowed: str) -> Check:
    def check(value: Any) -> str:
        if value not in allowed:
            raise _fail(f"one of {', '.join(allowed)}", value)
        return value

    return check


def optional(inner: Check) -> Check:
    return lambda value: None if value is None else inner(value)


def value(item: Any) -> Any:
    values.check(item)
    return item


def stored(item: Any) -> Any:
    """A cluster-database value: a plain value, or a MULTI_SZ's strings (up to 4096)."""
    if type(item) is tuple and len(item) <= 4096 and all(type(s) is str for s in item):
        return item
    return value(item)


def array(inner: Check, limit: int) -> Check:
    def check(items: Any) -> tuple[Any, ...]:
        if type(items) is not tuple or len(items) > limit:
            raise _fail(f"an array of at most {limit} items", items)
        return tuple(inner(item) for item in items)

    return check


def pair(first: Check, second: Check) -> Check:
    def check(items: Any) -> tuple[Any, Any]:
        if type(items) is not tuple or len(items) != 2:
            raise _fail("an array of two items", items)
        return first(items[0]), second(items[1])

    return check


def record(**fields: Check) -> Check:
    """A map with exactly these fields (each may be nil only if its check allows it)."""

    def check(item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise _fail("a map", item)
        return {name: _field(item, name, field_check) for name, field_check in fields.items()}

    return check


def string_map(inner: Check, limit: int) -> Check:
    def check(item: Any) -> dict[str, Any]:
        if not isinstance(item, dict) or len(item) > limit:
            raise _fail(f"a map of at most {limit} entries", item)
        return {text(200)(key): inner(entry) for key, entry in item.items()}

    return check


def _field(item: dict[str, Any], name: str, check: Check) -> Any:
    try:
        return check(item.get(name))
    except ProtocolError as exc:
        raise ProtocolError(f"field {name!r}: {exc.reason}") from None


NAME = text(1000)
TEXT = text(64 << 10)


def field(check: Check, **default: Any) -> Any:
    """A message's field and its check; ``default=`` for an optional one a sender may omit."""
    return dataclasses.field(metadata={"check": check}, **default)


@dataclasses.dataclass(frozen=True)
class Message:
    TYPE: ClassVar[str]

    def to_wire(self) -> dict[str, Any]:
        fields = {f.name: values.wire(getattr(self, f.name)) for f in _fields(self)}
        return {"type": self.TYPE, **fields}

    @classmethod
    def from_wire(cls, item: dict[str, Any]) -> Message:
        return cls(**{f.name: _field(item, f.name, f.metadata["check"]) for f in _fields(cls)})


def _fields(cls: Any) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


# --- the monitor to a host ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Load(Message):
    """Load the target: a module (``python``) or a DLL (``native``)."""

    TYPE = "load"
    id: int = field(integer)
    target: dict[str, Any] = field(string_map(optional(NAME), 16))
    stacks_file: str | None = field(optional(NAME))


@dataclasses.dataclass(frozen=True)
class Startup(Message):
    TYPE = "startup"
    id: int = field(integer)
    ResourceType: str = field(NAME)
    MinVersionSupported: int = field(integer)
    MaxVersionSupported: int = field(integer)
    cluster: Any = field(value)  # an HKEY, or nil: no cluster for OpenCluster


@dataclasses.dataclass(frozen=True)
class Call(Message):
    TYPE = "call"
    id: int = field(integer)
    entry: str = field(NAME)
    args: tuple[Any, ...] = field(array(value, 8))
    resource: str | None = field(optional(NAME))


@dataclasses.dataclass(frozen=True)
class Audit(Message):
    """``baseline`` (threads now), ``lingering`` and ``usage`` (since a baseline), ``stacks``."""

    TYPE = "audit"
    id: int = field(integer)
    what: str = field(one_of("baseline", "lingering", "usage", "stacks"))
    baseline: Any = field(value)
    level: dict[str, Any] | None = field(optional(string_map(integer, 8)))


@dataclasses.dataclass(frozen=True)
class Companion(Message):
    """Run the companion's ``properties``, ``probe`` or ``breaker`` where the target lives."""

    TYPE = "companion"
    id: int = field(integer)
    what: str = field(one_of("properties", "probe", "breaker"))
    resource: str = field(NAME)
    properties: dict[str, Any] | None = field(optional(string_map(value, 64)))


@dataclasses.dataclass(frozen=True)
class Reply(Message):
    """The monitor's answer to a host's callback."""

    TYPE = "reply"
    id: int = field(integer)
    value: Any = field(value)


@dataclasses.dataclass(frozen=True)
class Shutdown(Message):
    TYPE = "shutdown"


# --- a host to the monitor ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Hello(Message):
    """The host's first message: the protocol version it speaks, what it is, its process."""

    TYPE = "hello"
    protocol: int = field(integer)
    host: str = field(NAME)
    pid: int = field(integer)
    #: The host's clock (seconds) when it said hello, when it is not the monitor's own
    #: (``time.perf_counter``): the native host's under Wine. Times it sends are shifted.
    clock: float | None = field(optional(number), default=None)


@dataclasses.dataclass(frozen=True)
class Loaded(Message):
    TYPE = "loaded"
    id: int = field(integer)
    error: str | None = field(optional(TEXT))  # the target could not be loaded: why
    loaded: tuple[float, float] = field(pair(number, number))  # DllMain's start and end
    declared_type: str | None = field(optional(NAME))
    companion: dict[str, Any] | None = field(
        optional(
            record(
                resource_type=optional(NAME),
                features=array(NAME, 32),
                probe=boolean,
                breaker=boolean,
                source=optional(NAME),
            )
        )
    )


OUTCOME = record(
    value=value,
    error=optional(text(1000)),  # the exception that left the entry point
    traceback=optional(TEXT),
    start=number,
    end=number,
    thread=NAME,
)


@dataclasses.dataclass(frozen=True)
class Answer(Message):
    """A call's (or Startup's) outcome, timed in the host next to the call."""

    TYPE = "answer"
    id: int = field(integer)
    outcome: dict[str, Any] = field(OUTCOME)
    table: dict[str, Any] | None = field(
        optional(record(shape=string_map(text(1000), 16), version=value, size=optional(integer)))
    )
    # an EventHandle Online set: [argument index, event number, text]
    events: tuple[Any, ...] = field(array(array(value, 3), 8))
    # an OutBuffer as the DLL left it: [argument index, bytes]
    buffers: tuple[Any, ...] = field(array(pair(integer, blob), 8))


@dataclasses.dataclass(frozen=True)
class Result(Message):
    """What an audit or a companion routine gave (``raised``: the message of its error)."""

    TYPE = "result"
    id: int = field(integer)
    status: str = field(one_of("ok", "raised"))
    value: Any = field(lambda item: item)  # checked by the request's own reader


@dataclasses.dataclass(frozen=True)
class Event(Message):
    """A failure event Online handed out was signalled."""

    TYPE = "event"
    event: int = field(integer)


DATABASE_OPERATIONS = (
    "create_key",
    "key_exists",
    "subkeys",
    "get_value",
    "set_value",
    "delete_value",
    "values",
)
#: What a host may call back, with its arguments; True: it waits for a reply.
CALLBACKS: dict[str, tuple[bool, Check]] = {
    "SetResourceStatus": (
        True,
        record(
            handle=value,
            status=record(ResourceState=value, CheckPoint=value, WaitHint=value, EventHandle=value),
        ),
    ),
    "LogEvent": (
        False,
        record(handle=value, level=value, format=TEXT, message=TEXT, length=integer),
    ),
    "LostQuorumResource": (False, record(handle=value)),
    "SetLastError": (False, record(code=integer)),
    "ResUtil": (False, record(function=NAME, result=integer, why=optional(TEXT))),
    "Script": (False, record(resource=NAME, what=NAME, data=string_map(value, 32))),
    "ThreadException": (False, record(error=text(1000), traceback=TEXT)),
    "ClusterDatabase": (
        True,
        record(
            key=integer,
            op=one_of(*DATABASE_OPERATIONS),
            path=NAME,
            name=optional(NAME),
            value_type=optional(integer),
            value=stored,
        ),
    ),
    "ClusterDatabaseAccess": (
        False,
        record(
            key=integer,
            op=NAME,
            path=NAME,
            name=optional(NAME),
            write=boolean,
            result=optional(integer),  # 1.x: the call's status, once it is known
        ),
    ),
}


@dataclasses.dataclass(frozen=True)
class Callback(Message):
    """A callback of the target, made on one of its threads; a ``note`` needs no reply."""

    TYPE = "callback"
    id: int | None = field(optional(integer))  # nil: a note
    name: str = field(one_of(*CALLBACKS))
    args: dict[str, Any] = field(lambda item: item)  # checked against CALLBACKS[name]
    thread: tuple[int, str] = field(pair(integer, NAME))  # ident and name
    context: tuple[str, str | None] | None = field(optional(pair(NAME, optional(NAME))))
    last_error: int = field(integer)
    at: float = field(number)  # the host's perf_counter() when the target made it

    @classmethod
    def from_wire(cls, item: dict[str, Any]) -> Message:
        message = super().from_wire(item)
        assert isinstance(message, Callback)
        wants_reply, check = CALLBACKS[message.name]
        if wants_reply != (message.id is not None):
            need = "an id (it waits for a reply)" if wants_reply else "no id (it is a note)"
            raise ProtocolError(f"a {message.name} callback needs {need}")
        args = _field(item, "args", check)
        return dataclasses.replace(message, args=args)


FROM_MONITOR = {m.TYPE: m for m in (Load, Startup, Call, Audit, Companion, Reply, Shutdown)}
FROM_HOST = {m.TYPE: m for m in (Hello, Loaded, Answer, Result, Event, Callback)}


def _read(item: dict[str, Any], catalogue: dict[str, type[Message]]) -> Message:
    kind = item.get("type")
    cls = catalogue.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ProtocolError(f"a message of unknown type {kind!r}")
    try:
        return cls.from_wire(item)
    except ProtocolError as exc:
        raise ProtocolError(f"a malformed {kind} message: {exc.reason}") from None


def read_from_host(item: dict[str, Any]) -> Message:
    return _read(item, FROM_HOST)


def read_from_monitor(item: dict[str, Any]) -> Message:
    return _read(item, FROM_MONITOR)
