"""Configuration: every function names what it cannot start without, the template gives each of
them that, and a missing or unusable value fails the cold start with the variable's name."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mlhooks.local.template import functions
from mlhooks.settings import FUNCTION_NEEDS, Settings, SettingsError, get_settings, variable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("MLHOOKS_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def folder(props: dict) -> str:
    return Path(props["CodeUri"]).name


def test_every_function_of_the_template_declares_its_needs(template):
    assert {folder(p) for p in functions(template).values()} == set(FUNCTION_NEEDS)


def test_the_template_sets_every_variable_each_function_needs(template):
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    for props in functions(template).values():
        own = (props.get("Environment") or {}).get("Variables") or {}
        given = {name for name, value in {**shared, **own}.items() if value not in ("", None)}
        needed = {variable(field) for field in FUNCTION_NEEDS[folder(props)]}
        assert needed <= given, (folder(props), needed - given)


@pytest.mark.parametrize("function", sorted(f for f, needs in FUNCTION_NEEDS.items() if needs))
def test_a_function_without_its_settings_fails_its_cold_start_by_name(function, monkeypatch):
    path = ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"cold_start_{function}", path)
    assert spec is not None and spec.loader is not None
    with pytest.raises(SettingsError) as failed:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    for field in FUNCTION_NEEDS[function]:
        assert variable(field) in str(failed.value)


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("MLHOOKS_MAX_ATTEMPTS", "0", "MLHOOKS_MAX_ATTEMPTS: Input should be greater than or equal to 1"),
        ("MLHOOKS_MAX_ATTEMPTS", "eight", "MLHOOKS_MAX_ATTEMPTS: Input should be a valid integer"),
        (
            "MLHOOKS_HTTP_READ_TIMEOUT_SECONDS",
            "-1",
            "MLHOOKS_HTTP_READ_TIMEOUT_SECONDS: Input should be greater",
        ),
        (
            "MLHOOKS_OUTBOUND_ALLOW",
            "127.0.0.1/8",
            "MLHOOKS_OUTBOUND_ALLOW: Input is not a valid IPv4 network",
        ),
    ],
)
def test_an_unusable_value_is_named_with_its_variable(monkeypatch, name, value, said):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="Invalid configuration") as failed:
        get_settings()
    assert said in str(failed.value)


def test_lists_are_comma_separated_and_an_empty_variable_is_unset(monkeypatch):
    monkeypatch.setenv("MLHOOKS_OUTBOUND_ALLOW", "127.0.0.0/8, ::1/128")
    monkeypatch.setenv("MLHOOKS_OWN_QUEUE_URLS", "")
    monkeypatch.setenv("MLHOOKS_RETRY_BASE_SECONDS", "")
    settings = get_settings()
    assert [str(n) for n in settings.outbound_allow] == ["127.0.0.0/8", "::1/128"]
    assert settings.own_queue_urls == () and settings.retry_base_seconds == Settings().retry_base_seconds


def test_a_blank_value_is_missing(monkeypatch):
    monkeypatch.setenv("MLHOOKS_TABLE_NAME", "   ")
    with pytest.raises(SettingsError, match="MLHOOKS_TABLE_NAME"):
        get_settings().require("table_name")
