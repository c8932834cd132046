"""The worlds a control script may meet: what rescheck's stand-ins answer where the companion
says nothing (issue 18, docs/design.md principle 8).

World 0 is the *stand-in world*: WMI finds nothing, a command prints nothing and exits 0. A
world with another seed is *generated*: each thing the script asks about gets an answer drawn
from the seed and the question alone, so one world answers the same question the same way in
every instance, host and entry point (a service is running in Online and in IsAlive). Answers
are plausible, never arbitrary: a WMI object has its class's documented properties with values
of their documented types (``Win32_Service.State`` is one of its states, ``Started`` a
Boolean), a method returns 0 or one of its documented error codes, a command exits 0 or fails
and prints lines taken from the script's own string literals (what it compares output with).
A script that breaks in such a world breaks in a world that can exist.

A world may also *fail* once the script has brought its resource online (`World.failing`):
from then on, what it looked at has stopped (`STOPPED`: a service stopped, a process ended)
or is gone (`GONE`: uninstalled, deleted), and commands fail. That is the world every health
check exists for.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

#: The stand-in world: nothing found, every command exits 0 with no output.
STAND_IN = 0
#: Programs that are not part of Windows (Unix tools a script may call as if they were; the
#: Windows Server 2003 Resource Kit had a sleep.exe): a generated world has each or not.
FOREIGN_PROGRAMS = frozenset({"sleep", "grep", "awk", "sed", "cat", "ls", "head", "tail", "wc"})
#: Where Windows keeps its own programs: a path there exists on every node.
SYSTEM_FOLDERS = re.compile(r"^(?:%(?:systemroot|windir)%|(?:[a-z]:)?[\\/]+windows)[\\/]", re.I)
#: How the entity fails in a world that fails: what the script looks at stopped, or is gone.
STOPPED, GONE = "stopped", "gone"
FAILURES = (STOPPED, GONE)


@dataclass(frozen=True)
class Prop:
    """A WMI property: the values it takes (the first is the healthy one), or its type."""

    values: tuple[Any, ...] = ()
    #: "text" (a literal of the script), "bool", "int", "key" (the object's key, or text),
    #: "started" (whether the object's State is a started one, as Win32_Service's Started).
    kind: str = "text"


@dataclass(frozen=True)
class WmiClass:
    properties: dict[str, Prop]
    #: Method name -> its documented return codes other than 0 (success).
    methods: dict[str, tuple[int, ...]] = field(default_factory=dict)


_SERVICE_ERRORS = (2, 8, 10, 14, 15, 22)  # Win32_Service method return values
#: The WMI classes control scripts query, with their documented properties (a subset) and
#: methods (learn.microsoft.com, "Win32_Service class", "Win32_Process class", ...).
CLASSES: dict[str, WmiClass] = {
    "win32_service": WmiClass(
        {
            "Name": Prop(kind="key"),
            "DisplayName": Prop(kind="key"),
            "State": Prop(("Running", "Stopped", "Start Pending", "Stop Pending", "Paused")),
            "Started": Prop(kind="started"),
            "Status": Prop(("OK", "Degraded", "Error")),
            "StartMode": Prop(("Auto", "Manual", "Disabled")),
            "ProcessId": Prop(kind="int"),
            "ExitCode": Prop((0, 1066, 1077)),
            "PathName": Prop(kind="text"),
        },
        {
            "StartService": _SERVICE_ERRORS,
            "StopService": (2, 3, 5, 8),
            "PauseService": (2, 5, 8),
            "ResumeService": (2, 5, 8),
        },
    ),
    "win32_process": WmiClass(
        {
            "Name": Prop(kind="key"),
            "ProcessId": Prop(kind="int"),
            "CommandLine": Prop(kind="text"),
            "ExecutablePath": Prop(kind="text"),
        },
        {"Terminate": (2, 3, 8)},
    ),
    "win32_share": WmiClass(
        {"Name": Prop(kind="key"), "Path": Prop(kind="text"), "Type": Prop((0,))},
        {"Delete": (2, 8, 25), "Create": (2, 8, 22)},
    ),
    "win32_pingstatus": WmiClass(
        {
            "Address": Prop(kind="key"),
            "StatusCode": Prop((0, 11010, 11003)),
            "ResponseTime": Prop(kind="int"),
        }
    ),
    "win32_logicaldisk": WmiClass(
        {
            "DeviceID": Prop(kind="key"),
            "DriveType": Prop((3, 2, 4)),
            "FreeSpace": Prop(kind="int"),
            "Size": Prop(kind="int"),
            "VolumeName": Prop(kind="text"),
        }
    ),
}
#: Words of a private property's name that say it holds a number, or a file system path.
NUMERIC_NAMES = re.compile(
    r"port|timeout|interval|count|retr|delay|second|sec$|ms$|max|min|size|limit|wait|period|"
    r"pid|number|num$",
    re.IGNORECASE,
)
PATH_NAMES = re.compile(r"path|dir|folder|file|root", re.IGNORECASE)
#: ... a GUID, or an identifier (a GUID or a number).
GUID_NAMES = re.compile(r"guid|uuid", re.IGNORECASE)
ID_NAMES = re.compile(r"id$", re.IGNORECASE)
#: Numbers an administrator gives a numeric private property (ports, seconds, milliseconds).
PROPERTY_NUMBERS = (1, 3, 5, 10, 30, 60, 80, 443, 1000, 5000, 8080)
_NOT_A_NAME = re.compile(r"[\\/:=.%&'\"]|^\s|\s$")
_KEYS = re.compile(r"(\w+)\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|(\d+))")


def wmi_class(question: str) -> tuple[str, dict[str, str]]:
    """The class a WMI path or query names, and the key values it gives (lower-case names):
    ``Win32_Service.Name='ftpsvc'`` and ``SELECT * FROM Win32_Service WHERE Name='ftpsvc'``
    name the same object."""
    text = question.strip()
    query = re.search(r"\bfrom\s+(\w+)(.*)", text, re.IGNORECASE | re.DOTALL)
    if query:
        name, rest = query.group(1), query.group(2).partition(" ")[2]
        rest = re.split(r"\bwhere\b", rest, maxsplit=1, flags=re.IGNORECASE)[-1]
    else:
        text = re.sub(r"^InstancesOf\s+", "", text.rsplit(":", 1)[-1])
        name, rest = re.match(r"([^.=]*)(.*)", text).groups()  # type: ignore[union-attr]
        if rest.startswith("="):  # Win32_Service='x': the value of the class's one key
            known = CLASSES.get(name.strip().lower())
            props = known.properties.items() if known else ()
            rest = next((p for p, v in props if v.kind == "key"), "Name") + rest
    keys = {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
            for m in _KEYS.finditer(rest)}  # fmt: skip
    return name.strip(), keys


@dataclass(frozen=True)
class World:
    """What the stand-ins answer: ``seed`` 0 is the stand-in world, any other a generated
    one; ``literals`` are the script's string literals, which generated text is drawn from."""

    seed: int = STAND_IN
    literals: tuple[str, ...] = ()
    #: How the entity has failed ("": it has not): `STOPPED` or `GONE`.
    failed: str = ""
    #: The private properties the script uses as numbers (`static.numeric_properties`).
    numeric: frozenset[str] = frozenset()

    @property
    def generated(self) -> bool:
        return self.seed != STAND_IN

    def describe(self) -> str:
        name = f"generated world {self.seed}" if self.generated else "the stand-in world"
        if not self.failed:
            return name
        return f"{name}, after the entity {'stopped' if self.failed == STOPPED else 'was removed'}"

    def failing(self, how: str) -> World:
        """The same world once the entity has failed ``how`` (`STOPPED` or `GONE`)."""
        return dataclasses.replace(self, failed=how)

    def _draw(self, *question: object) -> random.Random:
        """The answer's randomness: from the seed and the question only (case-insensitive)."""
        return random.Random("\0".join(str(q).lower() for q in (self.seed, *question)))

    def text(self, rng: random.Random) -> str:
        pool = [t for t in self.literals if 0 < len(t) <= 80] or ["OK"]
        return rng.choice(pool)

    def names(self) -> tuple[str, ...]:
        """The literals that could name something (a site, a share): short, no path."""
        return tuple(t for t in self.literals if 0 < len(t) <= 40 and not _NOT_A_NAME.search(t))

    def property(self, name: str) -> Any:
        """The value this world's administrator gave a private property nobody configured
        for the run (None: unset here too): a number where the script uses it as one or its
        name says so, a GUID or a number for an identifier, a path (``C:\\...``) where the name
        says that, else a name drawn from the script's literals. Set in four worlds of five,
        independently by name."""
        if not self.generated:
            return None
        rng = self._draw("property", name)
        if rng.random() >= 0.8:
            return None
        if name.lower() in self.numeric or NUMERIC_NAMES.search(name):
            return rng.choice(PROPERTY_NUMBERS)
        if GUID_NAMES.search(name) or (ID_NAMES.search(name) and rng.random() < 0.5):
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if ID_NAMES.search(name):
            return rng.choice(PROPERTY_NUMBERS)
        text = rng.choice(self.names() or ("Cluster",))
        return f"C:\\{text}" if PATH_NAMES.search(name) else text

    def present(self, path: str) -> bool:
        """Whether the file or folder a generated property names exists in this world."""
        return self._draw("present", path).random() < 0.75

    def lacks(self, command: str) -> str | None:
        """The program ``command`` starts, if this world does not have it (None: it does): a
        Unix tool in half the worlds, a program named by a path outside Windows' own folders
        (a product's, under Program Files) in a quarter, as on a node it was not installed on."""
        given = command.strip()
        quoted = re.match(r'"([^"]*)"', given)
        first = quoted.group(1) if quoted else (given.split() or [""])[0]
        program = re.sub(r"\.exe$", "", first.lower())
        if not self.generated or not program:
            return None
        if program in FOREIGN_PROGRAMS:
            odds = 0.5
        elif re.search(r"[\\/]", program) and not SYSTEM_FOLDERS.match(program):
            odds = 0.25
        else:
            return None
        return first if self._draw("program", program).random() < odds else None

    def command(self, command: str) -> tuple[int, str, int]:
        """(exit code, what it printed, how many Status reads see it still running)."""
        if self.failed:
            return 1, "", 0
        if not self.generated:
            return 0, "", 0
        rng = self._draw("command", command)
        code = 0 if rng.random() < 0.7 else rng.choice((1, 2, 5))
        lines = [self.text(rng) for _ in range(rng.choice((0, 1, 1, 2)))]
        return code, "".join(f"{line}\r\n" for line in lines), rng.choice((0, 0, 1, 3))

    def wmi_get(self, path: str) -> WmiObject | None:
        """The object a WMI path names, or None: it does not exist in this world."""
        name, keys = wmi_class(path)
        kind = object_type(name)
        if not self.generated or kind is None:
            return None
        if not keys:  # a class, not an instance: it exists (Win32_Share.Create is on it)
            return kind(self, name, {})
        return kind(self, name, keys) if self._exists(name, keys) else None

    def wmi_query(self, query: str) -> list[WmiObject]:
        """The objects a WQL query finds: the one its keys name, if it exists, or 0..3."""
        name, keys = wmi_class(query)
        kind = object_type(name)
        if not self.generated or kind is None:
            return []
        if keys:
            return [kind(self, name, keys)] if self._exists(name, keys) else []
        count = 0 if self.failed == GONE else self._draw("count", query).choice((0, 1, 1, 2, 3))
        return [kind(self, name, {"#": str(i)}) for i in range(count)]

    def _exists(self, name: str, keys: dict[str, str]) -> bool:
        if self.failed == GONE:
            return False
        return self._draw("exists", name, sorted(keys.items())).random() < 0.75


