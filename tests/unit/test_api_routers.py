"""The API includes each router with the first request that may be for it (mlhooks.api.ROUTERS):
every route of every router must be reachable through that table, or its requests would answer 404."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import mlhooks.api
from mlhooks.api import ROUTERS, build_app, routers_for

ROUTER_MODULES = sorted(
    info.name
    for info in pkgutil.iter_modules(mlhooks.api.__path__)
    if hasattr(importlib.import_module(f"mlhooks.api.{info.name}"), "router")
)


def routes(module: str) -> list[tuple[str, str]]:
    router = importlib.import_module(f"mlhooks.api.{module}").router
    return [(method, rule) for rule, method, *_ in router._routes]


def test_every_router_module_is_in_the_table():
    assert ROUTER_MODULES  # the package was looked at
    assert {name for names in ROUTERS.values() for name in names} == set(ROUTER_MODULES)


@pytest.mark.parametrize("module", ROUTER_MODULES)
def test_every_route_loads_its_router(module):
    found = routes(module)
    assert found, module
    for method, rule in found:
        for value in ("x", "openapi.json", "docs"):  # a parameter may take any value
            path = re.sub(r"<\w+>", value, rule)
            assert module in routers_for(path), (method, rule, path)


def test_the_document_and_the_docs_page_load_every_router():
    for path in ("/v1/openapi.json", "/v1/docs"):
        assert set(routers_for(path)) == set(ROUTER_MODULES)


@pytest.mark.parametrize("path", ["/", "/v1", "/v1/entities/acme", "/v1/nothing", "/graphqlx", "/v2/me"])
def test_a_path_no_route_serves_loads_no_router(path):
    assert routers_for(path) == ()


def test_a_new_resolver_has_no_routes_until_a_request_needs_them():
    app = build_app()

    def registered() -> list[tuple[str, str]]:
        return [(route.method, route.rule.pattern) for route in (*app._static_routes, *app._dynamic_routes)]

    own = registered()  # the document's route, which is not a router's
    assert own == [("GET", "^/v1/openapi.json/*$")]
    app.include_routers(("members",))
    app.include_routers(("members", "secrets"))
    assert len(registered()) == len(set(registered()))  # each router once
    assert len(registered()) - len(own) == len(routes("members")) + len(routes("secrets"))
