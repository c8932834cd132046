"""The CLUSPROP codec: round trips, and malformed buffers that must raise ProplistError."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.proplist import (
    Property,
    ProplistError,
    Value,
    build_multi_sz,
    build_property_list,
    build_value,
    describe_property_list,
    parse_multi_sz,
    parse_property_list,
    parse_value_list,
)
from conformance.resapi import (
    CLUSPROP_SYNTAX_LIST_VALUE_BINARY,
    CLUSPROP_SYNTAX_LIST_VALUE_DWORD,
    CLUSPROP_SYNTAX_LIST_VALUE_EXPAND_SZ,
    CLUSPROP_SYNTAX_LIST_VALUE_LARGE_INTEGER,
    CLUSPROP_SYNTAX_LIST_VALUE_LONG,
    CLUSPROP_SYNTAX_LIST_VALUE_MULTI_SZ,
    CLUSPROP_SYNTAX_LIST_VALUE_SZ,
    CLUSPROP_SYNTAX_LIST_VALUE_ULARGE_INTEGER,
    CLUSPROP_SYNTAX_LIST_VALUE_WORD,
    CLUSPROP_SYNTAX_NAME,
)

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12)
names = text.filter(bool)
values = st.one_of(
    st.builds(Value, st.just(CLUSPROP_SYNTAX_LIST_VALUE_DWORD), st.integers(0, 2**32 - 1)),
    st.builds(Value, st.just(CLUSPROP_SYNTAX_LIST_VALUE_LONG), st.integers(-(2**31), 2**31 - 1)),
    st.builds(Value, st.just(CLUSPROP_SYNTAX_LIST_VALUE_WORD), st.integers(0, 2**16 - 1)),
    st.builds(Value, st.just(CLUSPROP_SYNTAX_LIST_VALUE_ULARGE_INTEGER), st.integers(0, 2**64 - 1)),
    st.builds(
        Value, st.just(CLUSPROP_SYNTAX_LIST_VALUE_LARGE_INTEGER), st.integers(-(2**63), 2**63 - 1)
    ),
    st.builds(Value, st.just(CLUSPROP_SYNTAX_LIST_VALUE_SZ), text),
    st.builds(Value, st.just(CLUSPROP_SYNTAX_LIST_VALUE_EXPAND_SZ), text),
    st.builds(Value, st.just(CLUSPROP_SYNTAX_LIST_VALUE_MULTI_SZ), st.lists(names, max_size=4)),
    st.builds(Value, st.just(CLUSPROP_SYNTAX_LIST_VALUE_BINARY), st.binary(max_size=13)),
)
props = st.lists(
    st.builds(Property, names, st.lists(values, min_size=1, max_size=3).map(tuple)), max_size=5
)


@given(props)
def test_property_lists_round_trip(plist: list[Property]) -> None:
    buf = build_property_list(plist)
    assert len(buf) % 4 == 0, "every entry is padded to a DWORD boundary"
    assert parse_property_list(buf) == plist


@given(st.lists(names, max_size=6))
def test_multi_sz_round_trips(strings: list[str]) -> None:
    assert parse_multi_sz(build_multi_sz(strings)) == strings


@given(st.binary(max_size=200))
def test_random_bytes_parse_or_raise_proplist_error(buf: bytes) -> None:
    for parse in (parse_property_list, parse_multi_sz, lambda b: parse_value_list(b)):
        try:
            parse(buf)
        except ProplistError as exc:
            assert 0 <= exc.offset <= len(buf), f"offset {exc.offset} outside {len(buf)} bytes"


@given(props.filter(bool), st.data())
def test_every_truncation_is_refused(plist: list[Property], data: st.DataObject) -> None:
    buf = build_property_list(plist)
    cut = data.draw(st.integers(0, len(buf) - 1))
    with pytest.raises(ProplistError):
        parse_property_list(buf[:cut])


@given(props, st.data())
def test_a_corrupted_byte_is_refused_or_still_a_list(
    plist: list[Property], data: st.DataObject
) -> None:
    buf = bytearray(build_property_list(plist))
    at = data.draw(st.integers(0, len(buf) - 1))
    buf[at] ^= data.draw(st.integers(1, 255))
    try:
        reparsed = parse_property_list(bytes(buf))
    except ProplistError:
        return
    assert build_property_list(reparsed) == bytes(buf), "what parses must rebuild byte for byte"


def _entry(syntax: int, length: int, raw: bytes) -> bytes:
    return struct.pack("<II", syntax, length) + raw


NAME = build_value(Value(CLUSPROP_SYNTAX_NAME, "Port"))


@pytest.mark.parametrize(
    ("buf", "offset", "words"),
    [
        (struct.pack("<I", 1) + NAME, len(NAME) + 4, "buffer ends before the Syntax"),
        (
            struct.pack("<I", 1) + NAME + _entry(CLUSPROP_SYNTAX_LIST_VALUE_DWORD, 2, b"\1\0\0\0"),
            len(NAME) + 8,
            "data is 4 bytes",
        ),
        (
            struct.pack("<I", 1)
            + NAME
            + _entry(CLUSPROP_SYNTAX_LIST_VALUE_SZ, 2, "ab".encode("utf-16-le")),
            len(NAME) + 8,
            "terminating NUL",
        ),
        (
            struct.pack("<I", 1)
            + NAME
            + _entry(CLUSPROP_SYNTAX_LIST_VALUE_BINARY, 1, b"\1\7\0\0")
            + b"\0" * 4,
            len(NAME) + 13,
            "padding bytes are not zero",
        ),
        (struct.pack("<I", 1) + NAME + b"\0" * 4, len(NAME) + 4, "has no value"),
        (struct.pack("<I", 1) + NAME + _entry(0x7777_0002, 4, b"\0" * 4), len(NAME) + 4, "PL-4"),
        (struct.pack("<I", 2) + NAME, 0, "cannot fit"),
        (
            build_property_list([Property.of("A", 1)]) + b"\0" * 8,
            32,
            "8 bytes follow the last",
        ),
        (
            struct.pack("<I", 1) + NAME + _entry(CLUSPROP_SYNTAX_LIST_VALUE_DWORD, 99, b""),
            0,
            "past",
        ),
    ],
    ids=[
        "truncated",
        "dword-length",
        "sz-without-nul",
        "dirty-padding",
        "no-value",
        "bad-syntax",
        "count-too-big",
        "trailing-bytes",
        "length-past-end",
    ],
)
def test_malformed_lists_name_the_offset(buf: bytes, offset: int, words: str) -> None:
    with pytest.raises(ProplistError) as caught:
        parse_property_list(buf)
    assert words in str(caught.value), f"expected {words!r} in {caught.value}"
    if offset:
        assert caught.value.offset == offset, (
            f"expected the breach at byte {offset}: {caught.value}"
        )


def test_property_with_several_values_is_kept_whole() -> None:
    plist = [Property.of("Path", Value(CLUSPROP_SYNTAX_LIST_VALUE_EXPAND_SZ, "%TEMP%"), "/tmp")]
    assert parse_property_list(build_property_list(plist))[0].values[1].data == "/tmp"


def test_describe_shows_names_formats_and_values() -> None:
    buf = build_property_list([Property.of("Port", 8080), Property.of("Host", "db1")])
    assert describe_property_list(buf) == ["Port = DWORD 8080", "Host = SZ 'db1'"]
    assert describe_property_list(b"\1\0")[0].startswith("not a well-formed property list")


@pytest.mark.parametrize("buf", [b"", b"\0\0", b"\0\0\0\0"])
def test_empty_multi_sz_forms(buf: bytes) -> None:
    assert parse_multi_sz(buf) == []


def test_multi_sz_with_an_empty_string_inside_is_refused() -> None:
    with pytest.raises(ProplistError, match="ends the list early") as caught:
        parse_multi_sz("A\0\0B\0\0".encode("utf-16-le"))
    assert caught.value.offset == 4


def test_one_endmark_may_close_the_property_list() -> None:
    plist = [Property.of("Port", 8080)]
    assert parse_property_list(build_property_list(plist) + b"\0" * 4) == plist


def test_a_name_among_the_values_is_refused() -> None:
    one, two = (
        build_property_list([Property.of("A", 1)]),
        build_property_list([Property.of("B", 2)]),
    )
    glued = struct.pack("<I", 1) + one[4:-4] + two[4:]  # A's ENDMARK dropped, count 1
    with pytest.raises(ProplistError, match=r"a name .* among the values of 'A'"):
        parse_property_list(glued)


def test_lone_surrogates_are_text_both_ways() -> None:
    plist = [Property.of("Odd", "\ud800x")]
    assert parse_property_list(build_property_list(plist)) == plist


def test_an_empty_multi_sz_value_may_have_no_data() -> None:
    buf = (
        struct.pack("<I", 1) + NAME + _entry(CLUSPROP_SYNTAX_LIST_VALUE_MULTI_SZ, 0, b"") + bytes(4)
    )
    assert parse_property_list(buf)[0].value == []
