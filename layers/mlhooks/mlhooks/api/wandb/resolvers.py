"""What W&B's GraphQL root fields answer: the Query and Mutation of one request, for one caller.

Every look-up and write goes through the services the REST API uses, with the same roles: reading
needs a key of the entity, writing automations MEMBER, creating webhooks ADMIN. Another entity does
not exist for the caller (`entity(name: "other")` is "No entity other", as for a name nobody has),
as over REST. The objects answered are built in nodes.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from mlhooks import bounded_json
from mlhooks.access import require
from mlhooks.api.errors import validation_failed
from mlhooks.api.wandb import ids
from mlhooks.api.wandb.ids import Kind
from mlhooks.api.wandb.nodes import Nodes
from mlhooks.api.wandb.triggers import spec_fields, wandb_event, wire_field
from mlhooks.errors import Conflict, InvalidInput, MlhooksError, NotFound
from mlhooks.models.api.integrations import WebhookCreate
from mlhooks.models.automation import AutomationSpec, WebhookAction
from mlhooks.models.vocabulary import Role

# The server features the SDK asks for (`ServerFeaturesQuery`) that mlhooks has. Left out, so
# read as off: ARIA actions, push notifications, registry search (`api.registries()`), and
# automations on users and organizations.
FEATURES = (
    "QUERY_AUTOMATIONS_ON_ENTITY",
    "AUTOMATION_SCOPE_ENTITY",
    "AUTOMATION_EVENT_RUN_METRIC",
    "AUTOMATION_EVENT_RUN_METRIC_CHANGE",
    "AUTOMATION_EVENT_RUN_METRIC_ZSCORE",
    "AUTOMATION_EVENT_RUN_STATE",
    "AUTOMATION_EVENT_ADD_ARTIFACT_TAG",
    "AUTOMATION_EVENT_REMOVE_ARTIFACT_TAG",
    "AUTOMATION_EVENT_ADD_COLLECTION_TAG",
    "AUTOMATION_EVENT_REMOVE_COLLECTION_TAG",
    "AUTOMATION_EVENT_UNLINK_ARTIFACT",
    "AUTOMATION_ACTION_NO_OP",
    "AUTOMATION_LAST_EXECUTED_AT",
)


def _validated(fields: dict[str, Any]) -> AutomationSpec:
    try:
        return AutomationSpec.model_validate(fields)
    except ValidationError as exc:
        raise validation_failed(list(exc.errors())) from None


class Root(Nodes):
    """The Query and Mutation roots for one request (graphql-core's `root_value`)."""

    # ---- Query ----------------------------------------------------------------------------------

    def viewer(self, _info: Any) -> dict[str, Any]:
        return self.viewer_node()

    def serverInfo(self, _info: Any) -> dict[str, Any]:
        return {"features": [{"name": name, "isEnabled": True} for name in FEATURES]}

    def entity(self, _info: Any, name: str | None = None) -> dict[str, Any] | None:
        if name not in (None, self.entity_name):
            # As over REST: another entity's name and one that does not exist answer alike.
            raise NotFound(f"No entity {name} for this API key (its entity is {self.entity_name}).")
        return self.entity_node()

    def project(self, _info: Any, name: str | None = None, entityName: str | None = None) -> Any:
        if entityName not in (None, self.entity_name) or name is None:
            return None
        return self.project_node(name)

    def organization(self, _info: Any, name: str | None = None) -> dict[str, Any] | None:
        # An entity is its own organization: W&B's registries live in the organization's entity,
        # mlhooks' in the entity itself.
        return self.organization_node() if name in (None, self.entity_name) else None

    # ---- Mutation -------------------------------------------------------------------------------

    def createFilterTrigger(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        require(self.caller, self.entity_name, Role.MEMBER)
        spec = _validated(spec_fields(input, self.entity_name))
        _refuse_unsayable(spec)
        self._refuse_taken_name(spec.name)
        record = self.automations.create(self.entity_name, spec, self.caller.member)
        return {"trigger": self.trigger_node(record)}

    def updateFilterTrigger(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        require(self.caller, self.entity_name, Role.MEMBER)
        _, [automation_id] = ids.decode(input["id"], self.entity_name, (Kind.TRIGGER,), "id")
        changes = spec_fields(input, self.entity_name)
        old = self.automations.get(self.entity_name, automation_id)
        if self.trigger_node(old) is None:
            raise InvalidInput(
                f"{old.name} does what W&B's API cannot say (see the README's differences); "
                "change it over REST.",
                field="id",
            )
        saved = old.model_dump(include=set(AutomationSpec.model_fields), by_alias=True)
        merged = _validated({**saved, **changes})
        _refuse_unsayable(merged)
        self._refuse_taken_name(merged.name, old.id)
        record = self.automations.update(self.entity_name, automation_id, changes, old.version)
        return {"trigger": self.trigger_node(record)}

    def _refuse_taken_name(self, name: str, own: str | None = None) -> None:
        """W&B finds an automation by its name in the entity (`api.automation(name, entity)`), so its
        names are unique there; mlhooks' REST API only asks for that within a scope."""
        named, _ = self.automations.list(self.entity_name, name=name, limit=None)
        if any(other.id != own for other in named):
            raise Conflict(f"An automation named {name} exists in this entity.", field="name")

    def deleteTrigger(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        require(self.caller, self.entity_name, Role.MEMBER)
        _, [automation_id] = ids.decode(input["triggerID"], self.entity_name, (Kind.TRIGGER,), "triggerID")
        self.automations.delete(self.entity_name, automation_id)
        return {"success": True}

    def createGenericWebhookIntegration(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        require(self.caller, input["entityName"], Role.ADMIN)
        fields = {
            "name": input["name"],
            "url": input["urlEndpoint"],
            # W&B names the secrets a webhook uses by reference, as mlhooks does by name.
            "signing_secret": input.get("secretRef"),
            "access_token_secret": input.get("accessTokenRef"),
        }
        try:
            body = WebhookCreate.model_validate(fields)
            record = self.webhooks.create(self.entity_name, body.model_dump())
        except ValidationError as exc:
            raise _in_webhook_terms(validation_failed(list(exc.errors()))) from None
        except MlhooksError as error:
            raise _in_webhook_terms(error) from None
        return {"integration": self._webhook_node(record)}


# A webhook's fields in W&B's terms (CreateGenericWebhookIntegrationInput).
_WEBHOOK_FIELDS = {
    "url": "urlEndpoint",
    "signing_secret": "secretRef",
    "access_token_secret": "accessTokenRef",
}


def _in_webhook_terms(error: MlhooksError) -> MlhooksError:
    if error.field in _WEBHOOK_FIELDS:
        error.field = _WEBHOOK_FIELDS[error.field]
    return error


def _refuse_unsayable(spec: AutomationSpec) -> None:
    """What W&B's form cannot say is refused when saved over W&B's API: the SDK could not read the
    automation back (its lists would leave it out, or fail on it)."""
    action = spec.action
    if isinstance(action, WebhookAction):
        payload = action.payload
        if isinstance(payload, str):
            try:
                payload = bounded_json.loads(payload)
            except bounded_json.JsonRefused:
                return  # the automation service says what is wrong with it
        if not isinstance(payload, dict):
            raise InvalidInput(
                "requestPayload is a JSON object on W&B's API.",
                field="triggeredActionConfig.genericWebhookActionInput.requestPayload",
            )
    if wandb_event(spec.event) is None:
        raise InvalidInput(
            "W&B's form cannot say this condition (crashed runs without failed ones, or $and / $or "
            "over thresholds); make it over REST.",
            field="eventFilter",
        )


def describe_error(error: Exception) -> MlhooksError | None:
    """The domain error behind a field's failure, with its field in W&B's terms; None for a bug."""
    if isinstance(error, MlhooksError):
        error.field = wire_field(error.field)
        return error
    return None
