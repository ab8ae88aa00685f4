"""`GET …/automations?name=NAME`: exactly that name, in every scope, page after page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

NAME = "deploy"
SCOPES = [
    {"type": "ENTITY"},
    {"type": "PROJECT", "project": "one"},
    {"type": "PROJECT", "project": "two"},
    {"type": "ARTIFACT_COLLECTION", "project": "one", "collection": "model"},
]


def automation(name: str, scope: dict, **overrides) -> dict:
    return {
        "name": name,
        "scope": scope,
        "event": {"type": "CREATE_ARTIFACT"},
        "action": {"type": "NO_OP"},
    } | overrides


@pytest.fixture
def named(team):
    """The name in four scopes, among automations whose names, or whose documents, hold it too."""
    api, base = team.member, f"{team.base}/automations"
    api.post(f"{team.base}/projects", {"name": "one"})
    api.post(f"{team.base}/projects", {"name": "two"})
    api.post(f"{team.base}/projects/one/collections", {"name": "model"})
    ids = set()
    for index, scope in enumerate(SCOPES):
        api.post(base, automation(f"before {index}", scope))
        reply = api.post(base, automation(NAME, scope))
        assert reply.status == 201, reply.raw
        ids.add(reply.json["id"])
        api.post(base, automation(f"{NAME} later", scope))
    # A metric named like it: the stored document holds `"name":"deploy"`, the automation is not named so.
    metric = {"type": "RUN_METRIC_THRESHOLD", "metric": {"name": NAME, "cmp": "$gt", "threshold": 1}}
    assert api.post(base, automation("loss", SCOPES[1], event=metric)).status == 201
    return ids


def pages(team, **query) -> list[list[dict]]:
    found, token = [], None
    while True:
        params = query | ({"next_token": token} if token else {})
        reply = team.viewer.get(f"{team.base}/automations", query=urlencode(params))
        assert reply.status == 200, reply.raw
        found.append(reply.json["items"])
        token = reply.json["next_token"]
        if token is None:
            return found


def test_the_name_filter_returns_exactly_that_name_across_pages(team, named):
    found = pages(team, name=NAME, limit=1)
    items = [item for page in found for item in page]
    assert {item["id"] for item in items} == named and len(items) == len(named)
    assert all(item["name"] == NAME for item in items) and all(len(page) <= 1 for page in found)


def test_the_name_filter_combines_with_the_other_filters(team, named):
    [only] = pages(team, name=NAME, scope="PROJECT", project="two")
    assert [(a["name"], a["scope"]) for a in only] == [(NAME, {"type": "PROJECT", "project": "two"})]


def test_a_name_nobody_has_lists_nothing(team, named):
    assert [item for page in pages(team, name="deplo", limit=2) for item in page] == []
