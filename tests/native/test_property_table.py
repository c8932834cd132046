"""rescheck's resutils.dll answers the private-property control codes of a compiled DLL as the
Windows SDK's ResUtil property-table functions do (issue 17): ``property_store.c`` (the C
reference DLL whose control codes are those functions) gets property lists conformance's own
parser reads, ERROR_MORE_DATA with the size needed, refusals of wrong formats, ranges and
malformed lists that leave the database alone, and SETs written through ClusterRegSetValue;
and ``rescheck run`` judges it compliant on the private-property rules."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from conformance.proplist import (
    Property,
    Value,
    build_property_list,
    build_value,
    parse_multi_sz,
    parse_property_list,
)
from conformance.protocol import messages
from conformance.resapi import (
    CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS,
    CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
    CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
    CLUSPROP_FORMAT_DWORD,
    CLUSPROP_FORMAT_EXPAND_SZ,
    CLUSPROP_FORMAT_EXPANDED_SZ,
    CLUSPROP_FORMAT_SZ,
    CLUSPROP_SYNTAX_LIST_VALUE_SZ,
    CLUSPROP_SYNTAX_NAME,
    ERROR_INVALID_DATA,
    ERROR_INVALID_PARAMETER,
    ERROR_MORE_DATA,
    ERROR_SUCCESS,
    REG_DWORD,
    REG_MULTI_SZ,
    REG_SZ,
    RESOURCE_HANDLE,
)
from tests.hostkit.driver import KitHost
from tests.native import requires_native

pytestmark = requires_native

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "reference_impls" / "native" / "property_store.c"
PARAMETERS = "Resources\\res-1\\Parameters"
FILL = 0xA5
RULES = (
    "ResourceControl.private-properties",
    "ResourceControl.set-private-properties",
    "ResourceControl.malformed-input",
    "ResourceControl.well-formed-output",
    "ResourceControl.more-data",
    "ResourceControl.declares-read-properties",
    "Online.reads-properties",
)


@pytest.fixture(scope="module")
def dll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conformance.native.build import build_dll

    out = tmp_path_factory.mktemp("property_store") / "property_store.dll"
    return build_dll([SOURCE], out, libraries=["resutils", "clusapi"])


class Store:
    """One opened instance of the DLL in a native host, its control codes at hand."""

    def __init__(self, host: KitHost, resid: Any) -> None:
        self.host, self.resid = host, resid

    def control(self, code: int, data: bytes | None = None, size: int = 4096) -> tuple[int, Any]:
        """The status and the bytes the DLL said it returned; on ERROR_MORE_DATA the size it
        asked for and all of OutBuffer."""
        answer = self.host.call("ResourceControl", self.resid, code, data, bytearray([FILL]) * size)
        assert isinstance(answer, messages.Answer), answer
        status, returned = answer.outcome["value"]
        [(_, content)] = answer.buffers or [(3, b"")]
        return status, content[:returned] if status == ERROR_SUCCESS else (returned, content)


@pytest.fixture
def store(dll: Path) -> Any:
    from conformance.native.launch import native_launch

    host = KitHost(native_launch(dll))
    try:
        host.load()
        host.startup()
        host.db.set_value(PARAMETERS, "Greeting", REG_SZ, "hi")
        host.db.set_value(PARAMETERS, "Extra", REG_MULTI_SZ, ["a", "bc"])
        key = host.hkey("Resources\\res-1")
        opened = host.call("Open", "res-1", key, RESOURCE_HANDLE(3), resource="res-1")
        assert isinstance(opened, messages.Answer), opened
        yield Store(host, opened.outcome["value"])
    finally:
        host.close()


def test_get_enum_and_formats_are_well_formed_property_lists(store: Store) -> None:
    status, data = store.control(CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES)
    assert status == ERROR_SUCCESS, status
    props = {p.name: p for p in parse_property_list(data)}
    assert props["Greeting"].value == "hi"  # stored
    assert props["Interval"].values == (Value(0x10002, 5),)  # the item's Default
    home = [(v.format, v.data) for v in props["Home"].values]
    assert home[0] == (CLUSPROP_FORMAT_EXPAND_SZ, "%SystemRoot%"), home  # and its expansion
    assert home[1][0] == CLUSPROP_FORMAT_EXPANDED_SZ and "%" not in home[1][1], home
    assert props["Extra"].value == ["a", "bc"]  # an unknown property: stored, not in the table
    status, data = store.control(CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES)
    assert (status, parse_multi_sz(data)) == (ERROR_SUCCESS, ["Greeting", "Interval", "Home"])
    status, data = store.control(CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS)
    formats = {p.name: p.value for p in parse_property_list(data)}
    assert formats == {
        "Greeting": CLUSPROP_FORMAT_SZ,
        "Interval": CLUSPROP_FORMAT_DWORD,
        "Home": CLUSPROP_FORMAT_EXPAND_SZ,
    }, formats
    status, data = store.control(CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES)
    assert (status, data) == (ERROR_SUCCESS, struct.pack("<I", 0))  # no read-only ones


@pytest.mark.parametrize(
    "code",
    [CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES,
     CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS],
)  # fmt: skip
def test_a_small_buffer_is_more_data_with_the_size_needed(store: Store, code: int) -> None:
    _, whole = store.control(code)
    for size in (0, 3, len(whole) - 1):
        status, (required, content) = store.control(code, size=size)
        assert (status, required) == (ERROR_MORE_DATA, len(whole)), (size, status, required)
        assert len(content) == size, content  # within its size (the host's canary is after it)


def test_set_writes_through_the_cluster_api_and_validate_writes_nothing(store: Store) -> None:
    change = build_property_list([Property.of("Interval", 60), Property.of("Greeting", "yo")])
    assert store.control(CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES, change)[0] == 0
    assert store.host.db.get_value(PARAMETERS, "Interval") is None
    assert store.control(CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, change)[0] == ERROR_SUCCESS
    assert store.host.db.get_value(PARAMETERS, "Interval") == (REG_DWORD, 60)
    assert store.host.db.get_value(PARAMETERS, "Greeting") == (REG_SZ, "yo")
    writes = [c.args for c in store.host.callbacks("ClusterDatabaseAccess") if c.args["write"]]
    assert {w["name"] for w in writes} == {"Interval", "Greeting"}, writes
    notes = {n.args["function"] for n in store.host.callbacks("ResUtil")}
    assert {"ResUtilVerifyPropertyTable", "ResUtilSetPropertyTable"} <= notes, notes


@pytest.mark.parametrize(
    ("what", "sent", "status"),
    [
        ("out of Minimum..Maximum", [Property.of("Interval", 0)], ERROR_INVALID_PARAMETER),
        ("an SZ for a DWORD", [Property("Interval", (Value(CLUSPROP_SYNTAX_LIST_VALUE_SZ, "x"),))],
         ERROR_INVALID_PARAMETER),
        ("a DWORD for an SZ", [Property.of("Greeting", 7)], ERROR_INVALID_PARAMETER),
        ("a property not in the table", [Property.of("Nope", 1)], ERROR_INVALID_PARAMETER),
        ("a valid one with a wrong one",
         [Property.of("Interval", 9), Property.of("Greeting", 7)], ERROR_INVALID_PARAMETER),
        ("a count past the data", struct.pack("<I", 1000), ERROR_INVALID_DATA),
        ("a cut list", build_property_list([Property.of("Interval", 9)])[:-6], ERROR_INVALID_DATA),
        ("a DWORD of 2 bytes",
         struct.pack("<I", 1) + build_value(Value(CLUSPROP_SYNTAX_NAME, "Interval"))
         + struct.pack("<IIHHI", 0x10002, 2, 1, 0, 0), ERROR_INVALID_DATA),
        ("no list", None, ERROR_INVALID_DATA),
    ],
)  # fmt: skip
def test_refused_lists_change_nothing(
    store: Store, what: str, sent: list[Property] | bytes | None, status: int
) -> None:
    data = build_property_list(sent) if isinstance(sent, list) else sent
    before = store.host.db.values(PARAMETERS)
    for code in (
        CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES,
        CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES,
    ):
        assert store.control(code, data)[0] == status, what
    assert store.host.db.values(PARAMETERS) == before, what


def test_rescheck_run_judges_the_dll_compliant_on_the_private_property_rules(dll: Path) -> None:
    import conformance

    result = conformance.check_resource_type(str(dll), type_name="Property Store")
    bad = [f"{c.id}: {c.message}" for c in result.checks if c.outcome in ("failed", "error")]
    assert result.verdict == "compliant", bad
    outcomes = {c.id: c for c in result.checks}
    not_passed = {r: outcomes[r].message for r in RULES if outcomes[r].outcome != "passed"}
    assert not not_passed, not_passed
