"""The script engines behind the Generic Script DLL, language by language: what the adapter
promises (load, call, answers as GS-13 reads them, errors with file and line, interrupts) and
the world a script sees (its Resource object, the COM stand-ins, no WScript).

These are also the upgrade tests of asppy (pinned): every asppy feature the adapter uses is
exercised here."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from conformance.clusapi import HKEY, InMemoryClusterDatabase
from conformance.companion import RUN
from conformance.errors import TargetLoadError
from conformance.genscript.engine import ScriptWorld, new_engine, parse
from conformance.genscript.host_objects import (
    ComError,
    ComWorld,
    FileSystemObject,
    ResourceObject,
    Sandbox,
)

PARAMETERS = "Resources\\r1\\Parameters"

#: One script per language with the same behaviour: script-level code logs, Open adds a
#: property, the polls return Booleans, Online a number, Offline nothing, Close fails.
SCRIPTS = {
    "vbs": """Option Explicit
Dim fso
Set fso = CreateObject("Scripting.FileSystemObject")
Resource.LogInformation "loaded " & Resource.Name
Function Open()
  If Not Resource.PropertyExists("Counter") Then Resource.AddProperty "Counter"
End Function
Function Online()
  Resource.Counter = 7
  Online = 0
End Function
Function Offline()
End Function
Function LooksAlive()
  LooksAlive = True
End Function
Function IsAlive()
  IsAlive = False
End Function
Function Close()
  Close = 1 / 0
End Function
""",
    "js": """var fso = new ActiveXObject("Scripting.FileSystemObject");
Resource.LogInformation("loaded " + Resource.Name);
function Open() { if (!Resource.PropertyExists("Counter")) Resource.AddProperty("Counter"); }
function Online() { Resource.Counter = 7; return 0; }
function Offline() { }
function LooksAlive() { return true; }
function IsAlive() { return false; }
function Close() {
  var state = null;
  return state.x;
}
""",
    "py": """fso = CreateObject("Scripting.FileSystemObject")
Resource.LogInformation("loaded " + Resource.Name)
def Open():
    if not Resource.PropertyExists("Counter"):
        Resource.AddProperty("Counter")
def Online():
    Resource.Counter = 7
    return 0
def Offline():
    pass
def LooksAlive():
    return True
def IsAlive():
    return False
def Close():
    return 1 / 0
""",
}
#: The line of Close's error in each script above.
CLOSE_ERROR_LINE = {"vbs": 21, "js": 10, "py": 16}


class World:
    """A script's world over an in-memory cluster database, recording what it does."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = InMemoryClusterDatabase()
        self.db.create_key(PARAMETERS)
        self.log: list[str] = []
        self.events: list[tuple[str, dict]] = []
        self.com = ComWorld(Sandbox(tmp_path), lambda what, data: self.events.append((what, data)))
        self.resource = ResourceObject(
            "r1", HKEY(self.db, PARAMETERS, None), self.log.append, lambda what, data: None
        )

    def world(self) -> ScriptWorld:
        return ScriptWorld(self.resource, self.com)

    def load(self, path: Path):
        engine = new_engine(path)
        answer = engine.load(self.world())
        assert answer.status == "ok", f"expected {path.name} to load; got {answer}"
        return engine


def write(tmp_path: Path, ext: str, text: str) -> Path:
    path = tmp_path / f"script.{ext}"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("ext", sorted(SCRIPTS))
def test_a_script_loads_runs_and_answers_as_gs13_reads_it(tmp_path: Path, ext: str) -> None:
    world = World(tmp_path)
    engine = world.load(write(tmp_path, ext, SCRIPTS[ext]))
    assert world.log == ["loaded r1"], "script-level code should run on load (GS-18)"
    answers = {name: engine.call(name) for name in ("Open", "Online", "Offline", "LooksAlive")}
    assert answers["Open"].status == "ok" and answers["Open"].kind == "none", (
        f"a function that sets no value should answer 'no value'; got {answers['Open']}"
    )
    assert (answers["Online"].kind, answers["Online"].value) == ("number", 0), (
        f"Online returns the number 0; got {answers['Online']}"
    )
    assert all(a.succeeded for a in answers.values()), (
        f"no value, 0 and true are success (GS-13); got {answers}"
    )
    is_alive = engine.call("IsAlive")
    assert (is_alive.kind, is_alive.succeeded) == ("boolean", False), (
        f"false is failure (GS-13); got {is_alive}"
    )
    assert engine.call("Terminate").status == "missing", "an undefined function is 'missing'"
    assert world.db.values(PARAMETERS) == {"Counter": (4, 7)}, (
        "AddProperty and Resource.Counter = 7 should store a DWORD in the resource's key"
    )


