"""Property tables and the ResUtil functions that answer the private-property codes with them."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.clusapi import HKEY, InMemoryClusterDatabase
from conformance.proplist import (
    Property,
    Value,
    build_property_list,
    parse_multi_sz,
    parse_property_list,
)
from conformance.resapi import (
    CLUSPROP_FORMAT_DWORD,
    CLUSPROP_FORMAT_EXPAND_SZ,
    CLUSPROP_FORMAT_EXPANDED_SZ,
    CLUSPROP_FORMAT_SZ,
    CLUSPROP_SYNTAX_LIST_VALUE_EXPAND_SZ,
    CLUSPROP_SYNTAX_LIST_VALUE_SZ,
    ERROR_INVALID_DATA,
    ERROR_INVALID_PARAMETER,
    ERROR_MORE_DATA,
    ERROR_SUCCESS,
    REG_DWORD,
    REG_SZ,
    RESUTIL_PROPITEM_READ_ONLY,
    RESUTIL_PROPITEM_REQUIRED,
)
from conformance.resutils import (
    RESUTIL_PROPERTY_ITEM,
    ResUtilEnumProperties,
    ResUtilGetAllProperties,
    ResUtilGetProperties,
    ResUtilGetPropertiesToParameterBlock,
    ResUtilGetPropertyFormats,
    ResUtilSetPropertyTable,
    ResUtilVerifyPropertyTable,
)

TABLE = (
    RESUTIL_PROPERTY_ITEM(
        "Port",
        Format=CLUSPROP_FORMAT_DWORD,
        Minimum=1,
        Maximum=0xFFFF,
        Flags=RESUTIL_PROPITEM_REQUIRED,
    ),
    RESUTIL_PROPERTY_ITEM(
        "Greeting", KeyName="greeting_text", Format=CLUSPROP_FORMAT_SZ, Default="hello"
    ),
    RESUTIL_PROPERTY_ITEM("Path", Format=CLUSPROP_FORMAT_EXPAND_SZ, Default="%RESCHECK_T%/x"),
)
READ_ONLY = (
    RESUTIL_PROPERTY_ITEM(
        "Mode", Format=CLUSPROP_FORMAT_SZ, Default="flock", Flags=RESUTIL_PROPITEM_READ_ONLY
    ),
)


@pytest.fixture
def key() -> HKEY:
    db = InMemoryClusterDatabase()
    db.create_key("Resources\\r\\Parameters")
    return HKEY(db, "Resources\\r\\Parameters")


def get(fn: Any, *args: Any) -> bytes:
    status, returned, required = fn(*args, None)
    assert (status, returned) == (ERROR_MORE_DATA, 0), "no buffer: ERROR_MORE_DATA (RC-5)"
    out = bytearray(required)
    status, returned, again = fn(*args, out)
    assert (status, returned, again) == (ERROR_SUCCESS, required, required)
    return bytes(out)


def test_enum_lists_the_table_names() -> None:
    assert parse_multi_sz(get(ResUtilEnumProperties, TABLE)) == ["Port", "Greeting", "Path"]


def test_a_too_small_buffer_is_left_alone() -> None:
    out = bytearray(b"\xa5" * 3)
    assert ResUtilEnumProperties(TABLE, out)[0] == ERROR_MORE_DATA and out == b"\xa5" * 3


def test_get_gives_stored_values_else_defaults_and_expands_expand_sz(
    key: HKEY, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESCHECK_T", "/tmp")
    key.db.set_value(key.path, "Port", REG_DWORD, 8080)
    props = parse_property_list(get(ResUtilGetProperties, key, TABLE))
    assert [(p.name, p.value) for p in props] == [
        ("Port", 8080),
        ("Greeting", "hello"),
        ("Path", "%RESCHECK_T%/x"),
    ]
    assert [v.format for v in props[2].values] == [
        CLUSPROP_FORMAT_EXPAND_SZ,
        CLUSPROP_FORMAT_EXPANDED_SZ,
    ]
    assert props[2].values[1].data == "/tmp/x", "the EXPANDED_SZ value follows (PL-8)"


def test_get_all_adds_unknown_properties(key: HKEY) -> None:
    key.db.set_value(key.path, "Extra", REG_SZ, "kept")
    props = parse_property_list(get(ResUtilGetAllProperties, key, TABLE))
    assert [(p.name, p.value) for p in props] == [
        ("Port", 0),
        ("Greeting", "hello"),
        ("Path", "%RESCHECK_T%/x"),
        ("Extra", "kept"),
    ], "Port has no value and no default: its format's empty value"


def test_a_stored_value_out_of_range_is_still_read(key: HKEY) -> None:
    key.db.set_value(key.path, "Port", REG_DWORD, 70000)
    props = parse_property_list(get(ResUtilGetProperties, key, TABLE))
    assert props[0].value == 70000, "GET reports what is stored; ranges bind SET"


def test_formats_are_one_word_per_property() -> None:
    props = parse_property_list(get(ResUtilGetPropertyFormats, TABLE))
    assert [(p.name, p.value) for p in props] == [
        ("Port", CLUSPROP_FORMAT_DWORD),
        ("Greeting", CLUSPROP_FORMAT_SZ),
        ("Path", CLUSPROP_FORMAT_EXPAND_SZ),
    ]


def test_set_stores_under_the_key_name_and_fills_the_parameter_block(key: HKEY) -> None:
    params: dict[str, Any] = {}
    buf = build_property_list([Property.of("Port", 9), Property.of("greeting", "hi")])
    assert ResUtilSetPropertyTable(key, TABLE, None, False, buf, params) == ERROR_SUCCESS
    assert key.db.values(key.path) == {"Port": (REG_DWORD, 9), "greeting_text": (REG_SZ, "hi")}
    assert params == {"Port": 9, "Greeting": "hi"}


@pytest.mark.parametrize(
    ("props", "status"),
    [
        ([Property.of("Port", 0)], ERROR_INVALID_PARAMETER),  # below Minimum
        ([Property.of("Port", "80")], ERROR_INVALID_PARAMETER),  # wrong format
        ([Property.of("Mode", "x")], ERROR_INVALID_PARAMETER),  # unknown here
        ([Property.of("Port", 9), Property.of("Nope", 1)], ERROR_INVALID_PARAMETER),
    ],
    ids=["range", "format", "unknown", "one-bad-of-two"],
)
def test_invalid_lists_are_refused_and_nothing_is_written(
    key: HKEY, props: list[Property], status: int
) -> None:
    buf = build_property_list(props)
    assert ResUtilVerifyPropertyTable(TABLE, None, False, buf) == status
    assert ResUtilSetPropertyTable(key, TABLE, None, False, buf) == status
    assert key.db.values(key.path) == {}, "a refused SET writes nothing (CC-11)"


def test_read_only_properties_are_refused() -> None:
    buf = build_property_list([Property.of("Mode", "x")])
    assert ResUtilVerifyPropertyTable(READ_ONLY, None, False, buf) == ERROR_INVALID_PARAMETER


def test_malformed_and_null_input() -> None:
    assert ResUtilVerifyPropertyTable(TABLE, None, False, None) == ERROR_INVALID_PARAMETER
    assert ResUtilVerifyPropertyTable(TABLE, None, False, b"\1\0\0\0") == ERROR_INVALID_DATA


def test_unknown_properties_when_allowed(key: HKEY) -> None:
    buf = build_property_list([Property("Extra", (Value(CLUSPROP_SYNTAX_LIST_VALUE_SZ, "v"),))])
    assert ResUtilSetPropertyTable(key, TABLE, None, True, buf) == ERROR_SUCCESS
    assert key.db.values(key.path) == {"Extra": (REG_SZ, "v")}


def test_expand_sz_is_set_from_its_stored_value(key: HKEY) -> None:
    buf = build_property_list(
        [Property("Path", (Value(CLUSPROP_SYNTAX_LIST_VALUE_EXPAND_SZ, "%X%"),))]
    )
    assert ResUtilSetPropertyTable(key, TABLE, None, False, buf) == ERROR_SUCCESS


def test_parameter_block_checks_required_properties(key: HKEY) -> None:
    params: dict[str, Any] = {}
    status, missing = ResUtilGetPropertiesToParameterBlock(key, TABLE, params, True)
    assert (status, missing) == (ERROR_INVALID_PARAMETER, "Port")
    key.db.set_value(key.path, "Port", REG_DWORD, 80)
    assert ResUtilGetPropertiesToParameterBlock(key, TABLE, params, True) == (ERROR_SUCCESS, None)
    assert params == {"Port": 80, "Greeting": "hello", "Path": "%RESCHECK_T%/x"}


def test_a_table_refuses_a_format_it_cannot_store() -> None:
    with pytest.raises(ValueError, match="Format 99"):
        RESUTIL_PROPERTY_ITEM("X", Format=99)
