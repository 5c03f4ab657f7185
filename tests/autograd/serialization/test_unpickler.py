"""The restricted interpreter decodes plain data exactly as pickle does, at every protocol."""
import collections
import pickle

import pytest

from ember.serialization.restricted_unpickler import Source, load_pickle

VALUES = [
    None, True, False, 0, 1, 255, 256, 65535, 65536, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31,
    2 ** 64, -(2 ** 200), 2 ** 2100, 0.0, -0.0, 1.5, float("inf"), 1e-310, "", "ascii",
    "h\u00e9llo \u2603 \U0001F600", "x" * 300, b"", b"\x00\xff" * 200, bytearray(b"ab"),
    (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], [1, [2, [3]]], list(range(2500)), {},
    {"a": 1, 2: "b", (1, 2): [3]}, {str(i): i for i in range(1500)}, {1, 2, 3}, frozenset({4}),
    collections.OrderedDict([("z", 1), ("a", 2)]), 1 + 2j,
]


def no_pid(pid):
    raise AssertionError("no persistent ids here")


def decode(data):
    return load_pickle(Source.of_bytes(data), no_pid)


@pytest.mark.parametrize("protocol", range(6))
def test_plain_values_decode_like_pickle(protocol):
    for value in VALUES:
        data = pickle.dumps(value, protocol)
        got = decode(data)
        assert got == value or (got != got and value != value), (protocol, value)
        assert type(got) is type(value), (protocol, value)


@pytest.mark.parametrize("protocol", range(6))
def test_shared_references_and_recursion(protocol):
    shared = [1, 2]
    obj = {"a": shared, "b": shared}
    got = decode(pickle.dumps(obj, protocol))
    assert got["a"] is got["b"]
    loop = []
    loop.append(loop)
    got = decode(pickle.dumps(loop, protocol))
    assert got[0] is got


def test_ordered_dict_attributes_from_build():
    od = collections.OrderedDict(a=1)
    od._metadata = {"": {"version": 1}}
    got = decode(pickle.dumps(od, 2))
    assert got == od and got._metadata == od._metadata


@pytest.mark.parametrize("data,error", [
    (b"", "truncated"),
    (b"\x80\x02", "truncated"),
    (b"\x80\x02K", "truncated"),
    (b"\x80\x02X\xff\xff\x00\x00ab", "truncated"),
    (b"\x80\x06K\x01.", "protocol"),
    (b"\x80\x02.", "corrupt"),              # STOP with an empty stack
    (b"\x80\x02K\x01K\x02.", "corrupt"),    # two values left
    (b"\x80\x02h\x07.", "corrupt"),          # memo index never stored
    (b"\x80\x02(K\x01.", "corrupt"),         # unclosed MARK
    (b"\x80\x02u.", "corrupt"),              # SETITEMS without MARK
    (b"\x80\x02}]K\x01s.", "corrupt"),       # unhashable key
    (b"\x80\x02\xff.", "Unsupported pickle opcode"),
])
def test_malformed_pickles_raise_clear_errors(data, error):
    with pytest.raises((pickle.UnpicklingError, RuntimeError), match=error):
        decode(data)