@pytest.mark.parametrize("ext", sorted(SCRIPTS))
def test_a_runtime_error_names_the_scripts_file_and_line(tmp_path: Path, ext: str) -> None:
    world = World(tmp_path)
    path = write(tmp_path, ext, SCRIPTS[ext])
    answer = world.load(path).call("Close")
    assert answer.status == "error" and not answer.succeeded, f"expected an error; got {answer}"
    assert answer.error is not None and answer.error.file == str(path), (
        f"the error should name the script's file; got {answer.error}"
    )
    assert answer.error.line == CLOSE_ERROR_LINE[ext], (
        f"the error should be on line {CLOSE_ERROR_LINE[ext]}; got {answer.error}"
    )


@pytest.mark.parametrize(
    "ext, text, where",
    [
        ("vbs", "Function LooksAlive(\n  x =\nEnd Function\n", ":1:"),
        ("js", "function LooksAlive() {\n  var = 3;\n}\n", ":2:"),
        ("py", "def LooksAlive():\n    return (1\n", ":2:"),
    ],
)
def test_a_syntax_error_names_file_line_and_column(
    tmp_path: Path, ext: str, text: str, where: str
) -> None:
    path = write(tmp_path, ext, text)
    with pytest.raises(TargetLoadError) as raised:
        parse(path)
    message = str(raised.value)
    assert message.startswith(f"{path}{where}") and "syntax error" in message, (
        f"expected '{path}{where}<column>: ... syntax error ...'; got {message!r}"
    )
    assert len(message.splitlines()) == 1, f"one line; got {message!r}"


@pytest.mark.parametrize(
    "ext, text",
    [
        ("vbs", "Function Online(a, b)\nEnd Function\nSub LooksAlive\nEnd Sub\n"),
        ("js", "function Online(a, b) {}\nfunction LooksAlive() {}\n"),
        ("py", "def Online(a, b):\n    pass\ndef LooksAlive():\n    pass\n"),
    ],
)
def test_parse_lists_functions_with_their_parameters(tmp_path: Path, ext: str, text: str) -> None:
    found = parse(write(tmp_path, ext, text))
    assert {n: (f.parameters, f.line) for n, f in found.items()} == {
        "Online": (2, 1),
        "LooksAlive": (0, 3 if ext != "js" else 2),
    }, f"expected Online with 2 parameters and LooksAlive with none; got {found}"


@pytest.mark.parametrize(
    "ext, text",
    [
        ("vbs", 'Function Online()\n  WScript.Echo "hi"\nEnd Function\n'),
        ("js", "function Online() {\n  WScript.Echo('hi');\n}\n"),
        ("py", "def Online():\n    WScript.Echo('hi')\n"),
    ],
)
def test_a_scripted_resource_has_no_wscript_object(tmp_path: Path, ext: str, text: str) -> None:
    """GS-39: no console, no WScript host; using it is a runtime error on its line."""
    world = World(tmp_path)
    answer = world.load(write(tmp_path, ext, text)).call("Online")
    assert answer.status == "error" and answer.error and answer.error.line == 2, (
        f"WScript.Echo should fail on line 2; got {answer}"
    )
    if ext == "vbs":
        assert "424" in answer.error.message, f"VBScript says 'Object required' (424): {answer}"


