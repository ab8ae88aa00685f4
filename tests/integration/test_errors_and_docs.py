"""Every rejection is JSON `{"error": {code, message, field, details}}`; the docs come from the models."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from apiclient import Api
from samples import load_event

from mlhooks.local.apigw import proxy_event
from mlhooks.local.functions import LambdaContext

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


def test_path_outside_the_api_is_404_rendered_from_the_gateway_responses(team):
    """API Gateway answers it (MISSING_AUTHENTICATION_TOKEN), with template.yaml's template."""
    for path in ("/", "/v2/anything", "/v1"):
        reply = team.admin.get(path)
        assert_error_shape(reply, 404, "not_found")
        assert reply.error["message"] == "No such route. See /v1/openapi.json for the API."


def test_a_failing_function_is_a_502_rendered_from_the_gateway_responses(gateway, team, monkeypatch):
    invoke = gateway.fns.invoke

    def failing_api(name, event):
        if name == "ApiFunction":
            raise RuntimeError("the function crashed")
        return invoke(name, event)

    monkeypatch.setattr(gateway.fns, "invoke", failing_api)
    reply = team.admin.get(f"{team.base}/projects")
    assert_error_shape(reply, 502, "internal_error")
    assert "crashed" not in reply.raw.decode()


def test_not_found_resource_is_404(team):
    assert_error_shape(team.admin.get(f"{team.base}/webhooks/none"), 404, "not_found")


def test_secret_value_is_never_echoed_in_validation_errors(team):
    value = "value-that-must-not-echo-" + "z" * 20_000
    reply = team.admin.post(f"{team.base}/secrets", {"name": "A", "value": value})
    assert reply.status == 400 and reply.error["field"] == "value"
    assert "value-that-must-not-echo" not in reply.raw.decode()


def openapi_document(gateway, path="/v1/openapi.json", query=""):
    status, _, body = gateway.handle("GET", path, query, {}, b"")
    assert status == 200, body[:500]
    return json.loads(body)


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_openapi_document_is_public_and_generated_from_models(gateway):
    document = openapi_document(gateway)
    assert document["info"]["title"] == "mlhooks"
    assert "/v1/entities/{entity}/automations" in document["paths"]
    schemas = document["components"]["schemas"]
    assert "AutomationCreate" in schemas and "WebhookCreate" in schemas
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_docs_page_is_served(gateway):
    status, headers, body = gateway.handle("GET", "/v1/docs", "", {}, b"")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"swagger" in body.lower()


def success_statuses(operation):
    return [status for status in operation["responses"] if status.startswith("2")]


def test_every_operation_declares_the_success_status_it_answers(gateway):
    declared = {(m, p): success_statuses(op) for m, p, op in operations(openapi_document(gateway))}
    assert all(len(statuses) == 1 for statuses in declared.values()), declared
    base = "/v1/entities/{entity}"
    for collection in ("members", "api-keys", "secrets", "webhooks", "slack", "projects", "automations"):
        assert declared["POST", f"{base}/{collection}"] == ["201"], collection
    assert declared["POST", f"{base}/projects/{{project}}/collections"] == ["201"]
    assert declared["POST", f"{base}/executions/{{execution_id}}/redeliver"] == ["202"]
    assert declared["POST", f"{base}/executions/{{execution_id}}/retry"] == ["202"]
    assert declared["POST", "/v1/events"] == ["202"]
    assert declared["POST", f"{base}/automations/{{automation_id}}/enable"] == ["200"]
    assert declared["PATCH", f"{base}/automations/{{automation_id}}"] == ["200"]
    deletes = [statuses for (method, _), statuses in declared.items() if method == "DELETE"]
    assert deletes and all(statuses == ["204"] for statuses in deletes)


def test_no_content_answers_declare_no_body(gateway):
    for method, path, operation in operations(openapi_document(gateway)):
        if "204" in operation["responses"]:
            assert "content" not in operation["responses"]["204"], (method, path)


