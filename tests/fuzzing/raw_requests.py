"""Raw HTTP requests for fuzzing, drawn by Hypothesis: any method, valid and broken
credentials, any content type and charset, bodies from nothing to over the size limit (JSON
truncated, mis-encoded, nested a hundred thousand deep, numbers of five thousand digits, NUL
bytes; forms, multipart, CSV, gzip real and fake), query strings with repeated and garbage
parameters; at every route template the app serves (``SERVED``) and at paths it does not.
"""

from __future__ import annotations

import base64
import gzip
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import strategies as st

from callblock.http.compat import ca_apis, v2
from tests.fuzzing.documents import json_scalars, json_trees

BASE_URL = "http://callblock.test"
MiB = 1024 * 1024

# --- what is fuzzed: every route template and the methods it serves ---------------------------

# Kept in step with the app by test_the_fuzzer_targets_every_route_the_app_serves.
SERVED: dict[str, tuple[str, ...]] = {
    "/v1/groups": ("GET", "POST"),
    "/v1/groups/{group_id}": ("GET", "PATCH", "DELETE"),
    "/v1/groups/{group_id}/numbers": ("GET", "POST", "DELETE"),
    "/v1/groups/{group_id}/numbers.csv": ("GET",),
    "/v1/groups/{group_id}/numbers:import": ("POST",),
    "/v1/groups/{group_id}/stale": ("GET",),
    "/v1/campaigns": ("GET", "POST"),
    "/v1/campaigns/{campaign_id}": ("GET", "PATCH", "DELETE"),
    "/v1/campaigns/{campaign_id}/groups": ("POST",),
    "/v1/campaigns/{campaign_id}/groups/{group_id}": ("DELETE",),
    "/v1/check": ("POST",),
    "/v1/check/{number}": ("GET",),
    "/v1/scrub": ("POST",),
    "/v1/stats": ("GET",),
    "/v1/audit": ("GET",),
    "/v1/changes": ("GET",),
    "/v1/account": ("GET", "PATCH"),
    "/v1/keys": ("GET", "POST"),
    "/v1/keys/{key_id}": ("DELETE",),
    "/v1/limits": ("GET",),
    "/healthz": ("GET",),
    "/readyz": ("GET",),
    "/metrics": ("GET",),
    "/openapi.json": ("GET", "HEAD"),
    "/docs": ("GET", "HEAD"),
    "/docs/oauth2-redirect": ("GET", "HEAD"),
    "/redoc": ("GET", "HEAD"),
    # Their scripts and styles, served from the package (http/docs.py).
    "/docs/assets/swagger-ui-bundle.js": ("GET", "HEAD"),
    "/docs/assets/swagger-ui.css": ("GET", "HEAD"),
    "/docs/assets/redoc.standalone.js": ("GET", "HEAD"),
    # The admin page and its files.
    "/": ("GET",),
    "/ui": ("GET",),
    "/ui/": ("GET",),
    "/ui/assets/{rest}": ("GET",),
    v2.PATH: ("POST", "PUT", "DELETE"),
    "/ca_apis/createBlockNumber": ("POST",),
    "/ca_apis/updateBlockNumbers": ("PUT",),
    "/ca_apis/updateBlockNumber": ("PUT",),
    "/ca_apis/deleteBlockNumber": ("DELETE",),
    "/ca_apis/deleteBlockNumberGroup": ("DELETE",),
    ca_apis.TOKEN_PATH: ("POST",),
    # Catch-alls of the compat prefixes: every method, always 404 in the compat format.
    "/CAServicesV3/{rest}": (),
    "/ca_apis/{rest}": (),
}
# Paths no route serves (or serves only by a near miss).
UNSERVED = (
    "/{rest}",
    "/v1/{rest}",
    "/v1/groups/",
    "/v1/check/",
    "/v1/groups/{group_id}/",
    "/v1/groups/{group_id}/{rest}",
    "/v1/check/{number}/{rest}",
    "/v1//groups",
    "//v1/groups",
    "/V1/GROUPS",
    "/CAServicesV3",
    "/ca_apis",
    "/ca_apisX/createBlockNumber",
    "/CAServicesV3/blockNumberGroupV2.php/",
    "/ca_apis/CAToken/generateToken/{rest}",
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ODD_METHODS = (
    "HEAD",
    "OPTIONS",
    "TRACE",
    "CONNECT",
    "PROPFIND",
    "MKCOL",
    "M-SEARCH",
    "PURGE",
    "QUERY",
    "BREW",
    "X",
    "GET2",
    "POST.",
    "DELETE_",
)

# --- requests ----------------------------------------------------------------------------------
# Every strategy is built once, at module level: Hypothesis validates a strategy object on its
# first use, which costs more than drawing from it.


@dataclass(frozen=True)
class FuzzRequest:
    """A request as generated. ``auth`` and ``api_key`` are raw header values, or symbols
    (``@bearer-key``...) of the seeded credentials, resolved when the request is built."""

    method: str
    path: str  # percent-encoded, as sent
    query: str = ""  # percent-encoded, as sent
    auth: str | None = None
    api_key: str | None = None
    content_type: str | None = None
    content_encoding: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    chunks: int = 0  # 0: one piece with its Content-Length; n: streamed in n pieces, no length
    declared_length: str | None = None  # a Content-Length claimed instead of the true one

    def describe(self, limit: int = 600) -> str:
        """The request on a few lines, its body cut to ``limit`` bytes."""
        body = self.body if len(self.body) <= limit else self.body[:limit] + b"..."
        head = f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")
        return (
            f"{head}\n  auth={self.auth!r} apiKey={self.api_key!r}"
            f" content-type={self.content_type!r} content-encoding={self.content_encoding!r}"
            f" extra={self.extra_headers!r} chunks={self.chunks}"
            f" declared_length={self.declared_length!r}\n"
            f"  body ({len(self.body)} bytes)={body!r}"
        )


# Symbols of credentials, resolved by Seeded.resolve_auth and Seeded.resolve_api_key.
AUTH_SYMBOLS = (
    "@bearer-key",
    "@basic-key",
    "@bare-key",
    "@basic-other-user",
    "@bearer-other-key",
    "@bearer-token",
    "@bare-token",
    "@bearer-wrong-key",
    "@basic-wrong-key",
    "@bearer-forged-token",
)
API_KEY_SYMBOLS = ("@key", "@token-user-key", "@wrong-key")

T = TypeVar("T")


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of the strategies, each as often as its weight (``one_of`` draws its branches evenly
    and merges repeated ones)."""
    picks = st.sampled_from([i for i, (weight, _) in enumerate(choices) for _ in range(weight)])
    return picks.flatmap(lambda i: choices[i][1])


# Header values a server would pass on (no CR, LF or NUL): printable ASCII and obs-text.
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=60,
)
# The compat fuzzer's JSON values, with integers past 64 bits among the scalars.
json_values = json_trees(json_scalars | st.integers(min_value=-(2**70), max_value=2**70))
VALID_NUMBERS = (
    "9876543210",
    "+919876543210",
    "09876543210",
    "919876543210",
    "+91 98765 43210",
    "(987) 654-3210",
    "00919812345678",
    "9812345678",
    "+14155550123",
    "140*",
    "+91140*",
    "+4420*",
)
BAD_NUMBERS = (
    "",
    " ",
    "12345",
    "abc",
    "+",
    "*",
    "+1*",
    "98765x43210",
    "9876543210;ext=12",
    "+91 (0) 98765 43210",
    "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10",  # fullwidth digits
    "98765\x0043210",
    "9" * 64,
    "9" * 5000,
    "anonymous",
    "withheld",
    "\ud800",
)
numberish = st.one_of(
    st.sampled_from(VALID_NUMBERS),
    st.sampled_from(BAD_NUMBERS),
    st.integers(min_value=9_000_000_000, max_value=9_999_999_999),
    st.from_regex(r"[+0-9 ()\-.*]{1,20}", fullmatch=True),
    json_values,
)
number_lists = st.one_of(
    st.lists(numberish, max_size=6),
    numberish,
    st.lists(st.sampled_from(VALID_NUMBERS), min_size=90, max_size=110),
    st.lists(numberish, max_size=3).map(lambda items: ",".join(map(str, items))),
)
group_names = weighted(
    (4, st.sampled_from(["Fuzz group", "Spam", "ab", "Ünïcödé", "名前 一覧", "Seed one", " x y "])),
    (1, st.sampled_from(["a", "x" * 51, "-bad", "", "  ", "a\x00b", "tab\tname"])),
    (1, st.text(max_size=55)),
    (1, json_values),
)
group_ids = st.one_of(
    st.integers(min_value=-2, max_value=8),
    st.sampled_from(["1", " 2 ", "0x1", "1.0", "1e3", "", "abc", "٣", 2**63, 2**64, 1.5, -(2**63)]),
    json_values,
)
instants = st.one_of(
    st.sampled_from(
        [
            "2099-01-01 00:00:00",
            "2026-06-01 12:00:00",
            "2030-01-31T18:00:00+05:30",
            "2030-01-31T18:00:00Z",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+00:00",
            "2030-02-30T00:00:00Z",
            "2020-01-01T00:00:00Z",
            "9999-12-31 23:59:59",
            "tomorrow",
        ]
    ),
    st.text(max_size=25),
    json_values,
)
USERNAMES = ("main", "other", "tokens", "MAIN", " main", "", "nobody", "main\x00")
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": group_names,
    "description": weighted(
        (3, st.sampled_from(["Known spam", "Fuzzed"])),
        (1, st.sampled_from(["", "d" * 60, "x\x00y"])),
        (1, st.text(max_size=60)),
    ),
    "direction": weighted(
        (3, st.sampled_from(["inbound", "outbound", "both"])),
        (1, st.sampled_from(["INBOUND", "", "sideways"])),
        (1, json_values),
    ),
    "numbers": number_lists,
    "expires_at": instants,
    "note": st.one_of(st.text(max_size=20), st.just("n" * 501), json_values),
    "all_or_nothing": json_values,
    "block_anonymous": json_values,
    "blockNumbers": number_lists,
    "blockNumber": number_lists,
    "Id": group_ids,
    "id": group_ids,
    "groupName": group_names,
    "userName": st.one_of(st.sampled_from(USERNAMES), json_values),
    "expiryDate": instants,
    "kind": weighted((3, st.sampled_from(["block", "allow"])), (1, json_values)),
    "scope": weighted((3, st.sampled_from(["global", "attached"])), (1, json_values)),
    "consent_overrides": json_values,
    "campaign": weighted((3, st.sampled_from(["1", "Spring", "spring", ""])), (1, json_values)),
    "group_ids": st.one_of(st.lists(group_ids, max_size=4), json_values),
    "calling_window": weighted(
        (
            3,
            st.fixed_dictionaries(
                {
                    "days": st.lists(
                        st.sampled_from(["mon", "sat", "sun", "Mon", "xyz", ""]), max_size=8
                    ),
                    "start": st.sampled_from(["09:00", "21:00", "24:00", "9:00", "", "23:59"]),
                    "end": st.sampled_from(["17:00", "02:00", "24:00", "00:00", "09:00", "x"]),
                }
            ),
        ),
        (1, json_values),
    ),
}
field_names = st.one_of(
    st.sampled_from(sorted(FIELD_VALUES)),
    st.sampled_from(["blockNumbers[]", "blockNumbers[0]", "numbers[]", "__proto__", "", "NAME"]),
    st.text(max_size=10),
)
field_name_lists = st.lists(field_names, max_size=6, unique=True)


@st.composite
def _field_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Objects with the fields the routes read (and others), valid values among the values."""
    return {name: draw(FIELD_VALUES.get(name, json_values)) for name in draw(field_name_lists)}


_any_fields = _field_dicts()
_names = FIELD_VALUES["name"]
_numbers = FIELD_VALUES["numbers"]
_block_numbers = FIELD_VALUES["blockNumbers"]
_user = st.one_of(st.just("main"), FIELD_VALUES["userName"])
# The bodies each route reads, with their required fields and some optional ones.
SHAPES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "group": st.fixed_dictionaries(
        {"name": _names},
        optional={
            "description": FIELD_VALUES["description"],
            "direction": FIELD_VALUES["direction"],
            "kind": FIELD_VALUES["kind"],
            "scope": FIELD_VALUES["scope"],
            "consent_overrides": FIELD_VALUES["consent_overrides"],
        },
    ),
    "group-change": st.fixed_dictionaries(
        {},
        optional={
            "name": _names,
            "description": FIELD_VALUES["description"],
            "direction": FIELD_VALUES["direction"],
            "kind": FIELD_VALUES["kind"],
            "scope": FIELD_VALUES["scope"],
            "consent_overrides": FIELD_VALUES["consent_overrides"],
        },
    ),
    "campaign": st.fixed_dictionaries(
        {"name": _names},
        optional={
            "description": FIELD_VALUES["description"],
            "calling_window": FIELD_VALUES["calling_window"],
            "group_ids": FIELD_VALUES["group_ids"],
        },
    ),
    "campaign-change": st.fixed_dictionaries(
        {},
        optional={
            "name": _names,
            "description": FIELD_VALUES["description"],
            "calling_window": st.one_of(st.none(), FIELD_VALUES["calling_window"]),
        },
    ),
    "campaign-groups": st.fixed_dictionaries({"group_ids": FIELD_VALUES["group_ids"]}),
    "key": st.fixed_dictionaries(
        {
            "scopes": st.one_of(
                st.lists(st.sampled_from(["check", "read", "write", "admin"]), max_size=5),
                st.lists(st.text(max_size=8), max_size=3),
                json_scalars,
            )
        },
        optional={"label": st.one_of(st.text(max_size=80), json_scalars)},
    ),
    "numbers": st.fixed_dictionaries(
        {"numbers": _numbers},
        optional={
            "expires_at": FIELD_VALUES["expires_at"],
            "note": FIELD_VALUES["note"],
            "all_or_nothing": st.booleans(),
            "direction": FIELD_VALUES["direction"],
            "campaign": FIELD_VALUES["campaign"],
        },
    ),
    "account": st.fixed_dictionaries({"block_anonymous": st.one_of(st.booleans(), json_values)}),
    "compat-create": st.fixed_dictionaries(
        {
            "userName": _user,
            "name": _names,
            "description": FIELD_VALUES["description"],
            "blockNumbers": _block_numbers,
        },
        optional={"expiryDate": FIELD_VALUES["expiryDate"]},
    ),
    "compat-change": st.fixed_dictionaries(
        {"userName": _user, "blockNumbers": _block_numbers},
        optional={
            "Id": FIELD_VALUES["Id"],
            "id": FIELD_VALUES["id"],
            "groupName": FIELD_VALUES["groupName"],
            "expiryDate": FIELD_VALUES["expiryDate"],
        },
    ),
    "token": st.fixed_dictionaries({"userName": _user}),
}
_shaped = st.one_of(*SHAPES.values())
field_dicts = weighted((2, _shaped), (1, _any_fields))


