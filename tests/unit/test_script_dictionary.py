"""``Scripting.Dictionary`` in the three script languages (issue 18): part of the Windows Script
runtime on every machine, so a control script gets a real one, recorded as no stand-in, with
VBScript's key semantics and errors (457 on a duplicate Add, 32811 on Remove of a missing
key), whichever language created it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.clusapi import HKEY, InMemoryClusterDatabase
from conformance.genscript.dictionary import Dictionary
from conformance.genscript.engine import CallAnswer, ScriptWorld, new_engine
from conformance.genscript.host_objects import ComError, ComWorld, ResourceObject, Sandbox

PARAMETERS = "Resources\\r1\\Parameters"

#: VBScript gets asppy's dictionary only once `vbscript._wrap` hands a `Dictionary` over as
#: `dictionary.for_vbscript(value)` instead of wrapping it in `_Com` (which has no default
#: member, no For Each, and turns Keys' array into an object). Take this mark off then.
#: The same dictionary work in each language: add, read, enumerate the keys, Keys and Items
#: as arrays, Exists, Remove, a duplicate Add and a Remove of a missing key caught.
SCRIPTS = {
    "vbs": """Function YesNo(b)
  If b Then YesNo = "yes" Else YesNo = "no"
End Function
Function Online()
  Dim d, k, walked, dup, gone
  Set d = CreateObject("Scripting.Dictionary")
  d.Add "a", 1
  d.Add 5, "five"
  d.Add "b", 2
  For Each k In d
    walked = walked & k & ","
  Next
  On Error Resume Next
  d.Add "a", 9
  dup = Err.Number
  Err.Clear
  d.Remove "zz"
  gone = Err.Number
  On Error GoTo 0
  d.Remove "b"
  Online = d.Count & "|" & d.Item("a") & "|" & d(5) & "|" & walked & "|" _
    & Join(d.Keys, ",") & "|" & Join(d.Items, ",") & "|" & YesNo(d.Exists("a")) & "|" _
    & YesNo(d.Exists("5")) & "|" & dup & "|" & gone
End Function
""",
    "js": """function YesNo(b) { return b ? "yes" : "no"; }
function Online() {
  var d = new ActiveXObject("Scripting.Dictionary");
  d.Add("a", 1);
  d.Add(5, "five");
  d.Add("b", 2);
  var walked = "";
  for (var e = new Enumerator(d); !e.atEnd(); e.moveNext()) walked += e.item() + ",";
  var dup = 0, gone = 0;
  try { d.Add("a", 9); } catch (err) { dup = err.number & 0xFFFF; }
  try { d.Remove("zz"); } catch (err) { gone = err.number & 0xFFFF; }
  d.Remove("b");
  return [d.Count, d.Item("a"), d.Item(5), walked, new VBArray(d.Keys()).toArray().join(","),
          new VBArray(d.Items()).toArray().join(","), YesNo(d.Exists("a")),
          YesNo(d.Exists("5")), dup, gone].join("|");
}
""",
    "py": """def YesNo(b):
    return "yes" if b else "no"
def Online():
    d = CreateObject("Scripting.Dictionary")
    d.Add("a", 1)
    d.Add(5, "five")
    d.Add("b", 2)
    walked = "".join(f"{k}," for k in d)
    dup = gone = 0
    try:
        d.Add("a", 9)
    except Exception as err:
        dup = err.number
    try:
        d.Remove("zz")
    except Exception as err:
        gone = err.number
    d.Remove("b")
    return "|".join(str(x) for x in [d.Count, d.Item("a"), d.Item(5), walked,
        ",".join(map(str, d.Keys())), ",".join(map(str, d.Items())), YesNo(d.Exists("a")),
        YesNo(d.Exists("5")), dup, gone])
""",
}
EXPECTED = "2|1|five|a,5,b,|a,5|1,five|yes|no|457|32811"
#: The line of CreateObject in each script above.
CREATE_LINE = {"vbs": 6, "js": 3, "py": 4}


class World:
    """A script's world over an in-memory cluster database, recording its object events."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.db = InMemoryClusterDatabase()
        self.db.create_key(PARAMETERS)
        self.events: list[tuple[str, dict]] = []
        self.com = ComWorld(Sandbox(tmp_path), lambda what, data: self.events.append((what, data)))
        self.resource = ResourceObject(
            "r1", HKEY(self.db, PARAMETERS, None), lambda text: None, lambda what, data: None
        )

    def online(self, ext: str, text: str) -> CallAnswer:
        """Load ``text`` as a script of language ``ext`` and call its Online."""
        path = self.tmp_path / f"script.{ext}"
        path.write_text(text, encoding="utf-8")
        engine = new_engine(path)
        loaded = engine.load(ScriptWorld(self.resource, self.com))
        assert loaded.status == "ok", f"expected {path.name} to load; got {loaded}"
        return engine.call("Online")


@pytest.mark.parametrize("ext", ["vbs", "js", "py"])
def test_each_language_gets_a_real_dictionary(tmp_path: Path, ext: str) -> None:
    world = World(tmp_path)
    answer = world.online(ext, SCRIPTS[ext])
    assert answer.status == "ok" and answer.value == EXPECTED, (
        f"the dictionary should add, read, enumerate, remove and raise 457 and 32811 as "
        f"scrrun's does; expected {EXPECTED!r}, got {answer}"
    )
    created = {"progid": "Scripting.Dictionary", "line": CREATE_LINE[ext], "stand_in": False}
    assert world.events == [("create-object", created)], (
        f"one creation, on its line, and not one of rescheck's stand-ins (a dictionary is the "
        f"real thing); got {world.events}"
    )


