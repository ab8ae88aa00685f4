"""Configuration: every function names what it cannot start without, the template gives each of
them that, and a missing or unusable value fails the cold start with the variable's name."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Annotated, Any, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError, create_model, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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


# ---- the reading of the environment, held to pydantic-settings' ------------------------------------


def pydantic_settings_model() -> type[BaseSettings]:
    """Settings' fields as a pydantic-settings model, configured as mlhooks once was with it: the
    reading mlhooks.settings keeps without importing the library at cold start."""

    class Base(BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix="MLHOOKS_", env_ignore_empty=True, frozen=True, populate_by_name=True, extra="ignore"
        )

    lists = {name for name, info in Settings.model_fields.items() if get_origin(info.annotation) is tuple}
    fields: dict[str, Any] = {
        name: (Annotated[info.annotation, NoDecode] if name in lists else info.annotation, info)
        for name, info in Settings.model_fields.items()
    }
    split = field_validator(*lists, mode="before")(Settings._split_list.__func__)
    return create_model("Oracle", __base__=Base, __validators__={"split": split}, **fields)


ORACLE = pydantic_settings_model()
SAMPLES = {
    "table_name": ["mlhooks", " "],
    "aws_endpoint_url": ["http://127.0.0.1:5000"],
    "aws_region": ["eu-west-1"],
    "outbound_allow": ["127.0.0.0/8, ::1/128", "10.0.0.0/8,", "127.0.0.1/8", "[]"],
    "own_queue_urls": ["https://sqs/a,https://sqs/b", " , "],
    "max_attempts": ["3", "0", "eight", " 4 "],
    "retry_base_seconds": ["2.5", "-1", "nan", "1e3"],
    "metrics_by_entity": ["ENABLED", "enabled"],
    "trace_disabled": ["false", "0", "yes", "maybe"],
    "metrics_namespace": ["ops"],
    "sagemaker_entities": ["*", "team-a,team-b"],
}


def outcome(model: type[BaseModel]) -> Any:
    try:
        return model().model_dump()
    except ValidationError as exc:  # the variables at fault, which each names one way or the other
        places = (str(e["loc"][0]) for e in exc.errors())
        return sorted(variable(p) if p in Settings.model_fields else p for p in places)


@given(
    st.dictionaries(
        st.sampled_from(sorted(SAMPLES)),
        st.tuples(st.sampled_from(["upper", "lower", "title"]), st.integers(0, 3), st.booleans()),
    )
)
@settings(max_examples=150, deadline=None)
def test_the_environment_reads_as_pydantic_settings_reads_it(chosen):
    environment = {}
    for field, (case, pick, empty) in chosen.items():
        name = getattr(variable(field), case)()
        environment[name] = "" if empty else SAMPLES[field][pick % len(SAMPLES[field])]
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.upper().startswith(("MLHOOKS_", "AWS_", "POWERTOOLS_")):
                patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        assert outcome(Settings) == outcome(ORACLE), environment


def test_a_value_given_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("MLHOOKS_MAX_ATTEMPTS", "3")
    assert Settings().max_attempts == ORACLE().max_attempts == 3
    assert Settings(max_attempts=5).max_attempts == ORACLE(max_attempts=5).max_attempts == 5