# Raw JSON texts no json.dumps writes: depth, size and constants that break parsers.
def _deep(depth: int, opening: str, closing: str, inner: str = "1") -> str:
    return opening * depth + inner + closing * depth


special_json = st.sampled_from(
    [
        _deep(100, "[", "]"),
        _deep(1000, "[", "]"),
        _deep(100_000, "[", "]"),
        _deep(100_000, "[", ""),
        _deep(50_000, '{"a":', "}"),
        '{"numbers": ' + _deep(3000, "[", "]", '"9876543210"') + "}",
        '{"name": ' + _deep(5000, "{", "}", '"a":1') + "}",
        '{"blockNumbers": [' + "9" * 5000 + "]}",
        '{"numbers": [' + "9" * 4300 + "]}",
        '{"numbers": [' + "9" * 4301 + "]}",
        '{"Id": ' + "1" * 5000 + ', "blockNumbers": ["9876543210"]}',
        '{"id": 1e999999, "blockNumbers": [1e400]}',
        '{"id": -0, "blockNumbers": [-1e-999]}',
        '{"numbers": [NaN, Infinity, -Infinity]}',
        '{"numbers": [9876543210.0, 1E10, 0.5]}',
        '{"name": "a", "name": "Dup name", "description": "dd", "blockNumbers": ["9876543210"]}',
        '{"name": "\\ud800\\udc00\\udfff", "description": "\\u0000x", "blockNumbers": ["1"]}',
        '{"numbers": ["\\u0000"]}',
        '{"numbers": ["9876543210"]} trailing',
        '{"numbers": ["9876543210"]}{"numbers": []}',
        "\ufeff{}",
        "{",
        "}",
        "[",
        "null",
        "true",
        "0",
        '""',
        "[]",
        "{}",
        "\x00",
        '{"a": "\x00"}',
        '{"a":1,}',
        "{'a': 1}",
        '{"a" 1}',
        '{"numbers": ["98765' + "\udcff" + '"]}',
        '{"numbers": ' + json.dumps(["9876543210"] * 10_001) + "}",
        '{"numbers": ' + json.dumps([f"98{i:08d}" for i in range(2000)]) + "}",
        '{"numbers": [' + ",".join(["null"] * 100_001) + "]}",
    ]
)
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1")
ENCODINGS += ("cp1252",)
encodings = st.sampled_from(ENCODINGS)
# How a body is damaged: how, where (modulo its length), what is added or written.
damages = st.tuples(
    st.sampled_from(["as-is"] * 6 + ["truncate", "append", "nul", "flip"]),
    st.integers(min_value=0, max_value=2**24),
    st.binary(min_size=1, max_size=20),
)


