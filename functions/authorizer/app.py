"""AuthorizerFunction: API Gateway REQUEST authorizer for `Authorization: Bearer <API key>`.

Answers with an Allow policy carrying the caller (entity, member, role, key id) in its context, or
raises "Unauthorized", which API Gateway turns into a 401.

The event and the policy are plain dicts: Powertools' authorizer data classes import every one of
its event classes, some 15-20 ms of each cold start for two field reads and one policy.
"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlhooks.access import authenticate
from mlhooks.components import get_components
from mlhooks.outcome import header
from mlhooks.settings import for_function

logger = Logger(service="mlhooks-authorizer")
for_function("authorizer")  # fails this cold start, by name, if the stack left a setting out


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    caller = authenticate(get_components().store, header(event.get("headers") or {}, "authorization"))
    if caller is None:
        logger.info("rejected request: no valid API key")
        raise Exception("Unauthorized")
    # Allow every route: the API function checks entity and role, and the answer may be cached.
    # methodArn is arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<method>/<path>.
    api, _, route = event["methodArn"].partition("/")
    stage = route.partition("/")[0]
    logger.append_keys(entity=caller.entity, member=caller.member, key_id=caller.key_id)
    logger.info("authorized")
    return {
        "principalId": f"{caller.entity}/{caller.member}",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [f"{api}/{stage}/*/*"]}
            ],
        },
        "context": {
            "entity": caller.entity,
            "member": caller.member,
            "role": caller.role.value,
            "key_id": caller.key_id,
            "service": caller.service,
        },
    }
