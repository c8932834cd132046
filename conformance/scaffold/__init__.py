"""``rescheck new``: a compliant, commented starting point for a new resource type.

A resource author's first hour should end with a green ``rescheck run`` and the places to
put their own logic marked, not with a blank file and the contract to read. The files come
from templates shipped as package data (``templates/``), so the command works from an
installed rescheck as well as from a checkout; each template passes ``rescheck run`` as
written (``tests/e2e/test_new.py``).
"""

from __future__ import annotations

import keyword
import re
import shlex
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from conformance.errors import UsageError

KINDS = ("dll", "script")
LANGUAGES = ("python", "vbscript", "jscript")
#: The language a kind gets when --language is not given.
DEFAULT_LANGUAGE = {"dll": "python", "script": "vbscript"}
_SCRIPT_SUFFIX = {"vbscript": ".vbs", "jscript": ".js", "python": ".py"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Module names a NAME.py beside the target would hide: the target's folder comes first on
#: its host's sys.path.
_TAKEN = frozenset(sys.stdlib_module_names) | {"conformance"}


@dataclass(frozen=True)
class Scaffold:
    """What `create` wrote, and the command that checks it."""

    files: tuple[Path, ...]
    command: str


def type_name(name: str) -> str:
    """The ResourceType name a DLL called ``name`` answers to: ``my_disk`` is "My Disk"."""
    words = [word[:1].upper() + word[1:] for word in name.split("_") if word]
    return " ".join(words) or name


def check_name(name: str, writes_python: bool) -> None:
    """Refuse a NAME the files cannot carry, saying what to change, with an example."""
    if not _NAME.fullmatch(name):
        example = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "my_resource"
        if example[0].isdigit():
            example = f"my_{example}"
        raise UsageError(
            f"NAME {name!r} is not a Python identifier (it names the module "
            f"{name}_companion.py): use ASCII letters, digits and underscores, not starting "
            f"with a digit, for example {example}"
        )
    if keyword.iskeyword(name):
        raise UsageError(
            f"NAME {name!r} is a Python keyword; choose another, for example my_{name}"
        )
    if writes_python and name in _TAKEN:
        raise UsageError(
            f"NAME {name!r} is taken by a module rescheck or Python needs, which {name}.py "
            f"would hide from the target's host; choose another, for example my_{name}"
        )


def plan(name: str, kind: str, language: str | None) -> dict[str, str]:
    """File name -> template name, for the files ``rescheck new`` writes."""
    language = language or DEFAULT_LANGUAGE[kind]
    if kind == "dll":
        if language != "python":
            raise UsageError(
                f"a resource DLL is written in Python here (--language python); for a "
                f"{language} Generic Script control script give --kind script"
            )
        return {f"{name}.py": "dll.py.tmpl", f"{name}_companion.py": "dll_companion.py.tmpl"}
    suffix = _SCRIPT_SUFFIX[language]
    return {
        f"{name}{suffix}": f"script{suffix}.tmpl",
        f"{name}_companion.py": "script_companion.py.tmpl",
    }


def render(template: str, name: str, script: str) -> str:
    """The template's text with the type's names filled in."""
    text = (resources.files(__name__) / "templates" / template).read_text("utf-8")
    for field, value in (("name", name), ("type_name", type_name(name)), ("script", script)):
        text = text.replace("{{" + field + "}}", value)
    return text


def create(
    name: str, kind: str = "dll", language: str | None = None, directory: str = "."
) -> Scaffold:
    """Write the files for a new resource type into ``directory`` (created if missing).

    Nothing is written when any of the files exists already, so an author's work is never
    overwritten.
    """
    files = plan(name, kind, language)
    check_name(name, writes_python=f"{name}.py" in files)
    target_file = next(iter(files))
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--dir {directory} is a file, not a directory")
    existing = [folder / file for file in files if (folder / file).exists()]
    if existing:
        raise UsageError(
            f"{existing[0]} already exists; rescheck new never overwrites: choose another NAME "
            "or --dir, or move it away"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for file, template in files.items():
            with open(folder / file, "x", encoding="utf-8") as out:  # "x": never overwrite
                out.write(render(template, name, target_file))
            written.append(folder / file)
    except OSError as exc:
        raise UsageError(f"cannot write into {directory}: {exc.strerror or exc}") from None
    shown = str(folder / target_file) if directory != "." else target_file
    return Scaffold(tuple(written), f"rescheck run --resource-type {shlex.quote(shown)}")


def main(name: str, kind: str, language: str | None, directory: str) -> int:
    """``rescheck new``: write the files, say what was written and what to run next."""
    made = create(name, kind, language, directory)
    for path in made.files:
        print(f"wrote {path}")
    print(f"next: {made.command}")
    print("then put your own logic where the TODO comments are, and run it again")
    return 0
