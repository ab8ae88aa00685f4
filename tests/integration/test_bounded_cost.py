"""Bounded cost: a page of any list costs at most MAX_QUERY_CALLS DynamoDB queries, each evaluating
at most FILTERED_PAGE_ITEMS items when a filter applies, however long the history behind it.

The finding this guards: `GET …/executions?state=FAILED&limit=1` once ran one query per item it
evaluated (20.5 s over 617 executions), so a VIEWER could push an entity past API Gateway's 29 s.
Histories are written straight into the table (the store's own item builders, `batch_writer`),
since going through the pipeline would take minutes; the lists are then read through the API as a
VIEWER, and every DynamoDB call its handler makes is counted on the store's client."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from apiclient import Api, Team

from mlhooks.components import get_components
from mlhooks.models.records import AutomationRecord, ExecutionRecord
from mlhooks.models.vocabulary import ActionType, EventType, ExecutionState
from mlhooks.store import Store, keys
from mlhooks.store.table import FILTERED_PAGE_ITEMS, MAX_QUERY_CALLS

pytestmark = pytest.mark.suite("bounded cost")

PROJECTS = ("p0", "p1")
AUTOMATION_IDS = ("au_0", "au_1")
START = datetime(2026, 1, 1, tzinfo=UTC)


# ---- counting what a request costs -----------------------------------------------------------------


@contextmanager
def sent(operation: str) -> Iterator[list[dict[str, Any]]]:
    """Every DynamoDB `operation` call made meanwhile, as its request body went on the wire."""
    events = get_components().store.client.meta.events
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(json.loads(params["body"]))

    name = f"before-call.dynamodb.{operation}"
    events.register(name, record)
    try:
        yield calls
    finally:
        events.unregister(name, record)


def get_page(api: Api, path: str, **query: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One page of a list, and the queries it cost."""
    with sent("Query") as queries:
        reply = api.get(path, query=urlencode({k: v for k, v in query.items() if v is not None}))
    assert reply.status == 200, reply.raw
    return reply.json, queries


def assert_within_bound(queries: list[dict[str, Any]], filtered: bool, limit: int, where: str) -> None:
    assert 1 <= len(queries) <= MAX_QUERY_CALLS, f"{where}: {len(queries)} queries"
    for query in queries:
        # A query without a Limit evaluates up to 1 MB of items: the bound is in what each one reads.
        ceiling = FILTERED_PAGE_ITEMS if filtered else limit
        assert 1 <= query.get("Limit", 10**9) <= ceiling, f"{where}: {query.get('Limit')}"
        assert ("FilterExpression" in query) is filtered, where


def collect(api: Api, path: str, limit: int, **query: Any) -> tuple[list[dict[str, Any]], int]:
    """Follow next_token from the first page to the end, checking each page's cost: the items, and
    how many pages it took."""
    items: list[dict[str, Any]] = []
    token, tokens = None, set()
    while True:
        page, queries = get_page(api, path, limit=limit, next_token=token, **query)
        assert len(page["items"]) <= limit
        assert_within_bound(queries, bool(query), limit, f"{path} page {len(tokens) + 1}")
        items += page["items"]
        token = page["next_token"]
        if token is None:
            return items, len(tokens) + 1
        assert token not in tokens, f"{path}: next_token came back to a page already read"
        tokens.add(token)


# ---- histories written straight into the table ----------------------------------------------------


