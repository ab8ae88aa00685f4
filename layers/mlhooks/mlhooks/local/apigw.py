"""API Gateway shapes, built the way API Gateway (REST, proxy integration) builds them, so the
handlers run unchanged locally and in tests."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

ACCOUNT_ID = "123456789012"
API_ID = "mlhookslocal"


def proxy_event(
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    query: str = "",
    body: bytes | str | None = None,
    stage: str = "dev",
    base_path: str = "",
    resource: str = "/{proxy+}",
    authorizer: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """`base_path`: what precedes the API's paths in the URL the client called, which API Gateway
    reports in `requestContext.path`: "/<stage>" on the execute-api endpoint, nothing behind a
    custom domain or locally (`sam local start-api` serves without a stage, and so does this)."""
    headers = dict(headers or {})
    parsed_query = parse_qs(query, keep_blank_values=True)
    is_binary = isinstance(body, bytes)
    try:
        text_body = body.decode("utf-8") if isinstance(body, bytes) else body
        is_binary = False
    except UnicodeDecodeError:
        text_body = base64.b64encode(body).decode("ascii")  # type: ignore[arg-type]
    now = dt.datetime.now(dt.UTC)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in parsed_query.items()} or None,
        "multiValueQueryStringParameters": parsed_query or None,
        "pathParameters": {"proxy": path.lstrip("/")} if "{proxy+}" in resource else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method.upper(),
            "path": f"{base_path}{path}",
            "stage": stage,
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "requestId": str(uuid.uuid4()),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "authorizer": dict(authorizer) if authorizer is not None else None,
        },
        "body": text_body,
        "isBase64Encoded": is_binary,
    }


def authorizer_request_event(proxy: Mapping[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway sends for a proxy request."""
    context = proxy["requestContext"]
    api = f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{API_ID}"
    method_arn = f"{api}/{context['stage']}/{proxy['httpMethod']}{proxy['path']}"
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": proxy["resource"],
        "path": proxy["path"],
        "httpMethod": proxy["httpMethod"],
        "headers": proxy["headers"],
        "multiValueHeaders": proxy["multiValueHeaders"],
        "queryStringParameters": proxy["queryStringParameters"] or {},
        "multiValueQueryStringParameters": proxy["multiValueQueryStringParameters"] or {},
        "pathParameters": proxy["pathParameters"] or {},
        "stageVariables": {},
        "requestContext": {k: v for k, v in context.items() if k != "authorizer"},
    }


def authorizer_context(policy: Mapping[str, Any]) -> dict[str, Any] | None:
    """What API Gateway passes on to the integration when the policy allows the call, else None."""
    statements = policy.get("policyDocument", {}).get("Statement", [])
    if not any(s.get("Effect") == "Allow" for s in statements):
        return None
    return {"principalId": policy.get("principalId"), **policy.get("context", {})}


# ---- API Gateway's own answers ------------------------------------------------------------------------
# The status and `$context.error.message` API Gateway gives the response types it answers without
# calling the API. A Lambda proxy integration that fails has no type of its own: API Gateway answers
# 502 with DEFAULT_5XX's template.
GATEWAY_ERRORS: dict[str, tuple[int, str | None]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None),
    "DEFAULT_5XX": (502, "Internal server error"),
}
# API Gateway's body when no GatewayResponse applies.
_DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'
_VARIABLE = re.compile(r"\$context(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def gateway_responses(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The GatewayResponses of the template's REST API, by response type."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Api":
            return dict(resource["Properties"].get("GatewayResponses") or {})
    return {}


def render_gateway_response(
    responses: Mapping[str, Mapping[str, Any]], response_type: str, status: int, message: str | None
) -> tuple[int, dict[str, str], bytes]:
    """API Gateway's answer for a response type: the type's GatewayResponse, else DEFAULT_4XX or
    DEFAULT_5XX by the status's class; its StatusCode, if set, replaces the status. The template is
    not VTL, only substitution: `$context.error.messageString` is the message as a JSON string
    (quotes included), `$context.error.responseType` the type; unknown variables render empty."""
    fallback = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
    config = responses.get(response_type) or responses.get(fallback) or {}
    values = {
        "$context.error.messageString": json.dumps(message),
        "$context.error.message": message or "",
        "$context.error.responseType": response_type,
    }
    body_template = (config.get("ResponseTemplates") or {}).get("application/json", _DEFAULT_TEMPLATE)
    body = _VARIABLE.sub(lambda m: values.get(m.group(), ""), body_template)
    return int(config.get("StatusCode", status)), {"Content-Type": "application/json"}, body.encode()
