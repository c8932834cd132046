"""The traceback of an exception that left the target: the target's frames only, bounded,
and where it was raised, as every output shows it (issue 19)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.monitor.host import CallJob
from conformance.runtime.tracebacks import FRAME_LIMIT, HEADER, is_traceback, raised_at

DLL = """
import threading

def Terminate(ResourceId):
    worker = threading.Thread(target=print)
    worker.join()  # never started: RuntimeError from the standard library

def deep(n):
    return deep(n - 1) if n else 1 / 0
"""


def _dll(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "my_dll.py"
    path.write_text(DLL)
    namespace: dict[str, Any] = {"__name__": "my_dll"}
    exec(compile(DLL, str(path), "exec"), namespace)
    return namespace


def _raised(fn: Any, *args: Any) -> str:
    job = CallJob(fn, args, "Terminate", None, None)
    job.run()
    assert job.outcome.error, "the call should have raised"
    return job.outcome.error_traceback or ""


def test_only_the_targets_frames_with_file_line_function_and_code(tmp_path: Path) -> None:
    text = _raised(_dll(tmp_path)["Terminate"], object())
    lines = text.splitlines()
    assert lines[0] == HEADER
    assert f'File "{tmp_path / "my_dll.py"}", line 6, in Terminate' in lines[1]
    assert (
        lines[2].strip() == "worker.join()  # never started: RuntimeError from the standard library"
    )
    assert lines[-1].startswith("RuntimeError: cannot join thread before it is started")
    assert "conformance" not in text and "threading.py" not in text, text
    assert raised_at(text) == "my_dll.py:6 in Terminate"


def test_a_deep_stack_keeps_the_innermost_frames(tmp_path: Path) -> None:
    text = _raised(_dll(tmp_path)["deep"], 40)
    frames = [line for line in text.splitlines() if line.startswith("  File ")]
    assert len(frames) == FRAME_LIMIT
    assert f"... {41 - FRAME_LIMIT} earlier frames" in text
    assert text.splitlines()[-1] == "ZeroDivisionError: division by zero"
    assert raised_at(text) == "my_dll.py:9 in deep"


def test_text_a_host_made_up_gives_no_place() -> None:
    assert raised_at("") is None
    assert raised_at('  File "x.py", line many, in f\n' + "A" * 10_000) is None


def test_the_exception_keeps_its_notes_and_a_quoted_traceback_is_no_place(
    tmp_path: Path,
) -> None:
    dll = tmp_path / "noted.py"
    source = (
        "def Online(ResourceId):\n"
        "    error = RuntimeError('helper failed:\\n  File \"helper.py\", line 9, in main')\n"
        "    error.add_note('while starting the share')\n"
        "    raise error\n"
    )
    dll.write_text(source)
    namespace: dict[str, Any] = {"__name__": "noted"}
    exec(compile(source, str(dll), "exec"), namespace)
    text = _raised(namespace["Online"], object())
    assert text.splitlines()[-1] == "while starting the share", text
    assert "RuntimeError: helper failed:" in text
    assert raised_at(text) == "noted.py:4 in Online", "the place is the frame, not the message"


def test_a_host_that_crashed_left_output_not_a_traceback() -> None:
    output = 'Traceback (most recent call last):\n  File "x.py", line 3, in f\nBoom'
    assert not is_traceback(output) and raised_at(output) is None