def test_every_error_answer_is_declared_with_the_one_error_schema(gateway):
    document = openapi_document(gateway)
    for method, path, operation in operations(document):
        errors = {s: r for s, r in operation["responses"].items() if not s.startswith("2")}
        assert {"400", "401", "403", "404", "500"} <= set(errors), (method, path)
        for response in errors.values():
            assert response["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, (method, path)
    schemas = document["components"]["schemas"]
    assert not {"HTTPValidationError", "ValidationError", "ResponseValidationError"} & set(schemas)


def test_operations_declare_the_errors_they_can_answer(gateway):
    declared = {(m, p): set(op["responses"]) for m, p, op in operations(openapi_document(gateway))}
    automation = "/v1/entities/{entity}/automations/{automation_id}"
    assert {"409", "412", "422"} <= declared["PATCH", automation]
    assert "412" not in declared["DELETE", automation] and "422" not in declared["DELETE", automation]
    assert "409" not in declared["GET", automation]
    assert "503" in declared["POST", "/v1/events"]


def test_error_answers_match_the_documented_error_schema(gateway, team):
    document = openapi_document(gateway)
    schema = {"$ref": "#/components/schemas/Error", "components": document["components"]}
    answers = [
        team.admin.post(f"{team.base}/secrets", raw=b'{"name": '),
        team.viewer.post(f"{team.base}/projects", {"name": "p"}),
        team.admin.get(f"{team.base}/webhooks/none"),
        team.admin.post(f"{team.base}/automations", automation_with(event={"type": "FOO"})),
        team.admin.get(f"{team.base}/automations", query="limit=0"),
        Api(gateway).get(f"{team.base}/projects"),
    ]
    for reply in answers:
        assert 400 <= reply.status < 500, reply.raw
        jsonschema.validate(reply.json, schema)


def resolve_link_value(expression, request_path_params, response_body):
    if expression.startswith("$request.path."):
        return request_path_params[expression.removeprefix("$request.path.")]
    pointer = expression.removeprefix("$response.body#/")
    return response_body[pointer]


def test_create_links_name_existing_operations_and_fill_their_path(gateway):
    document = openapi_document(gateway)
    by_id = {op["operationId"]: (m, p, op) for m, p, op in operations(document)}
    linked = 0
    for _, _, operation in operations(document):
        for link in operation["responses"].get("201", {}).get("links", {}).values():
            _, target_path, _ = by_id[link["operationId"]]
            assert set(link["parameters"]) == set(re.findall(r"\{(\w+)\}", target_path)), target_path
            linked += 1
    assert linked >= 15  # automations, webhooks, secrets, slack, projects, members, keys


def test_following_a_create_link_reaches_what_was_created(gateway, team):
    document = openapi_document(gateway)
    create = document["paths"]["/v1/entities/{entity}/automations"]["post"]
    by_id = {op["operationId"]: (m, p) for m, p, op in operations(document)}
    created = team.member.post(f"{team.base}/automations", automation_with(name="linked"))
    assert created.status == 201, created.raw
    for link in create["responses"]["201"]["links"].values():
        method, target = by_id[link["operationId"]]
        if method != "GET":
            continue
        values = {
            name: resolve_link_value(expression, {"entity": team.entity}, created.json)
            for name, expression in link["parameters"].items()
        }
        reply = team.viewer.get(target.format(**values))
        assert reply.status == 200, (target, reply.raw)


def test_documented_success_status_is_the_one_answered(gateway, team):
    """Walk the creates and deletes that need no outside service; each answers what is documented."""
    declared = {(m, p): success_statuses(op) for m, p, op in operations(openapi_document(gateway))}
    base = "/v1/entities/{entity}"

    def check(method, template, reply):
        assert [str(reply.status)] == declared[method, template], (method, template, reply.raw)
        return reply

    project = {"name": "walk", "registry": False}
    check("POST", f"{base}/projects", team.member.post(f"{team.base}/projects", project))
    check(
        "POST",
        f"{base}/projects/{{project}}/collections",
        team.member.post(f"{team.base}/projects/walk/collections", {"name": "models"}),
    )
    check(
        "POST",
        f"{base}/secrets",
        team.admin.post(f"{team.base}/secrets", {"name": "S", "value": "walk-value"}),
    )
    check("DELETE", f"{base}/secrets/{{name}}", team.admin.delete(f"{team.base}/secrets/S"))
    member = {"username": "dan", "role": "VIEWER"}
    check("POST", f"{base}/members", team.admin.post(f"{team.base}/members", member))
    key = check("POST", f"{base}/api-keys", team.admin.post(f"{team.base}/api-keys", {"name": "ci"}))
    key_path = f"{team.base}/api-keys/{key.json['id']}"
    check("DELETE", f"{base}/api-keys/{{key_id}}", team.admin.delete(key_path))
    check("DELETE", f"{base}/members/{{username}}", team.admin.delete(f"{team.base}/members/dan"))
    automation = check(
        "POST", f"{base}/automations", team.member.post(f"{team.base}/automations", automation_with())
    )
    path = f"{team.base}/automations/{automation.json['id']}"
    check("PATCH", f"{base}/automations/{{automation_id}}", team.member.patch(path, {"description": "d"}))
    check("POST", f"{base}/automations/{{automation_id}}/disable", team.member.post(f"{path}/disable"))
    check("DELETE", f"{base}/automations/{{automation_id}}", team.member.delete(path))


# ---- the server the docs page and the document point at ---------------------------------------------


def test_document_and_docs_page_point_at_the_local_url_without_a_stage(gateway):
    for path, query in (("/v1/openapi.json", ""), ("/v1/docs", "format=json")):
        assert openapi_document(gateway, path, query)["servers"] == [{"url": "/"}], path
    _, _, page = gateway.handle("GET", "/v1/docs", "", {}, b"")
    assert b'"url": "/dev"' not in page and b'"url": "/"' in page


def test_document_and_docs_page_point_at_the_stage_on_api_gateway(gateway):
    """On the execute-api endpoint the URL carries the stage: requestContext.path is /dev/v1/..."""
    for path, query in (("/v1/openapi.json", None), ("/v1/docs", {"format": "json"})):
        event = proxy_event("GET", path, base_path="/dev", resource=path)
        event["queryStringParameters"] = query
        result = gateway.fns.invoke("ApiFunction", event)
        assert result["statusCode"] == 200
        assert json.loads(result["body"])["servers"] == [{"url": "/dev"}], path
    sample = gateway.fns.invoke("ApiFunction", load_event("api-openapi.json"))
    assert json.loads(sample["body"])["servers"] == [{"url": "/dev"}]


def test_local_gateway_builds_the_url_it_serves(gateway):
    event = proxy_event("GET", "/v1/docs")
    assert event["requestContext"]["path"] == "/v1/docs" and event["requestContext"]["stage"] == "dev"


# ---- the sample events in events/, as `sam local invoke` (and `mlhooks invoke`) would use them --------


def invoke(gateway, function, event):
    return gateway.fns.invoke(function, event)


def test_sample_list_members_event(gateway, team):
    from mlhooks.access import AccessService
    from mlhooks.components import get_components

    AccessService(get_components().store).bootstrap("dev", "admin")
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
    api, _, route = event["methodArn"].partition("/")
    stage = route.split("/")[0]
    assert policy["principalId"] == "acme/bob"
    # Every route of the stage: the answer is cached per key, and the API function checks the route.
    assert policy["policyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [f"{api}/{stage}/*/*"]}
        ],
    }
    assert policy["context"] == {
        "entity": "acme",
        "member": "bob",
        "role": "MEMBER",
        "key_id": policy["context"]["key_id"],
        "service": False,
    }


@pytest.mark.parametrize("name", ["authorization", "AUTHORIZATION"])
def test_authorizer_reads_the_header_in_any_case_and_keeps_the_arns_partition(gateway, team, name):
    event = load_event("authorizer-unknown-key.json")
    del event["headers"]["Authorization"]
    event["headers"][name] = f"Bearer {team.keys['VIEWER']}"
    event["methodArn"] = "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/Prod/GET/v1/entities/acme"
    policy = gateway.fns.handler("AuthorizerFunction")(event, LambdaContext("AuthorizerFunction"))
    assert policy["policyDocument"]["Statement"][0]["Resource"] == [
        "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/Prod/*/*"
    ]
    assert policy["context"]["role"] == "VIEWER"


# ---- validation messages: the one mistake, and what is accepted instead -----------------------------

EVENT_TYPES = (
    "CREATE_ARTIFACT, LINK_ARTIFACT, UNLINK_ARTIFACT, ADD_ARTIFACT_ALIAS, ADD_ARTIFACT_TAG, "
    "REMOVE_ARTIFACT_TAG, ADD_COLLECTION_TAG, REMOVE_COLLECTION_TAG, RUN_METRIC_THRESHOLD, "
    "RUN_METRIC_CHANGE, RUN_METRIC_ZSCORE, RUN_STATE"
)


def automation_with(**parts):
    valid = {
        "name": "a",
        "scope": {"type": "ENTITY"},
        "event": {"type": "CREATE_ARTIFACT"},
        "action": {"type": "NO_OP"},
    }
    return valid | parts


def test_unknown_event_type_lists_the_accepted_types_as_typed(team):
    reply = team.admin.post(f"{team.base}/automations", automation_with(event={"type": "FOO"}))
    assert_error_shape(reply, 400, "validation_error")
    assert reply.error["field"] == "event.type"
    assert reply.error["message"] == (
        f"Invalid request: event.type: must be one of {EVENT_TYPES} (got 'FOO')."
    )
    assert "EventType" not in reply.raw.decode()


def test_missing_event_type_is_named_as_the_field_at_fault(team):
    reply = team.admin.post(f"{team.base}/automations", automation_with(event={}))
    assert_error_shape(reply, 400, "validation_error")
    assert reply.error["field"] == "event.type"
    assert reply.error["message"] == "Invalid request: event.type: is required."


def test_unknown_tag_that_looks_like_a_secret_is_not_echoed(team):
    token = "ghp_" + "Z" * 36
    reply = team.admin.post(f"{team.base}/automations", automation_with(action={"type": token}))
    assert_error_shape(reply, 400, "validation_error")
    assert reply.error["field"] == "action.type"
    assert "must be one of GENERIC_WEBHOOK, NOTIFICATION, QUEUE_JOB, NO_OP" in reply.error["message"]
    assert token not in reply.raw.decode()


def test_enum_in_the_body_lists_plain_values_and_not_the_input(team):
    action = {"type": "NOTIFICATION", "slack": "alerts", "title": "t", "severity": "LOUD-VALUE"}
    reply = team.admin.post(f"{team.base}/automations", automation_with(action=action))
    assert_error_shape(reply, 400, "validation_error")
    assert reply.error["field"] == "action.severity"
    assert reply.error["message"] == "Invalid request: action.severity: must be one of INFO, WARN, ERROR."
    assert "LOUD-VALUE" not in reply.raw.decode()


def test_enum_in_the_query_lists_plain_values(team):
    reply = team.admin.get(f"{team.base}/automations", query="event_type=FOO")
    assert_error_shape(reply, 400, "validation_error")
    assert reply.error["field"] == "event_type"
    assert reply.error["message"] == f"Invalid request: event_type: must be one of {EVENT_TYPES}."
