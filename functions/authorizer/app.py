"""AuthorizerFunction: API Gateway REQUEST authorizer for `Authorization: Bearer <API key>`.

Answers with an Allow policy carrying the caller (entity, member, role, key id) in its context, or
raises "Unauthorized", which API Gateway turns into a 401.
"""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlhooks.access import authenticate
from mlhooks.components import get_components
from mlhooks.settings import for_function

logger = Logger(service="mlhooks-authorizer")
for_function("authorizer")  # fails this cold start, by name, if the stack left a setting out


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = APIGatewayAuthorizerRequestEvent(event)
    caller = authenticate(get_components().store, request.headers.get("authorization"))
    if caller is None:
        logger.info("rejected request: no valid API key")
        raise Exception("Unauthorized")
    arn = request.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=f"{caller.entity}/{caller.member}",
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={
            "entity": caller.entity,
            "member": caller.member,
            "role": caller.role.value,
            "key_id": caller.key_id,
            "service": caller.service,
        },
    )
    # Allow every route: the API function checks entity and role, and the answer may be cached.
    policy.allow_all_routes()
    logger.append_keys(entity=caller.entity, member=caller.member, key_id=caller.key_id)
    logger.info("authorized")
    return policy.asdict()