@pytest.mark.parametrize(
    "ext, text",
    [
        ("vbs", 'Function Online()\n  Set x = CreateObject("Outlook.Application")\nEnd Function\n'),
        ("js", 'function Online() {\n  var x = new ActiveXObject("Outlook.Application");\n}\n'),
        ("py", 'def Online():\n    x = CreateObject("Outlook.Application")\n'),
    ],
)
def test_an_unknown_progid_fails_with_429(tmp_path: Path, ext: str, text: str) -> None:
    world = World(tmp_path)
    answer = world.load(write(tmp_path, ext, text)).call("Online")
    assert answer.status == "error" and "can't create object" in answer.error.message, (
        f"an unknown ProgID fails as on a machine without it (429); got {answer}"
    )
    recorded = ("create-object", {"progid": "Outlook.Application", "line": 2, "stand_in": True})
    assert recorded in world.events, (
        f"the attempt should be recorded with its line, as the stand-in world's answer; got "
        f"{world.events}"
    )


@pytest.mark.parametrize(
    "ext, text",
    [
        (
            "vbs",
            "Function Online()\n  On Error Resume Next\n"
            '  Set s = GetObject("winmgmts:\\\\.\\root\\MSCluster")\nEnd Function\n',
        ),
        (
            "js",
            'function Online() {\n  try {\n    GetObject("winmgmts:\\\\\\\\.\\\\root\\\\MSCluster");'
            "\n  } catch (e) {}\n}\n",
        ),
        (
            "py",
            "def Online():\n    try:\n"
            '        GetObject("winmgmts:\\\\\\\\.\\\\root\\\\MSCluster")\n    except Exception:\n'
            "        pass\n",
        ),
    ],
)
def test_the_cluster_wmi_namespace_is_recorded_with_its_line(
    tmp_path: Path, ext: str, text: str
) -> None:
    world = World(tmp_path)
    world.load(write(tmp_path, ext, text)).call("Online")
    uses = [data for what, data in world.events if what == "cluster-api"]
    assert uses and uses[0]["line"] == 3, f"expected a GS-38 record on line 3; got {world.events}"


@pytest.mark.parametrize(
    "ext, text",
    [
        (
            "vbs",
            'Function Online()\n  Set f = CreateObject("Scripting.FileSystemObject")\n'
            '  f.CreateFolder "C:\\data"\n'
            '  Set t = f.CreateTextFile("C:\\data\\x.txt", True)\n  t.WriteLine "hello"\n'
            '  t.Close\n  Online = f.FileExists("C:\\data\\x.txt")\nEnd Function\n',
        ),
        (
            "js",
            'function Online() {\n  var f = new ActiveXObject("Scripting.FileSystemObject");\n'
            '  f.CreateFolder("C:\\\\data");\n'
            '  var t = f.CreateTextFile("C:\\\\data\\\\x.txt", true);\n  t.WriteLine("hello");\n'
            '  t.Close();\n  return f.FileExists("C:\\\\data\\\\x.txt");\n}\n',
        ),
        (
            "py",
            'def Online():\n    f = CreateObject("Scripting.FileSystemObject")\n'
            '    f.CreateFolder("C:\\\\data")\n'
            '    t = f.CreateTextFile("C:\\\\data\\\\x.txt", True)\n    t.WriteLine("hello")\n'
            '    t.Close()\n    return f.FileExists("C:\\\\data\\\\x.txt")\n',
        ),
    ],
)
def test_the_file_system_object_works_on_real_files_in_the_sandbox(
    tmp_path: Path, ext: str, text: str
) -> None:
    world = World(tmp_path / "box")
    (tmp_path / "box").mkdir()
    answer = world.load(write(tmp_path, ext, text)).call("Online")
    assert (answer.kind, answer.value) == ("boolean", True), f"FileExists should be true: {answer}"
    written = tmp_path / "box" / "C" / "data" / "x.txt"
    assert written.read_bytes() == b"hello\r\n", (
        f"C:\\data\\x.txt should land in the sandbox as {written}"
    )


