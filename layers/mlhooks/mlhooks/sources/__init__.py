"""Sources: platforms (MLflow, W&B, SageMaker) whose events become mlhooks' events.

An entity's admin registers a source; the platform then delivers to it. Each delivery is verified
(the kind's module), translated into mlhooks' events, validated with the models the matcher reads
them with, deduplicated (platforms deliver more than once: an event id a source published within
`source_dedupe_seconds` is not published again), published on the bus as `mlhooks.sources` with the
source as publisher, and recorded, whatever became of it, for `source_retention_seconds`.
Nothing a source refuses reaches the bus.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from mlhooks import bounded_json
from mlhooks.access import Caller
from mlhooks.clock import now_iso
from mlhooks.components import Components
from mlhooks.errors import BusUnavailable, Forbidden, InvalidInput, MlhooksError, NotFound
from mlhooks.models.events import DETAIL_TYPES, SOURCES_SOURCE, EventDetail, Publisher
from mlhooks.models.sources import (
    HTTP_KINDS,
    DeliveredEvent,
    Outcome,
    SourceDeliveryRecord,
    SourceKind,
    SourceRecord,
    SourceSpec,
)
from mlhooks.redaction import Redactor
from mlhooks.sources import mlflow, sagemaker, wandb
from mlhooks.sources.base import Delivery, Translation, Unreadable, Unverified

logger = Logger(service="mlhooks-sources")
# A delivery that does not verify against the cached secrets is checked again against values read
# anew, at most once this often per source in a container: a rotation is taken at once, and forged
# deliveries cost Secrets Manager one read per source per this long.
RECHECK_SECONDS = 5.0
_rechecked: dict[tuple[str, str], float] = {}  # (entity, source log key) -> when
MAX_RECHECKED = 10_000
# How long a source remembers the last state it saw of something (a package's approval).
STATE_SECONDS = 400 * 24 * 60 * 60

# The MLflow events that become mlhooks events: what a webhook for mlhooks subscribes to.
MLFLOW_EVENTS = sorted(
    f"{entity}.{action}" for entity, action in {*mlflow.ARTIFACT_EVENTS, *mlflow.COLLECTION_EVENTS}
)


def inbound_path(entity: str, name: str) -> str:
    return f"/v1/inbound/{entity}/{name}"


def setup(record: SourceRecord, base_url: str, sagemaker_enabled: bool) -> tuple[str | None, dict[str, Any]]:
    """Where the platform delivers (MLflow, W&B) and what to set up on its side."""
    if record.kind is SourceKind.SAGEMAKER:
        return None, {
            "eventbridge_rule": {
                "bus": "default",
                "source": sagemaker.SOURCE,
                "detail_types": list(sagemaker.DETAIL_TYPES),
                "account": record.account,
                "region": record.region,
                "enabled": sagemaker_enabled,
                "enable_with": "sam deploy --parameter-overrides SageMakerEvents=ENABLED",
            }
        }
    url = base_url.rstrip("/") + inbound_path(record.entity, record.name)
    if record.kind is SourceKind.MLFLOW:
        return url, {
            "mlflow_webhook": {
                "url": url,
                "events": MLFLOW_EVENTS,
                "secret": f"the value of the secret {record.signing_secret}",
                "python": (
                    "from mlflow import MlflowClient\n"
                    f'MlflowClient().create_webhook(name="mlhooks", url="{url}",\n'
                    f"    events={MLFLOW_EVENTS!r},\n"
                    f"    secret=<the value of {record.signing_secret}>)"
                ),
            }
        }
    return url, {
        "wandb_webhook": {
            "url": url,
            "secret": record.signing_secret,
            "access_token": record.access_token_secret,
        },
        "payload_templates": wandb.payload_templates(),
    }


class SourceService:
    def __init__(self, components: Components, clock: Callable[[], float] = time.time):
        self.store = components.store
        self.vault = components.vault
        self.events = components.events
        self.settings = components.settings
        self.clock = clock

    # ---- managing sources ----------------------------------------------------------------------

    def _may_take_sagemaker(self, entity: str) -> bool:
        allowed = self.settings.sagemaker_entities
        return "*" in allowed or entity in allowed

    def create(self, caller: Caller, entity: str, spec: SourceSpec) -> SourceRecord:
        allowed = self.settings.sagemaker_entities
        if spec.kind is SourceKind.SAGEMAKER and not self._may_take_sagemaker(entity):
            raise Forbidden(
                "SageMaker's events are the AWS account's, not one team's: this stack lets "
                f"{'no entity' if not allowed else 'other entities'} register SageMaker sources. "
                "The operator names the entities that may in the stack's SageMakerEntities parameter.",
                field="kind",
            )
        record = SourceRecord(
            **spec.model_dump(), entity=entity, created_at=now_iso(), created_by=caller.member
        )
        if record.signing_secret and record.access_token_secret:
            self._check_two_values(entity, record.signing_secret, record.access_token_secret)
        self.store.create_source(record)
        return record

    def _check_two_values(self, entity: str, signing: str, token: str) -> None:
        """W&B sends the access token in plain text: were it the signing key, whoever saw it could
        sign. (A secret that does not exist is reported by the create itself.)"""
        try:
            values = self.vault.read_many(entity, {signing, token})
        except NotFound:
            return
        if values[signing] == values[token]:
            raise InvalidInput(
                "The access token and the signing secret hold the same value: W&B sends the token in "
                "plain text, and whoever sees it could sign. Give the source two different secrets.",
                field="access_token_secret",
            )

    def get(self, entity: str, name: str) -> SourceRecord:
        record = self.store.get_source(entity, name)
        if record is None:
            raise NotFound(f"No source {name}.")
        return record

    def list(self, entity: str, limit: int, token: str | None) -> tuple[list[SourceRecord], str | None]:
        return self.store.list_sources(entity, limit, token)

    def delete(self, entity: str, name: str) -> None:
        self.store.delete_source(self.get(entity, name))

    def deliveries(
        self, entity: str, name: str, limit: int, token: str | None, outcome: Outcome | None = None
    ) -> tuple[list[SourceDeliveryRecord], str | None]:
        source = self.get(entity, name)
        return self.store.list_deliveries(entity, source.log_key, int(self.clock()), limit, token, outcome)

    # ---- receiving -----------------------------------------------------------------------------

    def receive_http(self, entity: str, name: str, delivery: Delivery) -> SourceDeliveryRecord:
        """A delivery to a source's inbound URL: recorded whatever its outcome; a refused one raises
        (after it is recorded) with the error the platform is answered."""
        source = self.store.get_source(entity, name)
        if source is None or source.kind not in HTTP_KINDS:
            raise NotFound(f"No source {name} takes deliveries here.", field="source")
        return self._receive(source, lambda record: self._translate_http(source, delivery, record))

    def receive_event(self, event: dict[str, Any]) -> SourceDeliveryRecord | None:
        """An event from the default bus (SageMaker), for the source of its account and region."""
        found = sagemaker.origin(event) if event.get("source") == sagemaker.SOURCE else None
        source = None if found is None else self.store.sagemaker_source(*found)
        if source is None:
            logger.info("no source takes this event", extra={"origin": found})
            return None
        if not self._may_take_sagemaker(source.entity):
            logger.warning("the operator no longer lets this entity take SageMaker's events")
            return None

        def translate(record: SourceDeliveryRecord) -> Translation:
            record.platform_event = str(event.get("detail-type"))[:100]
            record.platform_delivery_id = str(event.get("id"))[:100]
            return sagemaker.translate(event, source)

        try:
            return self._receive(source, translate)
        except Unreadable:
            return None  # recorded; EventBridge retrying it would not make it readable

    def _secret_values(self, source: SourceRecord, *, fresh: bool = False) -> dict[str, str]:
        max_age = self.settings.secret_cache_seconds
        try:
            return self.vault.read_cached(source.entity, source.secret_names(), max_age, fresh=fresh)
        except NotFound:
            # Told to the admin through the delivery log, not the secret's name to whoever posts.
            raise Unverified(
                "This source cannot verify deliveries: a secret it names has no value (an admin rotates it)."
            ) from None

    def _verify(self, source: SourceRecord, delivery: Delivery, values: dict[str, str]) -> str:
        if source.kind is SourceKind.MLFLOW:
            assert source.signing_secret
            return mlflow.verify(
                delivery, values[source.signing_secret], self.clock(), self.settings.source_tolerance_seconds
            )
        return wandb.verify(
            delivery, values.get(source.signing_secret or ""), values.get(source.access_token_secret or "")
        )

    def _translate_http(
        self, source: SourceRecord, delivery: Delivery, record: SourceDeliveryRecord
    ) -> Translation:
        values = self._secret_values(source)
        try:
            record.platform_delivery_id = self._verify(source, delivery, values)
        except Unverified:
            # Perhaps rotated since this container cached it: read it again before refusing.
            which = (source.entity, source.log_key)
            if self.clock() - _rechecked.get(which, float("-inf")) < RECHECK_SECONDS:
                raise
            if len(_rechecked) >= MAX_RECHECKED:
                _rechecked.clear()  # crude, bounded: forgetting only allows one more read
            _rechecked[which] = self.clock()
            fresh = self._secret_values(source, fresh=True)
            if fresh == values:
                raise
            record.platform_delivery_id = self._verify(source, delivery, fresh)
            values = fresh
        try:
            payload = bounded_json.loads(delivery.body.decode("utf-8"))
        except (bounded_json.JsonRefused, UnicodeDecodeError) as refused:
            raise Unreadable(f"The body is not usable JSON: {refused}", field="body") from None
        # As sent and as read (JSON's \u escapes spell any text): a secret in either is not kept.
        redactor = Redactor(values.values())
        for text in (delivery.body.decode("utf-8"), json.dumps(payload, ensure_ascii=False)):
            if redactor.redact(text) != text:
                raise Unreadable(
                    "The body carries a secret this source names (a payload with ${ACCESS_TOKEN}?): "
                    "nothing of it is kept. Take the secret out of the platform's payload.",
                    field="body",
                )
        if source.kind is SourceKind.MLFLOW:
            record.platform_event = mlflow.event_name(payload)
            return mlflow.translate(payload, source, record.platform_delivery_id)
        record.platform_event = wandb.event_name(payload)
        return wandb.translate(payload, source, record.platform_delivery_id)

    def _receive(
        self, source: SourceRecord, translate: Callable[[SourceDeliveryRecord], Translation]
    ) -> SourceDeliveryRecord:
        now = self.clock()
        record = SourceDeliveryRecord(
            entity=source.entity,
            source=source.name,
            id="dl_" + uuid.uuid4().hex[:20],
            received_at=now_iso(),
            outcome=Outcome.REJECTED,
        )
        try:
            translation = self._translated(translate, record)
            if translation.ignored:
                record.outcome, record.reason = Outcome.IGNORED, translation.ignored
            else:
                events = self._validated(source, translation)
                record.events = self._publish(source, events, translation)
                published = any(e.published for e in record.events)
                record.outcome = Outcome.ACCEPTED if published else Outcome.DUPLICATE
        except MlhooksError as error:
            record.reason = error.message
            # Anyone can post to an inbound URL: what was not verified is kept for a shorter while.
            keep = (
                self.settings.source_unverified_retention_seconds if isinstance(error, Unverified) else None
            )
            self._save(source, record, now, keep)
            raise
        self._save(source, record, now)
        logger.info(
            "source delivery",
            extra={
                "source": source.name,
                "outcome": record.outcome.value,
                "platform_event": record.platform_event,
            },
        )
        return record

    @staticmethod
    def _translated(
        translate: Callable[[SourceDeliveryRecord], Translation], record: SourceDeliveryRecord
    ) -> Translation:
        """A platform's JSON can hold any type anywhere: what a translator did not foresee is the
        delivery's fault (422, recorded), never a 500 that the platform would retry."""
        try:
            return translate(record)
        except MlhooksError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, OSError):
            logger.exception("a delivery the translator did not foresee")
            raise Unreadable(
                "The delivery is not what the platform sends (a field of an unexpected type).", field="body"
            ) from None

    def _save(
        self, source: SourceRecord, record: SourceDeliveryRecord, now: float, keep: float | None = None
    ) -> None:
        keep = self.settings.source_retention_seconds if keep is None else keep
        self.store.save_delivery(source.log_key, record, int(now + keep))

    def _validated(self, source: SourceRecord, translation: Translation) -> list[tuple[str, EventDetail]]:
        """The translation's events as the matcher will read them; any problem refuses them all."""
        publisher = Publisher(via="source", source=source.name).model_dump()
        events, problems = [], []
        for detail_type, detail in translation.events:
            try:
                model = DETAIL_TYPES[detail_type]
                events.append(
                    (
                        detail_type,
                        model.model_validate({**detail, "entity": source.entity, "publisher": publisher}),
                    )
                )
            except ValidationError as exc:
                problems += [
                    {
                        "field": ".".join([detail_type, *(str(p) for p in error["loc"])]),
                        "message": str(error["msg"]).removeprefix("Value error, "),
                    }
                    for error in exc.errors(include_input=False)
                ]
        if problems:
            first = problems[0]
            raise Unreadable(
                f"The delivery does not make a valid mlhooks event: {first['field']}: {first['message']}.",
                field=first["field"],
                details=problems,
            )
        return events

    def _publish(
        self, source: SourceRecord, events: list[tuple[str, EventDetail]], translation: Translation
    ) -> list[DeliveredEvent]:
        """Publish what this source has not published before (and the event that stands for a new
        state only if it is new); a failure forgets the claims and puts the state back, so the
        platform's retry publishes them."""
        now = int(self.clock())
        window = self.settings.source_dedupe_seconds
        if source.kind is SourceKind.WANDB:
            window = min(window, self.settings.wandb_dedupe_seconds)
        expires = now + int(window)
        # Each state first: an event standing for one is published only if it is new.
        written, stale = [], set()
        for state in translation.states:
            answer = self.store.change_source_state(
                source.entity, source.log_key, state.what, state.value, state.as_of, now + STATE_SECONDS
            )
            if answer is not None:
                written.append((state.what, answer[1]))
            if (answer is None or not answer[0]) and state.event is not None:
                stale.add(state.event)
        delivered, entries, claimed = [], [], []
        for index, (detail_type, detail) in enumerate(events):
            key = translation.dedupe.get(index, detail.event_id)
            fresh = index not in stale and self.store.claim_event(
                source.entity, source.log_key, key, now, expires
            )
            delivered.append(DeliveredEvent.of(detail_type, detail, published=fresh))
            if fresh:
                claimed.append(key)
                entries.append(
                    {
                        "Source": SOURCES_SOURCE,
                        "DetailType": detail_type,
                        "Detail": detail.model_dump_json(),
                        "EventBusName": self.settings.event_bus_name,
                    }
                )
        failed = False
        if entries:
            try:
                failed = bool(self.events.put_events(Entries=entries).get("FailedEntryCount"))
            except Exception:
                logger.exception("publishing a source's events failed")
                failed = True
        if failed:
            for key in claimed:
                self.store.release_event(source.entity, source.log_key, key)
            for what, before in written:
                self.store.restore_source_state(source.entity, source.log_key, what, before)
            raise BusUnavailable(
                "The event bus refused the events; deliver again (nothing was published twice)."
            )
        return delivered