class WmiObject:
    """One WMI object of a generated world; `object_type` gives each class its documented
    properties and methods as members of its own (the engines find members by name)."""

    def __init__(self, world: World, name: str, keys: dict[str, str]) -> None:
        self._world, self._name, self._keys = world, name, keys

    @property
    def Path_(self) -> str:
        keys = ",".join(f"{k}='{v}'" for k, v in self._keys.items() if k != "#")
        return f"{self._name}.{keys}" if keys else self._name

    def _rng(self, *question: object) -> random.Random:
        return self._world._draw("wmi", self._name, sorted(self._keys.items()), *question)

    def _returns(self, method: str, codes: tuple[int, ...]) -> int:
        rng = self._rng("method", method)
        if self._world.failed and codes:
            return rng.choice(codes)
        return 0 if rng.random() < 0.8 or not codes else rng.choice(codes)

    def _value(self, name: str, prop: Prop) -> Any:
        if name.lower() in self._keys:
            return self._keys[name.lower()]
        rng = self._rng("property", name)
        if prop.values and self._world.failed and len(prop.values) > 1:
            return rng.choice(prop.values[1:])  # any but the healthy one
        if prop.values:  # the first, healthy value more often than the others
            return prop.values[0] if rng.random() < 0.6 else rng.choice(prop.values)
        if prop.kind == "started":
            return self._value("State", CLASSES["win32_service"].properties["State"]) in (
                "Running",
                "Paused",
                "Stop Pending",
            )
        if prop.kind == "bool":
            return rng.random() < 0.7 and not self._world.failed
        if prop.kind == "int":
            return rng.randrange(1, 65536)
        return self._world.text(rng)


@functools.cache
def object_type(name: str) -> type[WmiObject] | None:
    """The Python class of a WMI class rescheck knows (None: it does not, and fabricates no
    object of it): a property per documented property, a method per method."""
    known = CLASSES.get(name.lower())
    if known is None:
        return None
    members: dict[str, Any] = {}
    for prop_name, prop in known.properties.items():
        members[prop_name] = property(lambda self, n=prop_name, p=prop: self._value(n, p))
    for method, codes in known.methods.items():
        members[method] = lambda self, *args, m=method, c=codes: self._returns(m, c)
    return type(name, (WmiObject,), members)
