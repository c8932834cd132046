"""``junit.xml``: one testsuite per run, one testcase per check, for CI dashboards.

Every failed check is a ``<failure>``, whatever its level, because CI tools know no other way
to show it; the message starts with the level in brackets (``[required] …``,
``[recommended] …``, ``[optional] …``) so a reader can tell a warning from a fatal failure.
The verdict itself is a suite property. The failure body holds the rule's statement, its
documentation page, the policy chosen where the docs conflict, the CONTRACT ids and the trace
excerpt that broke the rule.
"""

from __future__ import annotations

import re
from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from conformance.report.model import ERROR, FAILED, SKIPPED, CheckResult, RunResult

# Characters XML 1.0 cannot carry, even as references (NUL, most C0 controls, surrogates,
# U+FFFE/U+FFFF). A target's log may hold any of them; they are shown escaped, not dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _property(value: str | int | float | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _body(check: CheckResult) -> str:
    lines = [
        f"Statement: {check.statement}",
        f"Documentation: {check.doc} {check.doc_url}".rstrip(),
    ]
    if check.policy:
        lines.append(f"Policy: {check.policy}")
    lines.append(f"Contract: {', '.join(check.contract)}")
    if check.artifacts:
        lines.append(f"Files beside this report: {', '.join(check.artifacts)}")
    if check.evidence:
        lines += ["Evidence:", *check.evidence]
    return "\n".join(lines)


def _case(check: CheckResult, resource_type: str) -> TestCase:
    group = check.id.split(".", 1)[0]
    case = TestCase(
        name=_xml_text(check.id),
        classname=_xml_text(f"rescheck.{resource_type}.{group}"),
        elapsed_sec=check.duration,
    )
    message = _xml_text(f"[{check.level}] {check.message}")
    if check.outcome == FAILED:
        case.add_failure_info(message=message, output=_xml_text(_body(check)))
    elif check.outcome == ERROR:
        case.add_error_info(message=message, output=_xml_text(_body(check)))
    elif check.outcome == SKIPPED:
        case.add_skipped_info(message=_xml_text(check.message))
    return case


def write_junit(run: RunResult, path: Path) -> None:
    """Write ``run`` as JUnit XML (UTF-8) to ``path``."""
    properties = {
        "target": run.target,
        "resource_type": run.resource_type,
        "verdict": run.verdict,
        "strict": run.strict,
        "complete": run.complete,
    }
    for key, value in run.info.items():
        if isinstance(value, (str, int, float, bool)) and key not in properties:
            properties[key] = value
    cases = [_case(check, run.resource_type) for check in run.checks]
    for error in run.errors:  # the run's own, under no rule
        case = TestCase(name="run", classname=_xml_text(f"rescheck.{run.resource_type}"))
        case.add_error_info(message=_xml_text(error))
        cases.append(case)
    suite = TestSuite(
        name=_xml_text(f"rescheck.{run.resource_type}"),
        test_cases=cases,
        properties={_xml_text(k): _xml_text(_property(v)) for k, v in properties.items()},
    )
    path.write_text(to_xml_report_string([suite], prettyprint=False), encoding="utf-8")
