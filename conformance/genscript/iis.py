"""IIS's configuration objects, as a generated world has them (issue 18).

Scripts that run a web site or an FTP site in a cluster (Microsoft's own KB 970759 and KB
974603 scripts among them) read IIS's configuration through the IIS Administration API:
``CreateObject("Microsoft.ApplicationHost.AdminManager")`` (or ``WritableAdminManager``),
``GetAdminSection("system.applicationHost/sites", "MACHINE/WEBROOT/APPHOST")``, its
``Collection`` (``Count``, ``Item(i)``), each element's ``GetPropertyByName("name").Value``
and ``Methods.Item(i).CreateInstance().Execute()`` (learn.microsoft.com, "IAppHostAdminManager",
"IAppHostElementCollection", "IAppHostMethod"). In a generated world, each of the script's
literals that could name a site (or an application pool) names one with even odds, so some
worlds have the site the script looks for and some do not; each is in one of its documented
states (1 started, 3 stopped...). An index past the collection is E_INVALIDARG, as in IIS.
The stand-in world has no IIS.
"""

from __future__ import annotations

import random
from typing import Any

from conformance.genscript.com import ComError

#: The ProgIDs of the IIS Administration API.
PROGIDS = frozenset(
    {"microsoft.applicationhost.adminmanager", "microsoft.applicationhost.writableadminmanager"}
)
#: E_INVALIDARG, as a VBScript Err.Number: an index outside a collection.
E_INVALIDARG = 0x80070057 - (1 << 32)
#: The sections a generated world fills, with their elements' methods (by index, as the
#: schema lists them): a site's Start and Stop, an application pool's Start, Stop, Recycle.
SECTIONS = {
    "system.applicationhost/sites": ("Start", "Stop"),
    "system.applicationhost/applicationpools": ("Start", "Stop", "Recycle"),
}
#: ObjectState of a site or an application pool: 0 starting, 1 started, 2 stopping, 3
#: stopped, 4 unknown; started is the healthy one.
STATES = (1, 3, 0, 2, 4)


class AdminManager:
    """``Microsoft.ApplicationHost.(Writable)AdminManager`` of a generated world."""

    def __init__(self, com: Any, observe: Any, line: Any) -> None:
        self._com, self._observe, self._line = com, observe, line

    @property
    def _world(self) -> Any:
        return self._com.world  # as it is now: the entity may have failed since

    def GetAdminSection(self, name: Any, path: Any = "MACHINE/WEBROOT/APPHOST") -> Element:
        section = str(name)
        methods = SECTIONS.get(section.lower(), ())
        names = [
            n for n in self._world.names() if self._world._draw("iis", section, n).random() < 0.5
        ]
        gone = self._world.failed == "gone" or not methods
        items = [] if gone else [_element(self._world, section, n, methods) for n in names]
        self._observe(
            "iis-section",
            {
                "section": section,
                "found": len(items),
                "line": self._line(),
                "world": self._world.seed,
                "failed": self._world.failed,
            },
        )
        return Element(self._world, section, {}, (), Collection(items))

    def CommitChanges(self) -> None:
        return None


class Property:
    def __init__(self, name: str, value: Any) -> None:
        self.Name, self.Value = name, value


class Collection:
    """An element collection: ``Count``, ``Item(i)``, and ``collection(i)`` in VBScript."""

    def __init__(self, items: list[Any]) -> None:
        self._items = items

    @property
    def Count(self) -> int:
        return len(self._items)

    def Item(self, index: Any) -> Any:
        i = int(index)
        if not 0 <= i < len(self._items):
            raise ComError(E_INVALIDARG, "The parameter is incorrect.")
        return self._items[i]

    def __iter__(self) -> Any:
        return iter(list(self._items))


class Method:
    def __init__(self, name: str) -> None:
        self.Name = name

    def CreateInstance(self) -> MethodInstance:
        return MethodInstance()


class MethodInstance:
    def Execute(self) -> None:
        return None


class Element:
    """A configuration element: its properties by name, its methods, its child collection."""

    def __init__(
        self,
        world: Any,
        name: str,
        properties: dict[str, Any],
        methods: tuple[str, ...],
        collection: Collection | None = None,
    ) -> None:
        self._world, self.Name, self._properties = world, name, properties
        self.Methods = Collection([Method(m) for m in methods])
        self.Collection = collection or Collection([])

    def GetPropertyByName(self, name: Any) -> Property:
        key = str(name).lower()
        if key not in self._properties:
            raise ComError(E_INVALIDARG, f"Unrecognized attribute '{name}'")
        return Property(str(name), self._properties[key])


def _element(world: Any, section: str, name: str, methods: tuple[str, ...]) -> Element:
    rng: random.Random = world._draw("iis", section.lower(), name, "state")
    if world.failed:
        state = rng.choice(STATES[1:])
    else:
        state = STATES[0] if rng.random() < 0.7 else rng.choice(STATES)
    properties = {
        "name": name,
        "id": rng.randrange(1, 1000),
        "state": state,
        "autostart": rng.random() < 0.8,
    }
    return Element(world, "site" if "sites" in section.lower() else "add", properties, methods)