def encoded(text: str, encoding: str) -> bytes:
    """``text`` in ``encoding``, lone surrogates written as the invalid bytes they would be."""
    try:
        return text.encode(encoding, "surrogatepass")
    except UnicodeEncodeError:
        return text.encode(encoding, "replace")


def damaged(body: bytes, damage: tuple[str, int, bytes]) -> bytes:
    """``body`` as sent, or damaged: cut short, garbage added, a NUL or a byte changed."""
    how, where, garbage = damage
    if how == "as-is" or not body:
        return body
    at = where % len(body)
    match how:
        case "truncate":
            return body[:at]
        case "append":
            return body + garbage
        case "nul":
            return body[:at] + b"\x00" + body[at:]
        case _:
            return body[:at] + garbage[:1] + body[at + 1 :]


@st.composite
def _json_bodies(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> bytes:
    value = draw(documents)
    try:
        text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    except ValueError:  # an integer beyond Python's conversion limit
        text = "{}"
    return damaged(encoded(text, draw(encodings)), draw(damages))


json_bodies = _json_bodies(weighted((3, field_dicts), (1, json_values)))


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@st.composite
def _form_pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in draw(field_dicts).items():
        if isinstance(value, list) and draw(st.booleans()):  # PHP's key[] spelling
            pairs.extend((f"{name}[]", _form_value(item)) for item in value)
        else:
            pairs.append((name, _form_value(value)))
    return pairs


form_pairs = _form_pairs()
FORM_GARBAGE = ("", "", "&&", "&=", "&%zz=%", "&a=1&a=2&a[]=3", "&blockNumbers=%FF")
form_garbage = st.sampled_from(FORM_GARBAGE)


@st.composite
def _urlencoded_bodies(draw: st.DrawFn) -> bytes:
    text = urllib.parse.urlencode(draw(form_pairs), errors="surrogatepass") + draw(form_garbage)
    return damaged(text.encode(), draw(damages))


urlencoded_bodies = _urlencoded_bodies()
BOUNDARY = "BOUNDARY"
multipart_endings = st.sampled_from([f"--{BOUNDARY}--\r\n", "", f"--{BOUNDARY}\r\n", "--x--"])


@st.composite
def _multipart_bodies(draw: st.DrawFn) -> bytes:
    parts = []
    for name, value in draw(form_pairs):
        as_file = draw(st.booleans())
        disposition = f'form-data; name="{name}"' + ('; filename="f.txt"' if as_file else "")
        part = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n"
        parts.append(part.encode() + encoded(value, draw(encodings)) + b"\r\n")
    ending = draw(multipart_endings)
    return damaged(b"".join(parts) + ending.encode(), draw(damages))


multipart_bodies = _multipart_bodies()
csv_delimiters = st.sampled_from([",", ";", "\t", "|", " "])
csv_headers = st.sampled_from([[], ["phone"], ["number", "expires_at"], ["name", "msisdn"]])
csv_cells = st.one_of(
    st.sampled_from(VALID_NUMBERS),
    st.sampled_from(BAD_NUMBERS[:12]),
    st.sampled_from(['"9876543210', '"98,76"', "2030-01-01T00:00:00Z", '""']),
    st.text(max_size=12),
)
csv_rows = st.lists(st.lists(csv_cells, min_size=1, max_size=3), max_size=8)
packings = st.sampled_from(["plain", "plain", "gzip", "gzip-truncated", "gzip-magic"])


@st.composite
def _file_bodies(draw: st.DrawFn) -> bytes:
    """What imports and scrubs read: CSV or one number a line, any delimiter, maybe gzip."""
    delimiter, header = draw(csv_delimiters), draw(csv_headers)
    rows = ([header] if header else []) + draw(csv_rows)
    data = encoded("\n".join(delimiter.join(row) for row in rows), draw(encodings))
    damage = draw(damages)
    match draw(packings):
        case "gzip":
            data = gzip.compress(data, mtime=0)
        case "gzip-truncated":
            packed = gzip.compress(data, mtime=0)
            data = packed[: 2 + damage[1] % (len(packed) - 2)]
        case "gzip-magic":
            data = b"\x1f\x8b" + damage[2]
    return damaged(data, damage)


file_bodies = _file_bodies()
large_sizes = st.sampled_from([MiB - 1, MiB, MiB + 1, MiB + 4096, 2 * MiB])
large_fillings = st.sampled_from(
    [
        (b'{"numbers": ["', b"9", b'"]}'),
        (b'{"blockNumbers": "', b"9876543210,", b'", "userName": "main"}'),
        (b'{"name": "', b"\x00", b'"}'),
        (b"", b"9876543210\n", b""),
        (b"", b"\xff", b""),
        (b"blockNumbers[]=", b"9", b""),
    ]
)


@st.composite
def _large_bodies(draw: st.DrawFn) -> bytes:
    """Bodies around the 1 MiB limit, built by repetition so that they cost nothing to draw."""
    size = draw(large_sizes)
    start, filler, end = draw(large_fillings)
    count = max(0, size - len(start) - len(end)) // len(filler)
    return start + filler * count + end


large_bodies = _large_bodies()


@st.composite
def _special_bodies(draw: st.DrawFn) -> bytes:
    return damaged(encoded(draw(special_json), draw(encodings)), draw(damages))


special_bodies = _special_bodies()
# Each kind of body, and its natural content type.
BODIES: dict[str, tuple[st.SearchStrategy[bytes], str | None]] = {
    "empty": (st.just(b""), None),
    "binary": (st.binary(max_size=400), None),
    "json": (json_bodies, "application/json"),
    "special": (special_bodies, "application/json"),
    "form": (urlencoded_bodies, "application/x-www-form-urlencoded"),
    "multipart": (multipart_bodies, f"multipart/form-data; boundary={BOUNDARY}"),
    "file": (file_bodies, "text/csv"),
    "large": (large_bodies, None),
}
body_kinds = st.sampled_from([*BODIES, "json", "json", "json", "form", "file"])
_compat_change = SHAPES["compat-change"]
# What each route reads, as JSON, for half the requests to it.
ROUTE_BODIES: dict[str, st.SearchStrategy[bytes]] = {
    "/v1/groups": _json_bodies(SHAPES["group"]),
    "/v1/groups/{group_id}": _json_bodies(SHAPES["group-change"]),
    "/v1/groups/{group_id}/numbers": _json_bodies(SHAPES["numbers"]),
    "/v1/groups/{group_id}/numbers:import": file_bodies,
    "/v1/campaigns": _json_bodies(SHAPES["campaign"]),
    "/v1/campaigns/{campaign_id}": _json_bodies(SHAPES["campaign-change"]),
    "/v1/campaigns/{campaign_id}/groups": _json_bodies(SHAPES["campaign-groups"]),
    "/v1/check": _json_bodies(SHAPES["numbers"]),
    "/v1/scrub": file_bodies,
    "/v1/account": _json_bodies(SHAPES["account"]),
    "/v1/keys": _json_bodies(SHAPES["key"]),
    v2.PATH: _json_bodies(st.one_of(SHAPES["compat-create"], _compat_change)),
    "/ca_apis/createBlockNumber": _json_bodies(SHAPES["compat-create"]),
    "/ca_apis/updateBlockNumbers": _json_bodies(_compat_change),
    "/ca_apis/updateBlockNumber": _json_bodies(_compat_change),
    "/ca_apis/deleteBlockNumber": _json_bodies(_compat_change),
    "/ca_apis/deleteBlockNumberGroup": _json_bodies(_compat_change),
    ca_apis.TOKEN_PATH: _json_bodies(SHAPES["token"]),
}
one_in_two = st.booleans()
FILE_ROUTES = ("/v1/scrub", "/v1/groups/{group_id}/numbers:import")
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/json; charset=utf-16",
    'application/json;charset="UTF-8"',
    "application/json; charset=nonsense",
    "APPLICATION/JSON",
    "application/problem+json",
    "application/vnd.api+json",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=iso-8859-1",
    "multipart/form-data",
    f"multipart/form-data; boundary={BOUNDARY}",
    "multipart/form-data; boundary=",
    'multipart/form-data; boundary="a b"',
    "multipart/mixed; boundary=x",
    "text/plain",
    "text/csv",
    "text/csv; charset=utf-16",
    "application/gzip",
    "application/octet-stream",
    "*/*",
    "",
    ";",
    "json",
    "application/json; boundary=x; charset=utf-8; charset=latin-1",
)
content_types = st.one_of(st.sampled_from(CONTENT_TYPES), st.none(), header_text)
natural_content_types = {
    kind: st.one_of(st.just(natural), content_types) if natural else content_types
    for kind, (_, natural) in BODIES.items()
}
CONTENT_ENCODINGS = ("gzip", "deflate", "br", "identity", "gzip, gzip", "x-unknown", "")
content_encodings = weighted((3, st.none()), (1, st.sampled_from(CONTENT_ENCODINGS)))
EXTRA_HEADER_NAMES = (
    "Accept",
    "Accept-Charset",
    "Accept-Encoding",
    "Authorization",
    "apiKey",
    "Content-Type",
    "Cookie",
    "Expect",
    "Origin",
    "Range",
    "X-Forwarded-For",
    "X-Request-Id",
    "If-None-Match",
)
extra_headers = st.lists(
    st.tuples(st.sampled_from(EXTRA_HEADER_NAMES), header_text), max_size=3
).map(tuple)
# A good key half the time, so that most requests get past authentication.
authorizations = weighted(
    (6, st.sampled_from(AUTH_SYMBOLS[:3])),
    (2, st.sampled_from(AUTH_SYMBOLS)),
    (1, st.none()),
    (
        1,
        st.sampled_from(
            ["Bearer", "Basic", "Bearer  ", "Basic ====", "Basic bWFpbg==", "Negotiate"]
        ),
    ),
    (1, header_text),
    (1, header_text.map(lambda t: "Basic " + base64.b64encode(t.encode("latin-1")).decode())),
)
api_keys_headers = weighted(
    (2, st.none()), (3, st.just("@key")), (1, st.sampled_from(API_KEY_SYMBOLS)), (1, header_text)
)
QUERY_KEYS = (
    "name",
    "cursor",
    "limit",
    "status",
    "q",
    "direction",
    "group_id",
    "campaign",
    "number",
    "since",
    "column",
    "expiry_column",
    "skip_invalid",
    "userName",
    "id",
    "Id",
    "groupName",
    "blockNumbers",
    "blockNumbers[]",
    "blockNumber",
)
QUERY_VALUES = (
    "",
    "1",
    "0",
    "-1",
    "1000",
    "1001",
    "99999999999999999999999",
    "active",
    "expired",
    "all",
    "inbound",
    "outbound",
    "both",
    "true",
    "false",
    "yes",
    "2026-01-01T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "main",
    "Spring",
    "9876543210",
    "140*",
    "phone",
    "bWFpbjox",
    "Z3JvdXBzLTEyMzQ6MQ",
)
RAW_QUERY_PIECES = ("&", "&&", "=", "==", "%", "%zz", "%00", "a=b=c", ";", "+", "%FF%FE", "?")


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="", errors="surrogatepass")