def test_vbscript_sees_the_dictionary_as_vbscript_does(tmp_path: Path) -> None:
    """Default member, Key, CompareMode, Empty for a missing key, TypeName, Keys() indexed,
    and the duplicate Add's description, as on Windows."""
    text = """Function Online()
  Dim d, s
  Set d = CreateObject("Scripting.Dictionary")
  d.CompareMode = 1
  d("Alpha") = 1
  d.Item("beta") = 2
  d.Key("beta") = "Beta"
  s = TypeName(d) & "|" & d("ALPHA") & "|" & d.Exists("alpha") & "|" & d.Keys()(1) _
    & "|" & UBound(d.Items) & "|" & IsEmpty(d("gamma")) & "|" & d.Count
  On Error Resume Next
  d.Add "alpha", 3
  Online = s & "|" & Err.Number & "|" & Err.Description
End Function
"""
    answer = World(tmp_path).online("vbs", text)
    expected = (
        "Dictionary|1|True|Beta|1|True|3|457|"
        "This key is already associated with an element of this collection"
    )
    assert answer.status == "ok" and answer.value == expected, (
        f"expected {expected!r}; got {answer}"
    )


def test_an_uncaught_duplicate_add_is_a_runtime_error_on_its_line(tmp_path: Path) -> None:
    text = """function Online() {
  var d = new ActiveXObject("Scripting.Dictionary");
  d.Add("a", 1);
  d.Add("a", 2);
}
"""
    answer = World(tmp_path).online("js", text)
    assert answer.status == "error" and answer.error and answer.error.line == 4, (
        f"a duplicate Add fails on its line; got {answer}"
    )
    assert "already associated" in answer.error.message, answer


def test_jscript_reads_keys_through_vbarray_and_keeps_values_as_json(tmp_path: Path) -> None:
    """VBArray's members, a missing key read (added, empty), a kept object (a copy), the
    error number JScript shows (0x800A01C9), and the errors of VBArray and Enumerator over
    what is not an array or a collection."""
    text = """function Online() {
  var d = new ActiveXObject("Scripting.Dictionary"), out = [];
  d.Add("x", { port: 80, hosts: ["a", "b"] });
  d.Add(true, "yes");
  var keys = new VBArray(d.Keys());
  out.push(keys.lbound(), keys.ubound(), keys.getItem(0), keys.dimensions());
  out.push(d.Item("x").hosts[1], d.Item(-1), d.Item("missing") == null, d.Count);
  try { d.Add("x", 0); } catch (e) { out.push(e.number); }
  try { new VBArray("x"); } catch (e) { out.push(e.number & 0xFFFF); }
  try { new Enumerator(Resource); } catch (e) { out.push(e.number & 0xFFFF); }
  d.CompareMode = 0;
  try { d.CompareMode = 1; } catch (e) { out.push(e.number & 0xFFFF); }
  d.RemoveAll();
  out.push(d.Count);
  return out.join("|");
}
"""
    answer = World(tmp_path).online("js", text)
    expected = "0|1|x|1|b|yes|true|3|-2146827831|5013|451|5|0"
    assert answer.status == "ok" and answer.value == expected, (
        f"expected {expected!r}; got {answer}"
    )


def test_python_scripts_also_get_pythons_own_protocol(tmp_path: Path) -> None:
    text = """def Online():
    d = CreateObject("Scripting.Dictionary")
    empty = bool(d)
    d["a"] = 1
    d["a"] = 2
    d[1.0] = "one"
    found = ("a" in d, 1 in d, "1" in d, len(d), d["missing"], d.Count)
    del d["missing"]
    return repr((empty, found, d.Keys(), d.Items()))
"""
    answer = World(tmp_path).online("py", text)
    expected = "(True, (True, True, False, 2, None, 3), ['a', 1.0], [2, 'one'])"
    assert answer.status == "ok" and answer.value == expected, (
        f"expected {expected!r}; got {answer}"
    )


def test_keys_compare_as_vbscript_variants() -> None:
    """5 and "5" are two keys, 5 and 5.0 one, True is -1, strings by CompareMode."""
    d = Dictionary()
    d.Add(5, "int")
    d.Add("5", "string")
    d.Add(True, "true")
    assert d.Count == 3 and d.Item(5.0) == "int" and d.Item(-1) == "true"
    with pytest.raises(ComError) as raised:
        d.Add(5.0, "again")
    assert raised.value.number == 457
    assert not d.Exists("A")
    text = Dictionary()
    text.CompareMode = 1  # TextCompare, before it holds anything
    text.Add("A", 1)
    assert text.Exists("a") and text.Keys() == ["A"]
    with pytest.raises(ComError) as raised:
        text.CompareMode = 0  # it holds data now: error 5, as on Windows
    assert raised.value.number == 5
    with pytest.raises(ComError) as raised:
        text.Remove("b")
    assert (raised.value.number, raised.value.description) == (32811, "Element not found")
