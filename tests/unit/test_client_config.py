"""Where the client and the command line find their API: arguments, then the environment, then a
saved login, then the `make dev` running in this folder."""

from __future__ import annotations

import json
import stat

import pytest

from mlhooks.client.config import NotConfigured, resolve, save_profile


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    for name in ("MLHOOKS_URL", "MLHOOKS_API_KEY", "MLHOOKS_ENTITY", "MLHOOKS_PROFILE", "MLHOOKS_DEV_STATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLHOOKS_CONFIG", str(tmp_path / "config" / "mlhooks.json"))
    monkeypatch.chdir(tmp_path)


def dev_runtime(tmp_path) -> None:
    (tmp_path / ".mlhooks").mkdir()
    state = {"api_url": "http://127.0.0.1:3000", "admin_key": "dev-key", "entity": "dev"}
    (tmp_path / ".mlhooks" / "dev.json").write_text(json.dumps(state))


def test_nothing_configured_says_the_three_ways_to_configure() -> None:
    with pytest.raises(NotConfigured, match=r"mlhooks login URL.*MLHOOKS_URL and MLHOOKS_API_KEY.*make dev"):
        resolve()


def test_the_running_dev_runtime_is_found_from_a_subfolder(tmp_path, monkeypatch) -> None:
    dev_runtime(tmp_path)
    (tmp_path / "scripts").mkdir()
    monkeypatch.chdir(tmp_path / "scripts")
    found = resolve()
    assert (found.url, found.key, found.entity) == ("http://127.0.0.1:3000", "dev-key", "dev")
    assert "make dev" in found.origin


def test_a_saved_login_is_private_and_wins_over_the_dev_runtime(tmp_path) -> None:
    dev_runtime(tmp_path)
    path = save_profile("default", "https://api.example/Prod", "prod-key", "acme")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    found = resolve()
    assert (found.url, found.key, found.entity) == ("https://api.example/Prod", "prod-key", "acme")


def test_the_environment_overrides_a_saved_login(tmp_path, monkeypatch) -> None:
    save_profile("default", "https://api.example/Prod", "prod-key", "acme")
    monkeypatch.setenv("MLHOOKS_URL", "https://staging.example/")
    monkeypatch.setenv("MLHOOKS_API_KEY", "staging-key")
    found = resolve()
    assert (found.url, found.key, found.origin) == (
        "https://staging.example",
        "staging-key",
        "URL and key from the environment",
    )


def test_an_unknown_profile_is_named_with_how_to_make_it() -> None:
    with pytest.raises(NotConfigured, match="mlhooks login --profile ci URL"):
        resolve(profile="ci")


def test_a_damaged_login_file_says_to_log_in_again(tmp_path) -> None:
    path = save_profile("default", "https://api.example", "k", None)
    path.write_text("{not json")
    with pytest.raises(NotConfigured, match="run `mlhooks login` again"):
        resolve()


def test_a_url_from_the_environment_never_gets_the_saved_key_of_another_api(monkeypatch) -> None:
    save_profile("default", "https://api.example/Prod", "prod-key", "acme")
    monkeypatch.setenv("MLHOOKS_URL", "https://elsewhere.example")
    with pytest.raises(NotConfigured, match=r"No API key for https://elsewhere\.example"):
        resolve()
    monkeypatch.setenv("MLHOOKS_URL", "https://api.example/Prod/")
    found = resolve()  # the same API: its saved key
    assert found.key == "prod-key" and found.origin.startswith("URL from the environment, key from profile")
