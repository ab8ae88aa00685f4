"""HTTP to an mlhooks API: the key in every request, answers parsed into the API's own models, and
every refusal raised as one `ApiError` carrying the API's code, message and field."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import requests
from pydantic import BaseModel, TypeAdapter

from mlhooks import __version__
from mlhooks.models.base import STORED

USER_AGENT = f"mlhooks-client/{__version__}"


class ApiError(Exception):
    """The API refused a request (`status` 4xx/5xx with its error body), or could not be reached
    (`status` None, code `unreachable`)."""

    def __init__(
        self,
        status: int | None,
        code: str,
        message: str,
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ):
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details or []
        where = f" (field {field})" if field else ""
        super().__init__(f"{status} {code}: {message}{where}" if status else f"{code}: {message}")

    @classmethod
    def of(cls, response: requests.Response) -> ApiError:
        try:
            error = response.json()["error"]
            return cls(
                response.status_code,
                str(error.get("code") or "error"),
                str(error.get("message") or response.reason),
                error.get("field"),
                error.get("details"),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            # Not the API's error body: a proxy, or API Gateway's own answer.
            text = response.text[:300].strip() or response.reason
            return cls(response.status_code, "http_error", text)


def quote(segment: str) -> str:
    """One path segment: names may hold spaces and other characters (an automation's name)."""
    return urllib.parse.quote(segment, safe="")


class Transport:
    def __init__(self, url: str, key: str, *, timeout: float = 10.0, session: requests.Session | None = None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {key}", "User-Agent": USER_AGENT})

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """The answer's JSON (None for 204); ApiError for anything but 2xx."""
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        try:
            response = self.session.request(
                method,
                f"{self.url}{path}",
                json=json,
                params=query,
                timeout=timeout or self.timeout,
            )
        except requests.RequestException as exc:
            raise ApiError(None, "unreachable", f"Could not reach {self.url}: {type(exc).__name__}") from None
        if not response.ok:
            raise ApiError.of(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, "http_error", "The answer was not JSON.") from None

    def call[M: BaseModel](self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        """The answer, validated as the API's response model. Read tolerantly: a newer server's
        extra fields are dropped, as documents read from storage are."""
        return model.model_validate(self.request(method, path, **kwargs), context=STORED)

    def pages[M: BaseModel](
        self, model: type[M], path: str, params: dict[str, Any] | None = None, page_size: int = 50
    ) -> Iterator[M]:
        """Every item of a paged list, fetched a page at a time as the caller reads on."""
        adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
        token = None
        while True:
            page = self.request(
                "GET", path, params={**(params or {}), "limit": page_size, "next_token": token}
            )
            yield from adapter.validate_python(page["items"], context=STORED)
            token = page.get("next_token")
            if not token:
                return


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def body(value: BaseModel | dict[str, Any] | None) -> Any:
    """A request body: a model as the API reads it (fields left unset are left out, so a partial
    update changes only what was given), a dict as it is (the API checks it and says what is wrong)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return value
