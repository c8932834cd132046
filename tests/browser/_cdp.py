"""A headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

``--dump-dom`` and ``--screenshot`` cannot type into a search box or measure where an element
is; the protocol can, and its pipe needs nothing but the standard library: Chromium reads
commands on fd 3 and writes answers and events on fd 4, each a JSON text ended by a NUL.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

#: The window every report is looked at in (the issue's "done when").
WIDTH, HEIGHT = 1400, 900

#: Runs argv[3:] with the pipe ends argv[1] and argv[2] as fds 3 and 4 (a shell's
#: redirections take one digit only; a preexec_fn would run in a forked threaded process).
_ON_FDS_3_AND_4 = """
import os, sys
given = int(sys.argv[1]), int(sys.argv[2])
copies = [os.dup(fd) for fd in given]
os.dup2(copies[0], 3)
os.dup2(copies[1], 4)
os.set_inheritable(3, True)  # dup2 onto itself keeps a dup's close-on-exec
os.set_inheritable(4, True)
for fd in {*given, *copies} - {3, 4}:
    os.close(fd)
os.execv(sys.argv[3], sys.argv[3:])
"""


class ProtocolError(RuntimeError):
    """Chromium answered a command with an error, or not at all."""


class Chromium:
    """One headless browser with one page of WIDTH x HEIGHT; ``with`` ends it."""

    def __init__(self, executable: str, profile: Path, timeout: float = 30.0) -> None:
        self.timeout = timeout
        commands_in, self._commands = os.pipe()  # we write, chromium reads on fd 3
        self._answers, answers_out = os.pipe()  # chromium writes on fd 4, we read
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _ON_FDS_3_AND_4,
                str(commands_in),
                str(answers_out),
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--hide-scrollbars",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
                f"--window-size={WIDTH},{HEIGHT}",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            pass_fds=(commands_in, answers_out),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(commands_in)
        os.close(answers_out)
        self._next = 0
        self._answered: dict[int, dict[str, Any]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []  # every event, for the assertions
        self._lock = threading.Condition()
        threading.Thread(target=self._read, name="cdp-reader", daemon=True).start()
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        attached = self.send("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        self.page("Page.enable")
        self.page("Runtime.enable")
        self.page(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _read(self) -> None:
        pending = b""
        with os.fdopen(self._answers, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                pending += chunk
                *messages, pending = pending.split(b"\0")
                for raw in messages:
                    message = json.loads(raw)
                    with self._lock:
                        if "id" in message:
                            self._answered[message["id"]] = message
                        else:
                            self.seen.append(message)
                            self._events.put(message)
                        self._lock.notify_all()

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Run one protocol command and return its result."""
        with self._lock:
            self._next += 1
            ident = self._next
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        with self._lock:
            while ident not in self._answered:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise ProtocolError(f"no answer to {method} (chromium {self.process.poll()})")
                self._lock.wait(min(left, 0.5))
            answer = self._answered.pop(ident)
        if "error" in answer:
            raise ProtocolError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def page(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the page's session."""
        return self.send(method, self.session, **params)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The next event called ``method`` of the page."""
        deadline = time.monotonic() + self.timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self._events.get(timeout=left)
            except queue.Empty:
                break
            if event.get("method") == method:
                return event
        raise ProtocolError(f"no {method} event within {self.timeout} s")

    def open(self, page: Path, before_load: str | None = None) -> None:
        """Load ``page`` (a file:// URL, as a reader opens it), ``before_load`` run first."""
        if before_load:
            self.page("Page.addScriptToEvaluateOnNewDocument", source=before_load)
        while not self._events.empty():
            self._events.get_nowait()
        self.page("Page.navigate", url=page.as_uri())
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        answer = self.page("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise ProtocolError(f"{expression!r} raised {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def until(self, expression: str, timeout: float = 5.0) -> Any:
        """The first truthy value of ``expression``, asked again until ``timeout``."""
        deadline = time.monotonic() + timeout
        while not (value := self.js(expression)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return value

    def type(self, selector: str, text: str) -> None:
        """Focus ``selector`` and type ``text`` as a keyboard would (input events included)."""
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.page("Input.insertText", text=text)

    def key(self, name: str, code: int) -> None:
        """Press and release one key (``"Escape", 27``) where the focus is."""
        for kind in ("keyDown", "keyUp"):
            self.page(
                "Input.dispatchKeyEvent",
                type=kind,
                key=name,
                code=name,
                windowsVirtualKeyCode=code,
            )

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of ``selector`` (scrolled into view first)."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.page(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    def screenshot(self, path: Path) -> Path:
        """The viewport as a PNG file."""
        shot = self.page("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        with contextlib.suppress(ProtocolError, OSError):  # it may be gone already
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
