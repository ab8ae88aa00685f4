"""W&B's GraphQL API, for the `wandb` SDK: `POST /graphql`.

`wandb.Api(api_key=KEY, overrides={"base_url": URL})` sends every call here (through its
`wandb-core` sidecar) with `Authorization: Basic base64("api:" + KEY)`, which the authorizer
accepts like a bearer key. The schema is the subset of W&B's that the SDK's automation calls use
(schema.py), answered from mlhooks' services (resolvers.py) with the REST API's keys, roles and
entity isolation. What mlhooks does not serve is refused by name, never answered with a guess.

Statuses follow the SDK, which reads two of them: 409 when an automation's name is taken
(`create_automation`) and 404 when the automation to update is gone (`update_automation`). Any
other failure answers 200 with GraphQL `errors` (code and field in `extensions`), which the SDK
shows to the user as they are.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from mlhooks.api.context import caller_for, request_json

router = Router()


@router.post("/graphql", include_in_schema=False)
def graphql():  # no annotations: Powertools neither parses nor validates what GraphQL reads itself
    caller = caller_for(None)
    # Here, not at the top: graphql-core's import (about 0.2 s) is paid by the first GraphQL call,
    # never by a cold start that serves REST.
    from mlhooks.api.wandb.engine import answer

    return answer(caller, request_json())
