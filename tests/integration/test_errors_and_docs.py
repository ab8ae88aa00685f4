"""Every rejection is JSON `{"error": {code, message, field, details}}`; the docs come from the models."""

from __future__ import annotations

import json

import pytest
from samples import load_event

from mlhooks.local.runtime import LambdaContext

pytestmark = pytest.mark.suite("input")


def assert_error_shape(reply, status, code):
    assert reply.status == status, reply.raw
    assert reply.headers.get("Content-Type", "").startswith("application/json")
    error = reply.error
    assert error["code"] == code and error["message"]
    assert set(error) == {"code", "message", "field", "details"}


def test_invalid_json_is_400(team):
    reply = team.admin.post(f"{team.base}/secrets", raw=b'{"name": "A", "value": ')
    assert_error_shape(reply, 400, "validation_error")
    assert reply.error["field"] == "body"


def test_wrong_types_are_400_with_every_field(team):
    reply = team.admin.post(f"{team.base}/projects", {"name": 5, "registry": "maybe", "extra": 1})
    assert_error_shape(reply, 400, "validation_error")
    fields = {d["field"] for d in reply.error["details"]}
    assert {"name", "registry", "extra"} <= fields


@pytest.mark.parametrize("event", [{"type": {"nested": 1}}, {"type": ["LINK_MODEL"]}, "LINK_MODEL", None])
def test_event_of_the_wrong_shape_is_400(team, event):
    body = {"name": "a", "scope": {"type": "ENTITY"}, "event": event, "action": {"type": "NO_OP"}}
    assert_error_shape(team.admin.post(f"{team.base}/automations", body), 400, "validation_error")


def test_non_json_body_is_415(team):
    reply = team.admin.post(
        f"{team.base}/secrets",
        raw=b"name=A&value=hunter2",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error_shape(reply, 415, "unsupported_media_type")
    assert "hunter2" not in reply.raw.decode()


def test_body_that_is_not_utf8_is_400(team):
    reply = team.admin.post(f"{team.base}/secrets", raw=b'{"name": "\xff\xfe", "value": "x"}')
    assert_error_shape(reply, 400, "validation_error")
    assert reply.error["field"] == "body"


def test_oversized_body_is_413(team):
    reply = team.admin.post(f"{team.base}/secrets", {"name": "A", "value": "x" * 300_000})
    assert_error_shape(reply, 413, "payload_too_large")


def test_unknown_route_is_404(team):
    assert_error_shape(team.admin.get(f"{team.base}/nothing-here"), 404, "not_found")


def test_not_found_resource_is_404(team):
    assert_error_shape(team.admin.get(f"{team.base}/webhooks/none"), 404, "not_found")


def test_secret_value_is_never_echoed_in_validation_errors(team):
    value = "value-that-must-not-echo-" + "z" * 20_000
    reply = team.admin.post(f"{team.base}/secrets", {"name": "A", "value": value})
    assert reply.status == 400 and reply.error["field"] == "value"
    assert "value-that-must-not-echo" not in reply.raw.decode()


def test_openapi_document_is_public_and_generated_from_models(gateway):
    status, _, body = gateway.handle("GET", "/v1/openapi.json", "", {}, b"")
    assert status == 200
    document = json.loads(body)
    assert document["info"]["title"] == "mlhooks"
    assert "/v1/entities/{entity}/automations" in document["paths"]
    schemas = document["components"]["schemas"]
    assert "AutomationCreate" in schemas and "WebhookCreate" in schemas
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_docs_page_is_served(gateway):
    status, headers, body = gateway.handle("GET", "/v1/docs", "", {}, b"")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"swagger" in body.lower()


# ---- the sample events in events/, as `sam local invoke` (and `mlhooks invoke`) would use them --------


def invoke(gateway, function, event):
    return gateway.fns.invoke(function, event)


def test_sample_list_members_event(gateway, team):
    from mlhooks.access import AccessService
    from mlhooks.wiring import components

    AccessService(components().store).bootstrap("dev", "admin")
    result = invoke(gateway, "ApiFunction", load_event("api-list-members.json"))
    assert result["statusCode"] == 200
    assert [m["username"] for m in json.loads(result["body"])["items"]] == ["admin"]


def test_sample_create_secret_and_project_events(gateway):
    result = invoke(gateway, "ApiFunction", load_event("api-create-secret.json"))
    assert result["statusCode"] == 201 and "sample-signing-secret-value" not in result["body"]
    result = invoke(gateway, "ApiFunction", load_event("api-create-project.json"))
    assert result["statusCode"] == 201 and json.loads(result["body"])["registry"] is True


def test_sample_invalid_automation_event_is_rejected_with_field(gateway):
    invoke(gateway, "ApiFunction", load_event("api-create-project.json"))
    result = invoke(gateway, "ApiFunction", load_event("api-create-automation-invalid.json"))
    assert result["statusCode"] == 422
    assert json.loads(result["body"])["error"]["field"] == "event.filter.alias.$regex"


def test_sample_openapi_event(gateway):
    result = invoke(gateway, "ApiFunction", load_event("api-openapi.json"))
    assert result["statusCode"] == 200 and json.loads(result["body"])["openapi"].startswith("3.")


def test_sample_authorizer_event_with_unknown_key_is_unauthorized(gateway):
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        invoke(gateway, "AuthorizerFunction", load_event("authorizer-unknown-key.json"))


def test_authorizer_allows_known_key_with_caller_context(gateway, team):
    event = load_event("authorizer-unknown-key.json")
    event["headers"]["Authorization"] = f"Bearer {team.keys['MEMBER']}"
    policy = gateway.fns.handler("AuthorizerFunction")(event, LambdaContext("AuthorizerFunction"))
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert policy["context"] == {
        "entity": "acme",
        "member": "bob",
        "role": "MEMBER",
        "key_id": policy["context"]["key_id"],
    }
