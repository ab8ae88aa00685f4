"""ApiFunction: the REST API behind API Gateway (routes live in mlhooks.api)."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlhooks.api import build_app
from mlhooks.settings import for_function

logger = Logger(service="mlhooks-api")
for_function("api")  # fails this cold start, by name, if the stack left a setting out
app = build_app()


# log_event stays off: request bodies can hold secret values.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
