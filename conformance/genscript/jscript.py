"""JScript through quickjs-ng (``import quickjs``). QuickJS runs JScript's ES3 in sloppy mode;
the JScript-only globals (``ActiveXObject``, ``GetObject``, ``Enumerator``, ``VBArray``) come
from a prelude. A COM array (a dictionary's Keys()) is a JS array, which ``new VBArray(a)``
also takes; ``new Enumerator(object)`` walks a host collection (a dictionary's keys). Values
cross as JSON: a JS object or array a dictionary keeps comes back as a copy, and a function or
a host object cannot be kept. JScript's assignment to a call (``d.Item(k) = v``,
``d.Key(k) = n``) is a syntax error in QuickJS.

Host objects are JS Proxies over Python callables: every ``Resource`` member and every member
of a COM stand-in is a call into Python, answered as JSON. No engine time limit is set (QuickJS
refuses Python callbacks under one, and it counts CPU time, not wall time): the monitor's own
deadlines bound a script, and an interrupt takes effect at the script's next host-object call.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from typing import Any

import quickjs

from conformance.errors import TargetLoadError
from conformance.genscript.com import ComError
from conformance.genscript.engine import CallAnswer, FunctionInfo, ScriptError, ScriptWorld

#: The prelude's first line: its frames are told from the script's by their line numbers.
PRELUDE_LINE = 1_000_000
PRELUDE = (
    "\n" * (PRELUDE_LINE - 1)
    + r"""
function __where() {
  var lines = String(new Error().stack).split("\n");
  for (var i = 0; i < lines.length; i++) {
    var m = /<input>:(\d+):(\d+)/.exec(lines[i]);
    if (m && Number(m[1]) < PRELUDE_LINE) return Number(m[1]);
  }
  return null;
}
function __error(answer) {
  var e = new Error(answer.description);
  e.number = answer.number ? (0x800A0000 | answer.number) : -2147467259;
  e.description = answer.description;
  return e;
}
function __answer(text) {
  var a = JSON.parse(text);
  if (a.error) throw __error(a.error);
  if (a.object !== undefined) return __object(a.object);
  if (a.list !== undefined) return a.list.map(function (x) { return x.object !== undefined ? __object(x.object) : x.value; });
  return a.value;
}
var __ids = new WeakMap();  // host object -> its id, for Enumerator
function __object(id) {
  var object = new Proxy({}, {
    get: function __trap_get(t, k) {
      if (typeof k !== "string") return undefined;
      var kind = JSON.parse(__com_kind(id, k));
      if (kind.error) throw __error(kind.error);
      if (kind.method) return function () {
        return __answer(__com_call(id, k, JSON.stringify(Array.prototype.slice.call(arguments)), __where()));
      };
      return __answer(__com_get(id, k, __where()));
    },
    set: function __trap_set(t, k, v) { __answer(__com_set(id, String(k), JSON.stringify(v), __where())); return true; }
  });
  __ids.set(object, id);
  return object;
}
var PRELUDE_LINE = %d;
var Resource = __object(0);
var WScript = new Proxy({}, {
  get: function __trap_console(t, k) { throw __error(JSON.parse(__console(String(k), __where())).error); }
});
function ActiveXObject(progid) { return __answer(__create(String(progid), __where())); }
function GetObject(moniker) { return __answer(__get_object(String(moniker), __where())); }
function Enumerator(list) {
  var i = 0, items = __ids.has(list) ? __answer(__com_items(__ids.get(list), __where())) : (list || []);
  this.atEnd = function () { return i >= items.length; };
  this.item = function () { return items[i]; };
  this.moveNext = function () { i++; };
  this.moveFirst = function () { i = 0; };
}
function VBArray(array) {
  if (!Array.isArray(array)) throw __error({ number: 5013, description: "VBArray expected" });
  var items = array.slice();
  this.dimensions = function () { return 1; };
  this.lbound = function () { return 0; };
  this.ubound = function () { return items.length - 1; };
  this.getItem = function (i) {
    if (!(i >= 0 && i < items.length)) throw __error({ number: 9, description: "Subscript out of range" });
    return items[i];
  };
  this.toArray = function () { return items.slice(); };
}
function __invoke(name) {
  var f = globalThis[name];
  if (typeof f !== "function") return JSON.stringify({ status: "missing" });
  var r = f();
  var t = typeof r;
  return JSON.stringify({ status: "ok", type: t, value: (t === "undefined" || t === "function" || t === "object") ? null : r,
                          text: (t === "object") ? String(r) : null });
}
"""
)

PRELUDE = PRELUDE.replace("%d", str(PRELUDE_LINE))
_FRAME = re.compile(r"<input>:(\d+):(\d+)")


def _is_json(value: Any) -> bool:
    """Whether ``value`` goes to JScript as a copy (it came from JScript as JSON)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _located(exc: Exception, file: str, offset: int = 0) -> ScriptError:
    """A QuickJS exception as file, line, column and its first line of message: the first
    frame that is the script's own (the prelude's lines are numbered from PRELUDE_LINE)."""
    text = str(exc)
    message = text.splitlines()[0] if text else type(exc).__name__
    for match in _FRAME.finditer(text):
        line = int(match.group(1))
        if line < PRELUDE_LINE:
            return ScriptError(
                f"JScript error: {message}", file, line - offset, int(match.group(2))
            )
    return ScriptError(f"JScript error: {message}", file)