query_pieces = st.one_of(
    st.sampled_from(RAW_QUERY_PIECES),
    st.builds(
        lambda key, value: f"{_quote(key)}={_quote(value)}",
        st.one_of(st.sampled_from(QUERY_KEYS), st.text(max_size=8)),
        st.one_of(st.sampled_from(QUERY_VALUES), st.text(max_size=30)),
    ),
)
queries = st.one_of(st.just(""), st.lists(query_pieces, max_size=6).map("&".join))
GROUP_ID_TEXTS = ("0", "-1", "00001", "1.0", "1e2", " 1", "\uff11", "\u0663", "abc", "")
GROUP_ID_TEXTS += ("9223372036854775807", "9223372036854775808", "\x00", "1\x00", "1/2", "..")
# Path parameters, percent-encoded; `rest` keeps its slashes (several segments).
path_values = {
    "group_id": weighted(
        (4, st.integers(min_value=1, max_value=6).map(str)),
        (1, st.integers(min_value=-(2**70), max_value=2**70).map(str)),
        (1, st.sampled_from(GROUP_ID_TEXTS)),
        (1, st.text(max_size=20)),
    ).map(_quote),
    "campaign_id": weighted(
        (4, st.integers(min_value=1, max_value=4).map(str)),
        (1, st.sampled_from(GROUP_ID_TEXTS)),
        (1, st.text(max_size=20)),
    ).map(_quote),
    "key_id": weighted(
        (4, st.integers(min_value=1, max_value=8).map(str)),
        (1, st.sampled_from(GROUP_ID_TEXTS)),
        (1, st.text(max_size=20)),
    ).map(_quote),
    "number": st.one_of(
        st.sampled_from(VALID_NUMBERS),
        st.sampled_from(BAD_NUMBERS[:-3]),
        st.from_regex(r"[+0-9 ()\-.*]{1,20}", fullmatch=True),
        st.text(max_size=70),
    ).map(_quote),
    "rest": st.one_of(
        st.sampled_from(["", "x", "a/b", "blockNumberGroupV2.php", "..", "%2e%2e", "index.php"]),
        st.text(max_size=30),
    ).map(lambda rest: "/".join(_quote(part) for part in rest.split("/"))),
}
# Each served route ten times as often as each unserved path.
templates = st.sampled_from([*SERVED] * 10 + [*UNSERVED])
served_methods = {path: st.sampled_from(methods or METHODS) for path, methods in SERVED.items()}
any_methods = st.sampled_from(METHODS + ODD_METHODS)
three_in_four = st.sampled_from([True, True, True, False])
chunkings = st.sampled_from([0, 0, 0, 1, 3])
declared_lengths = st.sampled_from([None] * 18 + ["99999999999", str(MiB + 1)])