def test_the_sandbox_refuses_paths_outside_it(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    for outside in ("/etc/passwd", "C:\\..\\..\\..\\..\\etc\\passwd", "\\\\..\\..\\etc"):
        with pytest.raises(Exception, match="outside the script's sandbox"):
            box.path(outside)
    assert box.path("D:\\x\\y") == tmp_path / "D" / "x" / "y", "a drive maps into the sandbox"


@pytest.mark.parametrize(
    "ext, text",
    [
        (
            "vbs",
            "Function Online()\n  On Error Resume Next\n  Do While True\n"
            "    x = x + 1\n  Loop\nEnd Function\n",
        ),
        (
            "py",
            "def Online():\n    while True:\n        try:\n            pass\n"
            "        except Exception:\n            pass\n",
        ),
    ],
)
def test_an_interrupt_stops_a_spinning_script_that_swallows_errors(
    tmp_path: Path, ext: str, text: str
) -> None:
    """The interrupt is a BaseException: On Error Resume Next and except Exception cannot
    swallow it, and the engine stays usable."""
    world = World(tmp_path)
    engine = world.load(
        write(
            tmp_path,
            ext,
            text
            + (
                "Function LooksAlive()\n  LooksAlive = True\nEnd Function\n"
                if ext == "vbs"
                else "def LooksAlive():\n    return True\n"
            ),
        )
    )
    answers = []
    thread = threading.Thread(target=lambda: answers.append(engine.call("Online")))
    thread.start()
    time.sleep(0.2)
    engine.interrupt()
    thread.join(5)
    assert not thread.is_alive() and answers[0].status == "interrupted", (
        f"the spinning call should end as 'interrupted'; got {answers}"
    )
    assert engine.call("LooksAlive").succeeded, "the engine should still answer afterwards"


def test_properties_survive_an_unload(tmp_path: Path) -> None:
    world = World(tmp_path)
    path = write(tmp_path, "vbs", SCRIPTS["vbs"])
    engine = world.load(path)
    engine.call("Open")
    engine.call("Online")
    engine.unload()
    reader = write(tmp_path, "py", "def Online():\n    return Resource.Counter\n")
    answer = world.load(reader).call("Online")
    assert (answer.kind, answer.value) == ("number", 7), (
        f"Resource.Counter set before the unload should read 7 in a new load; got {answer}"
    )


def test_commands_run_only_where_the_companion_says_so(tmp_path: Path) -> None:
    world = World(tmp_path)

    def commands(command: str) -> int | tuple[int, str] | str:
        if command == "drbdadm role r0":
            return 0, "Primary\n"
        return RUN if command.startswith("echo ") else 3

    world.com = ComWorld(Sandbox(tmp_path), world.com._observe, commands)
    text = (
        'Function Online()\n  Set sh = CreateObject("WScript.Shell")\n'
        '  Set ex = sh.Exec("echo hello")\n  out = ex.StdOut.ReadAll\n'
        '  Online = sh.Run("net share data=C:\\data", 0, True) * 100 + Len(out)\nEnd Function\n'
    )
    answer = world.load(write(tmp_path, "vbs", text)).call("Online")
    assert answer.value == 306, (
        f"Run answers the companion's 3 without running; Exec of echo runs for real and prints "
        f"'hello\\n' (6 characters): expected 306, got {answer}"
    )
    ran = [(d["command"], d["ran"], d["exit_code"]) for w, d in world.events if w == "command"]
    assert ran == [("echo hello", True, 0), ("net share data=C:\\data", False, 3)], ran
    role = 'def Online():\n    return CreateObject("WScript.Shell").Exec("drbdadm role r0").StdOut.ReadAll()\n'
    answer = world.load(write(tmp_path, "py", role)).call("Online")
    assert answer.value == "Primary\n", f"Exec prints what the companion says: {answer}"


def test_the_companion_supplies_stand_ins_for_unknown_objects(tmp_path: Path) -> None:
    class Mailer:
        def __init__(self) -> None:
            self.sent: list[str] = []

        def Send(self, to: str) -> int:
            self.sent.append(to)
            return 1

    mailer = Mailer()
    world = World(tmp_path)
    world.com = ComWorld(
        Sandbox(tmp_path), world.com._observe, objects={"CDO.Message": lambda: mailer}
    )
    text = 'def Online():\n    return CreateObject("cdo.message").Send("ops") - 1\n'
    answer = world.load(write(tmp_path, "py", text)).call("Online")
    assert answer.value == 0 and mailer.sent == ["ops"], (
        f"the companion's stand-in (ProgIDs match without regard to case) is what the script "
        f"gets; got {answer}, sent {mailer.sent}"
    )


def test_a_variable_called_response_is_a_variable(tmp_path: Path) -> None:
    """asppy reads a statement starting with Response as ASP's object; a scripted resource
    has none (Microsoft's Clusftp7.vbs names a variable so)."""
    text = "Function Online()\n  response = 41\n  Online = response + 1 ' response\nEnd Function\n"
    answer = World(tmp_path).load(write(tmp_path, "vbs", text)).call("Online")
    assert (answer.status, answer.value) == ("ok", 42), f"expected 42; got {answer}"


@pytest.mark.parametrize(
    "ext, text",
    [
        ("vbs", 'Function Online()\n  On Error Resume Next\n  WScript.Echo "hi"\nEnd Function\n'),
        ("js", "function Online() {\n  try {\n    WScript.Echo('hi');\n  } catch (e) {}\n}\n"),
        (
            "py",
            "def Online():\n    try:\n        WScript.Echo('hi')\n    except Exception:\n        pass\n",
        ),
    ],
)
def test_a_swallowed_console_write_is_still_recorded(tmp_path: Path, ext: str, text: str) -> None:
    world = World(tmp_path)
    answer = world.load(write(tmp_path, ext, text)).call("Online")
    assert answer.status == "ok", f"the error handler swallowed the error: {answer}"
    uses = [d for w, d in world.events if w == "console"]
    assert uses and uses[0]["member"].lower() == "wscript.echo" and uses[0]["line"] == 3, (
        f"the console write should be recorded with its line; got {world.events}"
    )


def test_windows_paths_of_posix_names_and_missing_folders(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box")
    fso = FileSystemObject(box)
    joined = fso.BuildPath(str(tmp_path), "flag.txt")
    assert joined == f"{tmp_path}/flag.txt", f"a POSIX base joins with '/': {joined}"
    assert box.path(f"{tmp_path}\\sub\\flag.txt") == tmp_path / "sub" / "flag.txt", (
        "backslashes in a POSIX path are separators, as the script meant"
    )
    fso.CreateTextFile("C:\\ClusterScripts\\x.txt").Close()
    assert (tmp_path / "box" / "C" / "ClusterScripts" / "x.txt").is_file(), (
        "the folders a script writes into exist, as on the machine it was written for"
    )
    with pytest.raises(ComError) as raised:
        fso.CreateFolder("C:\\nodir\\deeper")
    assert raised.value.number == 76, "CreateFolder of a missing parent is 'Path not found'"


REGEXP_SCRIPT = """
Function Open()
    Dim re, found
    Set re = New RegExp
    re.Pattern = "^(\\d+)\\s+RUNNING"
    re.IgnoreCase = True
    Resource.LogInformation CStr(re.Test("12 running"))
    Set found = re.Execute("12 running")
    Resource.LogInformation found(0).SubMatches(0) & " at " & found.Item(0).FirstIndex
    Set again = CreateObject("VBScript.RegExp")
    again.Global = True
    again.Pattern = "\\d"
    Resource.LogInformation again.Replace("a1b2", "x") & " " & again.Execute("a1b2").Count
    again.Pattern = "("
    On Error Resume Next
    again.Test "x"
    Resource.LogInformation CStr(Err.Number)
End Function
"""


def test_vbscripts_regexp_is_the_languages_own_not_a_missing_object(tmp_path: Path) -> None:
    """``New RegExp`` and CreateObject("VBScript.RegExp") come with VBScript itself: no
    machine lacks them, so they never reach the stand-ins (a missing object would be error
    429, a false runtime error). A bad pattern is VBScript's error 5017."""
    world = World(tmp_path)
    engine = world.load(write(tmp_path, "vbs", REGEXP_SCRIPT))
    answer = engine.call("Open")
    assert answer.status == "ok", answer
    assert world.log == ["True", "12 at 0", "axbx 2", "5017"], world.log
    assert not [e for e in world.events if e[0] == "create-object"], world.events