def parse(source: str, file: str) -> dict[str, FunctionInfo]:
    """Syntax check without running anything (the source becomes the body of a function that
    is never called), then the functions declared at script level."""
    context = quickjs.Context()
    try:
        context.eval("(function () {\n" + source + "\n})")
    except quickjs.JSException as exc:
        error = _located(exc, file, offset=1)
        if error.line is not None and error.line > source.count("\n") + 1:  # at the end
            error = ScriptError(error.message, file, source.count("\n") + 1, None)
        message = error.message.replace("JScript error: SyntaxError: ", "JScript syntax error: ")
        raise TargetLoadError(str(ScriptError(message, file, error.line, error.column))) from None
    found: dict[str, FunctionInfo] = {}
    depth = 0
    for number, line in enumerate(source.splitlines(), start=1):
        match = re.match(r"\s*function\s+([A-Za-z_$][\w$]*)\s*\(([^)]*)\)", line)
        if match and depth == 0:
            params = [p for p in match.group(2).split(",") if p.strip()]
            found[match.group(1)] = FunctionInfo(match.group(1), len(params), number)
        depth += line.count("{") - line.count("}")
    return found


class JScriptEngine:
    language = "JScript"

    def __init__(self, source: str, file: str) -> None:
        self.source, self.file = source, file
        self.context: Any = None
        self._objects: dict[int, Any] = {}
        self._ids = itertools.count(1)
        self._interrupted = False  # set by interrupt() while a load or call runs
        self._running = False
        self._marker = threading.Lock()
        self._at: int | None = None  # the script's line of the host-object call under way

    def _run(self, work: Any) -> tuple[Any, quickjs.JSException | None, bool]:
        """``work()`` marked as running, so that an interrupt lands in it or in nothing:
        (its value, the JS exception it raised, whether it was interrupted)."""
        with self._marker:
            self._running, self._interrupted = True, False
        try:
            return work(), None, False
        except quickjs.JSException as exc:
            return None, exc, self._interrupted
        finally:
            with self._marker:
                self._running = self._interrupted = False

    def load(self, world: ScriptWorld) -> CallAnswer:
        context = quickjs.Context()
        self._objects = {0: world.resource}
        calls = {
            "__com_kind": self._kind,
            "__com_get": self._get,
            "__com_set": self._set,
            "__com_call": self._call,
            "__com_items": self._items,
            "__create": lambda progid, line: self._host(world.com.create_object, progid, line),
            "__get_object": lambda moniker, line: self._host(world.com.get_object, moniker, line),
            "__console": lambda member, line: self._console(world, member, line),
        }
        world.com.line = lambda: self._at
        for name, fn in calls.items():
            context.add_callable(name, fn)
        context.eval(PRELUDE)
        self.context = context
        _, exc, interrupted = self._run(lambda: context.eval(self.source))
        if exc is not None:
            self.context = None
            if interrupted:
                return CallAnswer("interrupted")
            return CallAnswer("error", error=_located(exc, self.file))
        return CallAnswer("ok")

    def call(self, name: str) -> CallAnswer:
        if self.context is None:
            return CallAnswer("error", error=ScriptError("the script is not loaded", self.file))
        context = self.context
        text, exc, interrupted = self._run(lambda: context.get("__invoke")(name))
        if exc is not None:
            if interrupted:
                return CallAnswer("interrupted")
            return CallAnswer("error", error=_located(exc, self.file))
        answer = json.loads(text)
        if answer["status"] == "missing":
            return CallAnswer("missing")
        kind = answer["type"]
        if kind == "undefined":
            return CallAnswer("ok")
        value = answer["value"] if kind != "object" else answer["text"]
        kinds = {"boolean": "boolean", "number": "number", "string": "string"}
        return CallAnswer("ok", value, kinds.get(kind, "other"))

    def interrupt(self) -> None:
        with self._marker:
            if self._running:
                self._interrupted = True

    def unload(self) -> None:
        self.context = None
        self._objects = {}

    # --- the Python side of the host objects -------------------------------------------------
    def _guard(self, work: Any, line: Any = None) -> str:
        self._at = int(line) if isinstance(line, (int, float)) else None
        if self._interrupted:
            return json.dumps({"error": {"number": 0, "description": "interrupted by rescheck"}})
        try:
            return json.dumps(work())
        except ComError as exc:
            number, description = exc.number, exc.description
        except OSError as exc:
            number, description = 76, f"Path not found: {exc}"
        except TypeError as exc:  # a method called with the wrong arguments
            number, description = 450, f"Wrong number of arguments or invalid property: {exc}"
        except Exception as exc:  # QuickJS cannot take a Python exception: it becomes an error
            number, description = 5, f"Invalid procedure call or argument: {exc}"
        return json.dumps({"error": {"number": number, "description": description}})

    def _encode(self, value: Any) -> dict[str, Any]:
        if isinstance(value, (list, tuple)):
            return {"list": [self._encode(v) for v in value]}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"value": value}
        if isinstance(value, dict) and _is_json(value):  # a JScript object a dictionary kept
            return {"value": value}
        ident = next(self._ids)
        self._objects[ident] = value
        return {"object": ident}

    def _member(self, ident: int, member: str) -> tuple[Any, str | None]:
        target = self._objects[ident]
        if ident == 0 and member not in (
            "Name",
            "LogInformation",
            "AddProperty",
            "RemoveProperty",
            "PropertyExists",
        ):
            return target, None  # a private property
        names = [n for n in dir(target) if not n.startswith("_")]
        found = next((n for n in names if n.lower() == member.lower()), None)
        if found is None:
            raise ComError(438, f"Object doesn't support this property or method: '{member}'")
        return target, found

    def _kind(self, ident: int, member: str) -> str:
        def work() -> dict[str, Any]:
            target, name = self._member(ident, member)
            return {"method": name is not None and callable(getattr(type(target), name, None))}

        return self._guard(work)

    def _get(self, ident: int, member: str, line: Any) -> str:
        def work() -> dict[str, Any]:
            target, name = self._member(ident, member)
            return self._encode(target.get(member) if name is None else getattr(target, name))

        return self._guard(work, line)

    def _set(self, ident: int, member: str, value: str, line: Any) -> str:
        def work() -> dict[str, Any]:
            target, name = self._member(ident, member)
            if name is None:
                target.set(member, json.loads(value))
            else:
                setattr(target, name, json.loads(value))
            return {"value": None}

        return self._guard(work, line)

    def _call(self, ident: int, member: str, args: str, line: Any) -> str:
        def work() -> dict[str, Any]:
            target, name = self._member(ident, member)
            return self._encode(getattr(target, name)(*json.loads(args)))  # type: ignore[arg-type]

        return self._guard(work, line)

    def _items(self, ident: int, line: Any) -> str:
        """What ``new Enumerator(object)`` walks: a collection's elements (a dictionary's keys)."""

        def work() -> dict[str, Any]:
            target = self._objects[ident]
            if ident == 0 or not hasattr(type(target), "__iter__"):
                raise ComError(451, "Object not a collection")
            return self._encode(list(target))

        return self._guard(work, line)

    def _console(self, world: ScriptWorld, member: str, line: Any) -> str:
        def work() -> dict[str, Any]:
            raise world.com.console(member)

        return self._guard(work, line)

    def _host(self, factory: Any, name: str, line: Any) -> str:
        return self._guard(lambda: self._encode(factory(name, self._at)), line)
