"""Payload variables: the one table that defines them, what each event type carries, and the name a
mistyped variable most likely meant."""

from __future__ import annotations

import pytest
from samples import EVENTS, load_event

from mlhooks.conditions import Verdict, metric_variables
from mlhooks.errors import InvalidInput
from mlhooks.models.api.automations import AutomationCreate, AutomationOut
from mlhooks.models.automation import MetricThreshold
from mlhooks.models.events import DETAIL_TYPES, template_variables
from mlhooks.models.vocabulary import EventType
from mlhooks.templating import (
    EVENT_VARIABLES,
    METADATA_PREFIX,
    PAYLOAD_VARIABLES,
    check_variables,
    suggestion,
    variables_for,
    variables_table,
)

pytestmark = pytest.mark.suite("input")

ALIAS = EventType.ADD_ARTIFACT_ALIAS
METRIC_TYPES = (EventType.RUN_METRIC_THRESHOLD, EventType.RUN_METRIC_CHANGE, EventType.RUN_METRIC_ZSCORE)


def refusal(names: set[str], **options) -> InvalidInput:
    options = {"secrets": set(), "has_access_token": False, **options}
    with pytest.raises(InvalidInput) as caught:
        check_variables(names, **options)
    return caught.value


def test_a_mistyped_variable_is_refused_with_the_one_it_most_likely_meant():
    error = refusal({"artifact_versio"}, event_type=ALIAS)
    assert "${artifact_versio} (did you mean ${artifact_version}?)" in error.message
    assert error.field == "action.payload"
    assert error.details == [
        {
            "field": "action.payload",
            "message": "unknown template variable ${artifact_versio} (did you mean ${artifact_version}?)",
        }
    ]


def test_each_refused_variable_gets_its_own_suggestion():
    error = refusal({"aliass", "evnt_type"}, event_type=ALIAS)
    assert "${aliass} (did you mean ${alias}?), ${evnt_type} (did you mean ${event_type}?)" in error.message
    assert len(error.details) == 2


def test_case_is_ignored_when_suggesting():
    assert suggestion("Alias", event_type=ALIAS) == "${alias}"
    assert suggestion("access_token", has_access_token=True) == "${ACCESS_TOKEN}"


def test_a_misspelt_metadata_prefix_keeps_its_key():
    assert suggestion("artifact_metdata.accuracy", event_type=ALIAS) == "${artifact_metadata.accuracy}"


def test_secrets_are_suggested_only_when_the_webhook_may_use_them():
    assert suggestion("GITHUB_TOKN", secrets={"GITHUB_TOKEN"}) == "${GITHUB_TOKEN}"
    assert suggestion("GITHUB_TOKN") is None
    assert "did you mean" not in refusal({"GITHUB_TOKN"}).message


def test_a_variable_of_another_event_type_is_suggested_saying_it_is_empty_here():
    assert suggestion("run_nme", event_type=ALIAS) == "${run_name} (empty on ADD_ARTIFACT_ALIAS events)"
    assert suggestion("run_nme", event_type=EventType.RUN_STATE) == "${run_name}"


def test_nothing_close_is_no_guess():
    assert suggestion("bogus", event_type=ALIAS) is None
    error = refusal({"bogus"}, event_type=ALIAS)
    assert "did you mean" not in error.message and "Unknown template variables: ${bogus}" in error.message


def test_a_variable_of_another_event_type_is_still_accepted_as_it_renders_empty():
    check_variables({"run_name", "alias"}, secrets=set(), has_access_token=False, event_type=ALIAS)


# ---- the table and what events carry ----------------------------------------------------------------


def _detail(path):
    envelope = load_event(path.name)
    return DETAIL_TYPES[envelope["detail-type"]].model_validate(envelope["detail"])


SAMPLES = sorted(p for p in EVENTS.glob("platform-*.json") if p.name != "platform-malformed.json")


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_what_an_event_carries_is_what_the_table_says(path):
    detail = _detail(path)
    event_types = [type(detail).event_type] if type(detail).event_type else list(METRIC_TYPES)
    for event_type in event_types:
        values = template_variables(detail, event_type, "an automation")
        if event_type in METRIC_TYPES:
            condition = MetricThreshold(name="loss", cmp="$lt", threshold=1)
            values |= metric_variables(condition, Verdict(True, {"loss": [0.5]}))
            values.pop("metric_condition")  # the matcher's own, for Slack's context line: not a variable
        metadata = {name for name in values if name.startswith(METADATA_PREFIX)}
        assert set(values) - metadata == variables_for(event_type), event_type
        if metadata:
            assert (
                event_type
                in next(v for v in PAYLOAD_VARIABLES if v.name.startswith(METADATA_PREFIX)).event_types
            )


def test_every_event_type_is_covered_by_a_sample_event():
    covered = set()
    for path in SAMPLES:
        event_type = type(_detail(path)).event_type
        covered |= {event_type} if event_type else set(METRIC_TYPES)
    assert covered == set(EventType)


def test_the_table_lists_every_event_type_and_variable():
    table = variables_table()
    for event_type in EventType:
        assert f"| `{event_type.value}` |" in table
    for name in EVENT_VARIABLES:
        assert f"`${{{name}}}`" in table


def test_the_api_documents_the_variables_on_the_action_from_the_table():
    for model in (AutomationCreate, AutomationOut):
        description = model.model_json_schema()["properties"]["action"]["description"]
        assert variables_table() in description


def test_slack_and_job_templates_are_not_told_to_attach_a_secret() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_variables(
            {"run_nme"},
            secrets=set(),
            has_access_token=False,
            field="action.title",
            event_type=EventType.RUN_STATE,
            takes_secrets=False,
        )
    assert "${run_name}" in refused.value.message and "secrets never travel here" in refused.value.message
    assert "webhook" not in refused.value.message
