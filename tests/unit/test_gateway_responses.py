"""API Gateway's own answers, as template.yaml's GatewayResponses render them: always JSON in the
API's error shape, whatever the message API Gateway substitutes."""

from __future__ import annotations

import json

import pytest
from samples import ROOT

from mlhooks.api.errors import ErrorResponse
from mlhooks.local.apigw import gateway_responses, render_gateway_response
from mlhooks.local.template import load_template

pytestmark = pytest.mark.suite("input")

RESPONSES = gateway_responses(load_template(ROOT / "template.yaml"))
MESSAGES = [
    "Missing Authentication Token",
    'Invalid request body: "name" is "quoted"',
    "C:\\path\\with\\backslashes\\",
    "line one\nline two\ttabbed",
    "unicode: é ✓ \u2028 \x00",
    "",
]


def test_the_template_declares_the_responses_that_matter():
    expected = {
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "MISSING_AUTHENTICATION_TOKEN",
        "THROTTLED",
        "QUOTA_EXCEEDED",
        "REQUEST_TOO_LARGE",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    }
    assert expected <= set(RESPONSES)


@pytest.mark.parametrize("response_type", sorted(RESPONSES))
@pytest.mark.parametrize("message", MESSAGES)
def test_every_gateway_response_renders_json_in_the_error_shape(response_type, message):
    status = 500 if response_type.endswith("5XX") else 400
    rendered_status, headers, body = render_gateway_response(RESPONSES, response_type, status, message)
    document = json.loads(body)  # raises on invalid JSON
    ErrorResponse.model_validate(document)
    assert document["error"]["code"]
    assert headers["Content-Type"] == "application/json"
    assert rendered_status == int(RESPONSES[response_type].get("StatusCode", status))


@pytest.mark.parametrize("message", MESSAGES)
def test_default_4xx_carries_the_message_exactly_and_the_type_as_code(message):
    status, _, body = render_gateway_response(RESPONSES, "BAD_REQUEST_BODY", 400, message)
    error = json.loads(body)["error"]
    assert status == 400
    assert (error["code"], error["message"]) == ("BAD_REQUEST_BODY", message)


def test_unknown_routes_are_404_not_found():
    status, _, body = render_gateway_response(
        RESPONSES, "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token"
    )
    assert (status, json.loads(body)["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("response_type", "status", "code"),
    [
        ("THROTTLED", 429, "throttled"),
        ("QUOTA_EXCEEDED", 429, "quota_exceeded"),
        ("REQUEST_TOO_LARGE", 413, "payload_too_large"),
    ],
)
def test_limits_have_their_own_status_and_code(response_type, status, code):
    rendered, _, body = render_gateway_response(RESPONSES, response_type, status, "Limit")
    assert (rendered, json.loads(body)["error"]["code"]) == (status, code)


def test_a_5xx_without_a_response_of_its_own_uses_default_5xx():
    status, _, body = render_gateway_response(
        RESPONSES, "INTEGRATION_TIMEOUT", 504, "Endpoint request timed out"
    )
    assert (status, json.loads(body)["error"]["code"]) == (504, "internal_error")


def test_without_any_gateway_response_api_gateway_default_body_is_rendered():
    status, _, body = render_gateway_response({}, "UNAUTHORIZED", 401, 'Un"authorized')
    assert (status, json.loads(body)) == (401, {"message": 'Un"authorized'})
