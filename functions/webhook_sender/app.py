"""WebhookSenderFunction: SQS webhook jobs in, deliveries out; failed items stay on the queue."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlhooks import metrics
from mlhooks.components import get_components
from mlhooks.senders.webhook import WebhookSender
from mlhooks.settings import for_function

logger = Logger(service="mlhooks-webhook-sender")
for_function("webhook_sender")  # fails this cold start, by name, if the stack left a setting out
sender = WebhookSender(get_components(), get_components().settings.webhook_queue_url)


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics  # written once, at the end of each invocation
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return sender.handle_batch(event)
