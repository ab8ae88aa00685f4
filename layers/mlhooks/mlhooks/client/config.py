"""Where the client finds its API and key: what the caller passes, else the environment
(`MLHOOKS_URL`, `MLHOOKS_API_KEY`, `MLHOOKS_ENTITY`), else a profile saved by `mlhooks login`, else
the `make dev` running in this folder (its state file)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlhooks.client.transport import ApiError
from mlhooks.files import write_private

DEFAULT_PROFILE = "default"
DEV_STATE = Path(".mlhooks") / "dev.json"
ENV_URL, ENV_KEY, ENV_ENTITY, ENV_PROFILE = (
    "MLHOOKS_URL",
    "MLHOOKS_API_KEY",
    "MLHOOKS_ENTITY",
    "MLHOOKS_PROFILE",
)


class NotConfigured(ApiError):
    """No API to talk to: the message says how to name one."""

    def __init__(self, message: str):
        super().__init__(None, "not_configured", message)


@dataclass(frozen=True)
class Credentials:
    url: str
    key: str
    entity: str | None
    origin: str  # where they came from, for `mlhooks whoami` and error messages


def config_path() -> Path:
    if os.environ.get("MLHOOKS_CONFIG"):
        return Path(os.environ["MLHOOKS_CONFIG"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "mlhooks" / "config.json"


def read_profiles(path: Path | None = None) -> dict[str, dict[str, Any]]:
    path = path or config_path()
    if not path.is_file():
        return {}
    try:
        profiles = json.loads(path.read_text()).get("profiles", {})
    except (ValueError, AttributeError) as error:
        raise NotConfigured(
            f"{path} is not a saved mlhooks login ({error}); run `mlhooks login` again."
        ) from None
    return profiles if isinstance(profiles, dict) else {}


def save_profile(name: str, url: str, key: str, entity: str | None, path: Path | None = None) -> Path:
    """Saved readable by this user only: the file holds an API key."""
    path = path or config_path()
    profiles = read_profiles(path)
    profiles[name] = {"url": url, "key": key, "entity": entity}
    write_private(path, json.dumps({"profiles": profiles}, indent=2))
    return path


def remove_profile(name: str, path: Path | None = None) -> bool:
    path = path or config_path()
    profiles = read_profiles(path)
    if profiles.pop(name, None) is None:
        return False
    write_private(path, json.dumps({"profiles": profiles}, indent=2))
    return True


def dev_state(start: Path | None = None) -> dict[str, Any] | None:
    """The running `make dev`'s state file: MLHOOKS_DEV_STATE, else .mlhooks/dev.json here or above."""
    if os.environ.get("MLHOOKS_DEV_STATE"):
        candidates = [Path(os.environ["MLHOOKS_DEV_STATE"])]
    else:
        here = (start or Path.cwd()).resolve()
        candidates = [folder / DEV_STATE for folder in (here, *here.parents)]
    for path in candidates:
        if path.is_file():
            try:
                return json.loads(path.read_text())
            except ValueError:
                return None
    return None


def _dev() -> dict[str, Any] | None:
    state = dev_state()
    if state and state.get("api_url") and state.get("admin_key"):
        return {"url": state["api_url"], "key": state["admin_key"], "entity": state.get("entity")}
    return None


def resolve(
    url: str | None = None, key: str | None = None, entity: str | None = None, profile: str | None = None
) -> Credentials:
    """Each of url, key and entity from the first place that has it."""
    url_from = key_from = "arguments"
    if not url and os.environ.get(ENV_URL):
        url, url_from = os.environ[ENV_URL], "the environment"
    if not key and os.environ.get(ENV_KEY):
        key, key_from = os.environ[ENV_KEY], "the environment"
    entity = entity or os.environ.get(ENV_ENTITY)
    name = profile or os.environ.get(ENV_PROFILE) or DEFAULT_PROFILE
    saved = read_profiles().get(name)
    if profile and saved is None:
        raise NotConfigured(f"No saved login named {profile!r}; run `mlhooks login --profile {profile} URL`.")
    # A key goes only to the API it was saved for: a URL given without a key takes none from elsewhere.
    for where, place in (
        (f"profile {name} ({config_path()})", saved),
        ("the local runtime (make dev)", _dev()),
    ):
        if (url and key) or not place or (url and api_root(url) != api_root(place["url"])):
            continue
        if not url:
            url, url_from = place["url"], where
        if not key:
            key, key_from = place["key"], where
        entity = entity or place.get("entity")
    if url and not key:
        raise NotConfigured(f"No API key for {url}: set {ENV_KEY}, or `mlhooks login {url}`.")
    if not url or not key:
        raise NotConfigured(
            "No mlhooks API to talk to: run `mlhooks login URL` (the key is asked for), set "
            f"{ENV_URL} and {ENV_KEY}, or start `make dev` in this folder."
        )
    origin = f"URL from {url_from}, key from {key_from}"
    if url_from == key_from:
        origin = f"URL and key from {url_from}"
    return Credentials(url=api_root(url), key=key, entity=entity, origin=origin)


def api_root(url: str) -> str:
    """The API's root as the client joins paths to it: `https://<api>/Prod`, whatever of `/v1` (as
    `make dev` prints the API) or a trailing slash it was given with."""
    root = url.strip().rstrip("/").removesuffix("/v1")
    if not root.startswith(("http://", "https://")):
        raise NotConfigured(
            f"{url!r} is not a URL: give it whole, e.g. http://127.0.0.1:3000 or https://<api>/Prod."
        )
    return root