def execution(entity: str, n: int, state: ExecutionState) -> ExecutionRecord:
    """The n-th execution (higher is newer), in project p{n % 2} and automation au_{n // 2 % 2}."""
    stamp = (START + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
    return ExecutionRecord(
        entity=entity,
        id=f"ex_{n:06d}",
        automation_id=AUTOMATION_IDS[n // 2 % 2],
        automation_name="bounded",
        project=PROJECTS[n % 2],
        event_type=EventType.ADD_ARTIFACT_ALIAS,
        detail_type="Artifact Alias Added",
        event={},
        action_type=ActionType.NO_OP,
        state=state,
        created_at=stamp,
        updated_at=stamp,
    )


def write_executions(entity: str, count: int, failed: set[int]) -> list[ExecutionRecord]:
    records = [
        execution(entity, n, ExecutionState.FAILED if n in failed else ExecutionState.FINISHED)
        for n in range(count)
    ]
    with get_components().store.table.batch_writer() as batch:
        for record in records:
            batch.put_item(Item=Store._execution_item(record))
    return records


def automation(entity: str, n: int, **shape: Any) -> AutomationRecord:
    stamp = (START + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
    return AutomationRecord.model_validate(
        {
            "entity": entity,
            "id": f"au_{n:06d}",
            "name": f"automation {n}",
            "enabled": shape.get("enabled", True),
            "scope": shape.get("scope", {"type": "ENTITY"}),
            "event": {"type": shape.get("event_type", "ADD_ARTIFACT_ALIAS")},
            "action": {"type": "NO_OP"},  # no integration: the list's own queries are all it reads
            "created_by": "alice",
            "created_at": stamp,
            "updated_at": stamp,
        }
    )


def write_automations(records: list[AutomationRecord]) -> None:
    with get_components().store.table.batch_writer() as batch:
        for record in records:
            batch.put_item(
                Item=Store._item(
                    record.entity,
                    keys.automation(record.id),
                    record,
                    **Store._automation_attributes(record),
                )
            )


def listings(team: Team) -> dict[str, tuple[str, Any]]:
    """Each kind of execution list (one project's, one automation's), with which executions belong."""
    base = team.base
    return {
        "entity": (f"{base}/executions", lambda r: True),
        "project p0": (f"{base}/projects/p0/executions", lambda r: r.project == "p0"),
        "automation au_1": (f"{base}/automations/au_1/executions", lambda r: r.automation_id == "au_1"),
    }


# ---- executions ------------------------------------------------------------------------------------

HISTORY = 10_000
# The five oldest: reaching them from the newest takes HISTORY / (MAX_QUERY_CALLS * FILTERED_PAGE_ITEMS)
# pages of the entity's list (25), half as many of a project's.
OLDEST_FAILED = {0, 1, 2, 3, 4}


def test_every_execution_list_page_costs_at_most_the_bound_over_10000_executions(team, record_figure):
    write_executions(team.entity, HISTORY, OLDEST_FAILED)
    worst = 0
    for name, (path, _) in listings(team).items():
        for state in ("FAILED", None):
            for limit in (1, 200):  # the least and the most a caller may ask
                page, queries = get_page(team.viewer, path, state=state, limit=limit)
                where = f"{name}, state={state}, limit={limit}"
                assert_within_bound(queries, state is not None, limit, where)
                worst = max(worst, len(queries))
                if state is None:
                    assert len(page["items"]) == limit, where
                else:
                    # Every FAILED one lies beyond what one page may read: none yet, and a way on.
                    assert page["items"] == [] and page["next_token"], where
    record_figure("bounded cost", f"{HISTORY} executions: at most {worst} queries per list page")


# Newest-first positions in the entity list: around the edges of a query (FILTERED_PAGE_ITEMS) and of
# a page (MAX_QUERY_CALLS queries), the newest and the oldest.
PAGED = 1_200
FAILED_POSITIONS = {0, 1, 199, 200, 201, 399, 400, 401, 800, 1_198, 1_199}


@pytest.mark.parametrize("limit", [1, 3])
def test_following_next_token_with_a_state_filter_returns_each_failed_execution_once_newest_first(
    team, limit
):
    records = write_executions(team.entity, PAGED, {PAGED - 1 - p for p in FAILED_POSITIONS})
    newest_first = sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)
    for name, (path, belongs) in listings(team).items():
        expected = [r.id for r in newest_first if r.state is ExecutionState.FAILED and belongs(r)]
        assert expected, name  # every list holds some, so an empty answer cannot pass
        items, _ = collect(team.viewer, path, limit, state="FAILED")
        assert [e["id"] for e in items] == expected, name
        assert {e["state"] for e in items} == {"FAILED"}


def test_an_unfiltered_execution_list_pages_through_every_execution_once(team):
    records = write_executions(team.entity, 450, set())
    expected = [r.id for r in sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)]
    items, pages = collect(team.viewer, f"{team.base}/executions", 200)
    assert [e["id"] for e in items] == expected and pages == 3


def test_a_filtered_page_may_hold_nothing_and_still_carry_a_token(team):
    # The only FAILED execution is older than everything one page may read.
    write_executions(team.entity, MAX_QUERY_CALLS * FILTERED_PAGE_ITEMS + 1, {0})
    first, _ = get_page(team.viewer, f"{team.base}/executions", state="FAILED", limit=1)
    assert first["items"] == [] and first["next_token"]
    second, _ = get_page(
        team.viewer, f"{team.base}/executions", state="FAILED", limit=1, next_token=first["next_token"]
    )
    assert [e["id"] for e in second["items"]] == ["ex_000000"]


# ---- automations -----------------------------------------------------------------------------------

AUTOMATIONS = 1_600
# The few that stand out, placed at the start, around query and page edges, and at the very end.
RARE = (0, 199, 200, 399, 400, 401, 1_000, 1_598, 1_599)


def rare_automations(entity: str) -> list[AutomationRecord]:
    records = []
    for n in range(AUTOMATIONS):
        if n not in RARE:
            records.append(automation(entity, n))
        elif n % 3 == 0:
            records.append(automation(entity, n, scope={"type": "PROJECT", "project": "rare"}))
        elif n % 3 == 1:
            records.append(automation(entity, n, enabled=False, event_type="LINK_ARTIFACT"))
        else:
            scope = {"type": "ARTIFACT_COLLECTION", "project": "rare", "collection": "c"}
            records.append(automation(entity, n, scope=scope, event_type="LINK_ARTIFACT"))
    return records


AUTOMATION_FILTERS = {
    "project": ({"project": "rare"}, lambda a: getattr(a.scope, "project", None) == "rare"),
    "scope": ({"scope": "PROJECT"}, lambda a: a.scope.type.value == "PROJECT"),
    "event_type": ({"event_type": "LINK_ARTIFACT"}, lambda a: a.event.type.value == "LINK_ARTIFACT"),
    "enabled": ({"enabled": "false"}, lambda a: not a.enabled),
    "all of them": (
        {"project": "rare", "scope": "ARTIFACT_COLLECTION", "event_type": "LINK_ARTIFACT", "enabled": "true"},
        lambda a: a.scope.type.value == "ARTIFACT_COLLECTION" and a.enabled,
    ),
}


def test_paging_a_filtered_automation_list_collects_exactly_the_matches_within_the_bound(team):
    records = rare_automations(team.entity)
    write_automations(records)
    # A text attribute, a boolean, and every filter at once (the others work as the text one does).
    for name in ("project", "enabled", "all of them"):
        query, belongs = AUTOMATION_FILTERS[name]
        expected = sorted(a.id for a in records if belongs(a))
        assert expected, name
        items, _ = collect(team.viewer, f"{team.base}/automations", 2, **query)
        ids = [a["id"] for a in items]
        assert sorted(ids) == expected and len(ids) == len(set(ids)), name


def test_a_filtered_automation_list_page_costs_at_most_the_bound_whatever_the_limit(team):
    write_automations(rare_automations(team.entity))
    for name, (query, _) in AUTOMATION_FILTERS.items():
        for limit in (1, 50, 200):
            _, queries = get_page(team.viewer, f"{team.base}/automations", limit=limit, **query)
            assert_within_bound(queries, True, limit, f"{name}, limit={limit}")


# ---- tokens ----------------------------------------------------------------------------------------


def token_of(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def forged_tokens(team: Team) -> dict[str, tuple[str, str]]:
    """(list path, token) a caller might make up: each names a position outside the list asked for."""
    pk, base = f"E#{team.entity}", team.base
    executions, automations = f"{base}/executions", f"{base}/automations"
    exec_key = {"PK": pk, "SK": "EXEC#ex_000001", "GSI2PK": f"{pk}#EXECS", "GSI2SK": "2026#ex_000001"}
    return {
        "not base64 json": (executions, "not-a-token"),
        "another entity's executions": (
            executions,
            token_of(exec_key | {"PK": "E#globex", "GSI2PK": "E#globex#EXECS"}),
        ),
        "another list's index": (
            executions,
            token_of({"PK": pk, "SK": "EXEC#ex_1", "GSI3PK": f"{pk}#PROJECT#p0#EXECS", "GSI3SK": "2026"}),
        ),
        "another project's list": (
            f"{base}/projects/p1/executions",
            token_of({"PK": pk, "SK": "EXEC#ex_1", "GSI3PK": f"{pk}#PROJECT#p0#EXECS", "GSI3SK": "2026"}),
        ),
        "an item that is no execution": (executions, token_of(exec_key | {"SK": "SECRET#GITHUB_TOKEN"})),
        "an extra attribute": (executions, token_of(exec_key | {"state": "FAILED"})),
        "another entity's automations": (automations, token_of({"PK": "E#globex", "SK": "AUTOMATION#x"})),
        "an item that is no automation": (automations, token_of({"PK": pk, "SK": "MEMBER#alice"})),
    }


@pytest.mark.parametrize(
    "forgery",
    [
        "not base64 json",
        "another entity's executions",
        "another list's index",
        "another project's list",
        "an item that is no execution",
        "an extra attribute",
        "another entity's automations",
        "an item that is no automation",
    ],
)
def test_a_forged_next_token_is_refused_with_a_filter_too(team, forgery):
    write_executions(team.entity, 3, {1})
    path, token = forged_tokens(team)[forgery]
    query = {"state": "FAILED"} if path.endswith("/executions") else {"enabled": "true"}
    with sent("Query") as queries:
        reply = team.viewer.get(path, query=urlencode({**query, "limit": 1, "next_token": token}))
    assert reply.status == 400 and reply.error["field"] == "next_token", reply.raw
    assert queries == []  # refused before anything is read
