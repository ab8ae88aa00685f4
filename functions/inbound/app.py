"""InboundFunction: deliveries from registered sources (MLflow and W&B over HTTPS, SageMaker from
the default bus), verified, translated and published as mlhooks events (mlhooks.sources)."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlhooks.components import get_components
from mlhooks.settings import for_function
from mlhooks.sources import SourceService
from mlhooks.sources.inbound import handle

logger = Logger(service="mlhooks-inbound")
for_function("inbound")  # fails this cold start, by name, if the stack left a setting out


# log_event stays off: a delivery's headers carry its signature and perhaps a bearer token.
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle(SourceService(get_components()), event)
