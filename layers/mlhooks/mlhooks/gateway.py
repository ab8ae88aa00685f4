"""Where a request through API Gateway was sent: the URL prefix before the routes' own paths.

Light on purpose (no Powertools, no AWS SDK): the console's function uses it on every cold start.
"""

from __future__ import annotations

from typing import Any


def served_prefix(event: dict[str, Any]) -> str:
    """What comes before the API's own paths in the URL the client called: `/<stage>` on API
    Gateway's execute-api endpoint, a base path behind a custom domain, nothing locally
    (`sam local start-api` and `mlhooks dev` serve without a stage). API Gateway reports the full
    path in `requestContext.path` and the API's own in `path`."""
    full = (event.get("requestContext") or {}).get("path") or ""
    own = event.get("path") or ""
    return full[: -len(own)] if own and full.endswith(own) else ""


def base_url(event: dict[str, Any]) -> str:
    """The URL the client called the API at, up to the API's own paths: what links to the API's
    other doors (a source's inbound URL) start with. API Gateway sets X-Forwarded-Proto."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    scheme = headers.get("x-forwarded-proto") or "http"
    host = headers.get("host") or (event.get("requestContext") or {}).get("domainName") or "localhost"
    return f"{scheme}://{host}{served_prefix(event)}"
