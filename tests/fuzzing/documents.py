"""JSON documents for fuzzing: any JSON value, and bodies of the V2 compat endpoint whose
fields hold anything from the right type to any JSON at all."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)


def json_trees(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """JSON values: ``scalars``, and small lists and objects of them, nested."""
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


json_values = json_trees(json_scalars)
numberish = st.one_of(
    st.from_regex(r"\+?[0-9 ()\-.]{1,16}", fullmatch=True),
    st.integers(min_value=-(10**15), max_value=10**15),
    json_values,
)
v2_fields = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=60), json_values),
        "description": st.one_of(st.text(max_size=60), json_values),
        "blockNumbers": st.one_of(numberish, st.lists(numberish, max_size=8)),
        "blockNumber": numberish,
        "Id": json_values,
        "id": json_values,
        "expiryDate": st.one_of(st.just("2099-01-01 00:00:00"), st.text(max_size=25), json_values),
    },
)
