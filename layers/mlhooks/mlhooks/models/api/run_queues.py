"""Run queues: where QUEUE_JOB actions send their jobs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from mlhooks.models.base import Input, Output
from mlhooks.models.names import Description, IntegrationName


class RunQueueCreate(Input):
    name: IntegrationName
    url: Annotated[str, StringConstraints(min_length=1, max_length=1024)] = Field(
        description="The SQS queue's URL, in this stack's account and region, with a name the stack's "
        "`RunQueueNames` pattern allows."
    )
    description: Description = ""


class RunQueueOut(Output):
    name: str
    url: str
    description: str
    created_at: str
