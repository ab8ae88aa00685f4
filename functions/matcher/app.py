"""MatcherFunction: EventBridge rule target. One platform event in; executions and jobs out."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mlhooks import metrics
from mlhooks.components import get_components
from mlhooks.matcher import EventMatcher
from mlhooks.settings import for_function

logger = Logger(service="mlhooks-matcher")
for_function("matcher")  # fails this cold start, by name, if the stack left a setting out
matcher = EventMatcher(get_components())  # keeps its automation cache across invocations


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics  # written once, at the end of each invocation
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    report = matcher.handle(event)
    return {
        "event_id": report.event_id,
        "rejected": report.rejected,
        "problems": report.problems[:3],  # the first few: the dead letter keeps them all
        "created": len(report.created),
        "duplicates": len(report.duplicates),
        "skipped": len(report.skipped),
        "enqueued": report.enqueued,
    }
