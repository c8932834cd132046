"""``Scripting.Dictionary``, the Windows Script runtime's (scrrun.dll) keyed collection, which
every Windows machine has and which touches nothing outside the script: a real object, not a
stand-in (issue 18).

One implementation serves the three languages, so keys compare the same everywhere: asppy's
``ScriptingDictionary`` (VBScript Variant keys: ``5`` and ``"5"`` differ, ``5``, ``5.0`` and
``-1``/``True`` compare as numbers, strings by CompareMode; reading a missing key adds it,
Empty; Add of a present key is error 457, Remove of a missing one 32811). VBScript uses that
object as it is (`for_vbscript`): default member, ``For Each k In d``, ``d.Key(k) = n``,
Keys and Items as arrays. JScript and Python get `Dictionary`, the same object in plain Python
values: Keys() and Items() are lists (JScript's ``new VBArray(d.Keys()).toArray()`` reads
them), Empty is None, an error is a `ComError` with VBScript's number.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ASPPY.server_object import ScriptingDictionary
from ASPPY.vb_errors import VBScriptError
from ASPPY.vm.values import VBEmpty

from conformance.genscript.com import ComError

T = TypeVar("T")


def _plain(value: Any) -> Any:
    """A value as JScript and Python see it: Empty is None."""
    return None if value is VBEmpty else value


def _com(work: Callable[[], T]) -> T:
    """``work()``, asppy's VBScript error turned into the COM error a script sees."""
    try:
        return work()
    except VBScriptError as exc:
        number = exc.error_def.number if exc.error_def is not None else 5
        raise ComError(number, exc.description) from None


class Dictionary:
    """``Scripting.Dictionary`` for JScript and Python, over asppy's (see the module)."""

    def __init__(self) -> None:
        self._native = ScriptingDictionary()

    def __repr__(self) -> str:
        return f"<Scripting.Dictionary of {self._native.Count}>"

    @property
    def Count(self) -> int:
        return self._native.Count

    @property
    def CompareMode(self) -> int:
        return self._native.CompareMode

    @CompareMode.setter
    def CompareMode(self, value: Any) -> None:  # error 5 once it holds data, as on Windows
        def work() -> None:
            self._native.CompareMode = value

        _com(work)

    def Add(self, key: Any, item: Any) -> None:
        _com(lambda: self._native.Add(key, item))

    def Exists(self, key: Any) -> bool:
        return self._native.Exists(key)

    def Item(self, key: Any) -> Any:
        """The item of ``key``; a missing key is added, Empty (None), as COM's Item does."""
        return _plain(self._native.__vbs_index_get__(key))

    def Items(self) -> list[Any]:
        return [self.Item(k) for k in self._native]  # every key is present: nothing is added

    def Keys(self) -> list[Any]:
        return [_plain(k) for k in self._native]

    def Remove(self, key: Any) -> None:
        _com(lambda: self._native.Remove(key))

    def RemoveAll(self) -> None:
        self._native.RemoveAll()

    # --- Python's own protocol, for Python scripts (JScript sees only the members above) -----
    def __getitem__(self, key: Any) -> Any:
        return self.Item(key)

    def __setitem__(self, key: Any, item: Any) -> None:
        self._native.__vbs_index_set__(key, item)

    def __delitem__(self, key: Any) -> None:
        self.Remove(key)

    def __contains__(self, key: Any) -> bool:
        return self.Exists(key)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.Keys())

    def __len__(self) -> int:
        return self.Count

    def __bool__(self) -> bool:  # an object, even an empty one, as win32com's are
        return True


def for_vbscript(dictionary: Dictionary) -> ScriptingDictionary:
    """The object VBScript uses: asppy's own, which its interpreter knows (default member,
    For Each, Keys as an array, ``d.Key(k) = n``), sharing ``dictionary``'s contents."""
    return dictionary._native
