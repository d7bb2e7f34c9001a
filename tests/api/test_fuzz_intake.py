"""Property: whatever JSON arrives at POST /api/v1/tickets, the answer is 201 or a 4xx."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import auth

FIELDS = [
    "category",
    "title",
    "description",
    "address",
    "latitude",
    "longitude",
    "reporter_name",
    "reporter_phone",
    "anonymous",
    "consent_contact",
    "external_ref",
    "priority",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=60)
    | st.sampled_from(["13812341234", "0571-88001234", "noise", "urgent"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), values, max_size=8),
    st.fixed_dictionaries(
        {"description": st.text(min_size=0, max_size=300)},
        optional={k: values for k in FIELDS if k != "description"},
    ),
    values,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_random_json_never_causes_a_server_error(client, body) -> None:
    raw = json.dumps(body, allow_nan=True)  # NaN/Infinity too: Python's parser accepts them
    response = client.post(
        "/api/v1/tickets", data=raw, headers=auth(), content_type="application/json"
    )
    assert response.status_code == 201 or 400 <= response.status_code < 500, (
        response.status_code,
        response.get_data(as_text=True),
    )
    if response.status_code != 201:
        assert response.mimetype == "application/problem+json"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=200))
def test_random_bytes_never_cause_a_server_error(client, raw) -> None:
    response = client.post(
        "/api/v1/tickets", data=raw, headers=auth(), content_type="application/json"
    )
    assert 400 <= response.status_code < 500 or response.status_code == 201
