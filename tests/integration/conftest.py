"""Fixtures for the pipeline tests."""

from __future__ import annotations

import pytest
from pipelines import Pipeline, make_pipeline

from mlhooks.local.inbox import Inbox


@pytest.fixture
def pipeline(aws, template, allow_loopback, receiver) -> Pipeline:
    return make_pipeline(aws, template, receiver)


@pytest.fixture
def slack(aws):
    inbox = Inbox().start()
    yield inbox
    inbox.stop()