@st.composite
def _requests(draw: st.DrawFn) -> FuzzRequest:
    """Any request at any route: served methods and credentials often enough to get in."""
    template = draw(templates)
    served = served_methods.get(template)
    method = draw(served if served is not None and draw(three_in_four) else any_methods)
    path = template
    for name, values in path_values.items():
        while "{" + name + "}" in path:
            path = path.replace("{" + name + "}", draw(values), 1)
    kind = draw(body_kinds)
    if template in ROUTE_BODIES and draw(one_in_two):
        kind = "file" if template in FILE_ROUTES else "json"
        body = draw(ROUTE_BODIES[template])
    else:
        body = draw(BODIES[kind][0])
    content_encoding = draw(content_encodings)
    if content_encoding and content_encoding.startswith("gzip") and draw(st.booleans()):
        body = gzip.compress(body, mtime=0)  # the claim may be true
    return FuzzRequest(
        method=method,
        path=path,
        query=draw(queries),
        auth=draw(authorizations),
        api_key=draw(api_keys_headers),
        content_type=draw(natural_content_types[kind]),
        content_encoding=content_encoding,
        extra_headers=draw(extra_headers),
        body=body,
        chunks=draw(chunkings),
        declared_length=draw(declared_lengths),
    )


def requests() -> st.SearchStrategy[FuzzRequest]:
    """Fuzzed requests (see the module's docstring)."""
    return REQUESTS


REQUESTS = _requests()
