"""Report writers: ``results.json``, ``junit.xml`` and ``report.html`` from one run."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.report.html import write_html
from conformance.report.junit import write_junit
from conformance.report.model import RunResult


def write_reports(run: RunResult, directory: Path) -> dict[str, Path]:
    """Write the three reports into ``directory`` and return their paths by kind."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": directory / "results.json",
        "junit": directory / "junit.xml",
        "html": directory / "report.html",
    }
    paths["json"].write_text(json.dumps(run.to_json(), indent=2, default=str), encoding="utf-8")
    write_junit(run, paths["junit"])
    write_html(run, paths["html"])
    return paths
