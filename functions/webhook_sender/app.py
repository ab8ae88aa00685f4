"""WebhookSenderFunction: SQS webhook jobs in, deliveries out; failed items stay on the queue."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlhooks.components import get_components
from mlhooks.senders import WebhookSender
from mlhooks.settings import for_function

logger = Logger(service="mlhooks-webhook-sender")
for_function("webhook_sender")  # fails this cold start, by name, if the stack left a setting out
sender = WebhookSender(get_components(), get_components().settings.webhook_queue_url)


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return sender.handle_batch(event)
