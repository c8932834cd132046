"""A type that defines no private properties answers the type's ENUM and GET with empty lists
("Required. Always support") and TYPE_GET_PRIVATE_PROPERTY_FMTS with ERROR_INVALID_FUNCTION,
as its page says: "Required if you define private properties for your resource type.
Otherwise return ERROR_INVALID_FUNCTION" (CC-41). A blind test's correct C DLL was failed on
ResourceTypeControl.private-properties for exactly that: this holds the fix."""

from __future__ import annotations

from pathlib import Path

import conformance
from tests.e2e.support import GOOD_DLL

TYPE_CONTROL = """
def ResourceTypeControl(ResourceTypeName, ControlCode, InBuffer, OutBuffer):
    answers = {0x02000079: b"\\0\\0", 0x02000081: b"\\0" * 8}  # ENUM: no names; GET: none
    if ControlCode not in answers:
        return ERROR_INVALID_FUNCTION, 0
    data = answers[ControlCode]
    if OutBuffer is None or len(OutBuffer) < len(data):
        return 234, len(data)  # ERROR_MORE_DATA
    OutBuffer[: len(data)] = data
    return ERROR_SUCCESS, len(data)
"""


def test_a_type_without_private_properties_may_refuse_their_formats(tmp_path: Path) -> None:
    source = GOOD_DLL.split("def ResourceTypeControl")[0] + TYPE_CONTROL
    dll = tmp_path / "no_type_properties.py"
    dll.write_text(source, "utf-8")
    result = conformance.check_resource_type(
        str(dll), select=["ResourceTypeControl.private-properties"]
    )
    [check] = result.checks
    assert check.outcome == "passed", f"a correct answer was failed: {check.message}"
