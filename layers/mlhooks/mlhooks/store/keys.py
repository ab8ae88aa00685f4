"""The table's layout: every key mlhooks writes or reads, built here and nowhere else.

One table, `PAY_PER_REQUEST`, keyed `PK` / `SK`, with three global secondary indexes. Most items live
in their entity's partition, so that nothing of one entity is ever read under another's key.

    PK                              SK                          item
    E#<entity>                      #ENTITY                     the entity, with `admin_count`
    E#<entity>                      #AUTOMATIONS                `revision` of its automations and
                                                                `changed_at` (the matcher's cache)
    E#<entity>                      MEMBER#<username>           a member and role
    E#<entity>                      APIKEY#<key id>             key metadata (never the key)
    KEY#<sha256 of the key>         KEY                         hash -> key, the authorizer's one GetItem
    E#<entity>                      SECRET#<name>               name and timestamps (the value is in
                                                                Secrets Manager); `refs`, and `pending`
                                                                while a create or delete holds it
    E#<entity>                      WEBHOOK#<name>              a webhook, `refs`, `revision`, `users`
                                                                and its health (failures, failing_since,
                                                                last_failure_at, last_error, alert)
    E#<entity>                      SLACK#<name>                a Slack integration, `refs`
    E#<entity>                      SLACKOAUTH#<sha256>         a "Connect Slack" in progress: the
                                                                state's hash, never the state (TTL)
    E#<entity>                      RUNQUEUE#<name>             a run queue, `refs`
    QUEUE#<account>/<queue name>    OWNER                       which entity registered that SQS queue
    E#<entity>                      SOURCE#<name>               a source (MLflow, W&B, SageMaker)
    E#<entity>                      SRCDLV#<log>#<time>#<id>    one delivery from a source (TTL); <log>
                                                                is `<name>#<created_at>`, so a source
                                                                made again under a name starts afresh
    E#<entity>                      SRCSEEN#<log>#<sha256>      an event id a source published (TTL):
                                                                the same delivery again is a duplicate
    E#<entity>                      SRCSTATE#<log>#<sha256>     the last state a source saw of
                                                                something (a package's approval)
    SAGEMAKER#<account>#<region>    OWNER                       the entity and source SageMaker's
                                                                events of that account and region go to
    E#<entity>                      PROJECT#<project>           a project or registry
    E#<entity>                      COLLECTION#<project>#<name> an artifact collection
    E#<entity>                      AUTOMATION#<id>             an automation (with GSI1 keys while
                                                                enabled)
    E#<entity>                      AUTONAME#<scope>#<sha256>   uniqueness of an automation's name in
                                                                its scope (the case-folded name, hashed)
    E#<entity>                      EXEC#<execution id>         an execution (with GSI1-4 keys)
    RATE#<entity>#<automation id>   <minute>                    executions counted in one minute (TTL)
    RUNSTATE#<entity>#<automation>  RUN#<sha256>                a run condition's state for one run
                                                                (project, user, run id hashed; TTL)

    index  partition                                        sort                    what it lists
    GSI1   E#<entity>#EVENT#<event type>                    <scope>#<automation id> enabled automations
                                                                                    by event and scope
    GSI1   E#<entity>#AUTOEXEC#<automation id>              <created_at>#<exec id>  an automation's
                                                                                    executions
    GSI2   E#<entity>#EXECS                                 <created_at>#<exec id>  the entity's
    GSI3   E#<entity>#PROJECT#<project>#EXECS               <created_at>#<exec id>  a project's
    GSI4   E#<entity>#PROJECT#<project>#COLLECTION#<name>#EXECS <created_at>#<exec id> a collection's
                                                                                    (events about one)

Scopes (`<scope>` above) are `ENTITY`, `PROJECT#<project>` or `COLLECTION#<project>#<collection>`.
Names are restricted (models/names.py) so that no `#` or `/` reaches a key; the one free-text
part, an automation's name, is hashed. `expires_at` is the table's TTL attribute.
"""

from __future__ import annotations

import hashlib

Key = dict[str, str]

# Index names, as template.yaml declares them; what each holds is in the table above.
AUTOMATIONS_AND_EXECUTIONS_INDEX = "GSI1"
ENTITY_EXECUTIONS_INDEX = "GSI2"
PROJECT_EXECUTIONS_INDEX = "GSI3"
COLLECTION_EXECUTIONS_INDEX = "GSI4"

ENTITY_SK = "#ENTITY"
AUTOMATIONS_SK = "#AUTOMATIONS"


def entity_pk(entity: str) -> str:
    return f"E#{entity}"


def item(entity: str, sk: str) -> Key:
    """The key of an item in the entity's partition."""
    return {"PK": entity_pk(entity), "SK": sk}


# ---- sort keys in an entity's partition, and the prefixes that list them ----------

MEMBERS = "MEMBER#"
API_KEYS = "APIKEY#"
SECRETS = "SECRET#"
WEBHOOKS = "WEBHOOK#"
SLACK = "SLACK#"
RUN_QUEUES = "RUNQUEUE#"
SOURCES = "SOURCE#"
PROJECTS = "PROJECT#"
AUTOMATIONS = "AUTOMATION#"
EXECUTIONS = "EXEC#"


def member(username: str) -> str:
    return f"{MEMBERS}{username}"


def api_key(key_id: str) -> str:
    return f"{API_KEYS}{key_id}"


def secret(name: str) -> str:
    return f"{SECRETS}{name}"


def webhook(name: str) -> str:
    return f"{WEBHOOKS}{name}"


def slack(name: str) -> str:
    return f"{SLACK}{name}"


def slack_oauth(state: str) -> str:
    # Hashed: the state is a bearer token for completing the install; the table never holds it.
    return f"SLACKOAUTH#{hashlib.sha256(state.encode()).hexdigest()}"


def run_queue(name: str) -> str:
    return f"{RUN_QUEUES}{name}"


def source(name: str) -> str:
    return f"{SOURCES}{name}"


def source_deliveries(source: str) -> str:
    return f"SRCDLV#{source}#"


def source_delivery(source: str, received_at: str, delivery_id: str) -> str:
    return f"{source_deliveries(source)}{received_at}#{delivery_id}"


def source_seen(source: str, event_id: str) -> str:
    # Hashed: event ids are the platform's text.
    return f"SRCSEEN#{source}#{hashlib.sha256(event_id.encode()).hexdigest()}"


def source_state(source: str, what: str) -> str:
    return f"SRCSTATE#{source}#{hashlib.sha256(what.encode()).hexdigest()}"


def integration(kind: str, name: str) -> str:
    """An item that automations or webhooks reference by (kind, name), `refs` counted."""
    return {"SECRET": secret, "WEBHOOK": webhook, "SLACK": slack, "RUNQUEUE": run_queue}[kind](name)


def project(name: str) -> str:
    return f"{PROJECTS}{name}"


def collections(project: str) -> str:
    return f"COLLECTION#{project}#"


def collection(project: str, name: str) -> str:
    return f"{collections(project)}{name}"


def automation(automation_id: str) -> str:
    return f"{AUTOMATIONS}{automation_id}"


def automation_name(scope: str, name: str) -> str:
    # Hashed: `casefold()` can triple a name's length (ΐ), and a sort key holds at most 1,024 bytes.
    folded = hashlib.sha256(name.casefold().encode("utf-8")).hexdigest()
    return f"AUTONAME#{scope}#{folded}"


def execution(execution_id: str) -> str:
    return f"{EXECUTIONS}{execution_id}"


# ---- scopes ----------

ENTITY_SCOPE = "ENTITY"


def project_scope(project: str) -> str:
    return f"PROJECT#{project}"


def collection_scope(project: str, collection: str) -> str:
    return f"COLLECTION#{project}#{collection}"


def scopes_of_event(project: str, collection: str | None) -> list[str]:
    """The scopes an event in a project (and collection) falls in, broadest first."""
    scopes = [ENTITY_SCOPE, project_scope(project)]
    if collection:
        scopes.append(collection_scope(project, collection))
    return scopes


# ---- keys outside an entity's partition ----------


def key_hash(digest: str) -> Key:
    return {"PK": f"KEY#{digest}", "SK": "KEY"}


def queue_owner(queue: str) -> Key:
    """`queue` is `<account>/<queue name>`, whatever URL spelling named it."""
    return {"PK": f"QUEUE#{queue}", "SK": "OWNER"}


def sagemaker_owner(account: str, region: str) -> Key:
    return {"PK": f"SAGEMAKER#{account}#{region}", "SK": "OWNER"}


def rate_window(entity: str, automation_id: str, minute: str) -> Key:
    return {"PK": f"RATE#{entity}#{automation_id}", "SK": minute}


def run(project: str, user: str, run_id: str) -> str:
    """A run as its conditions' state knows it: its project, its user and its id, so that runs of one
    id in two projects, or a run id another user picks, never share (or spoil) one state. Hashed:
    run ids and users are free text."""
    return hashlib.sha256(f"{project}\n{user}\n{run_id}".encode()).hexdigest()


def run_state(entity: str, automation_id: str, run_key: str) -> Key:
    return {"PK": f"RUNSTATE#{entity}#{automation_id}", "SK": f"RUN#{run_key}"}


def run_state_automation(pk: str) -> str:
    """The automation id in a run state's partition key (the inverse of `run_state`)."""
    return pk.rsplit("#", 1)[1]


# ---- index keys ----------


def enabled_automations(entity: str, event_type: str) -> str:
    """GSI1's partition of the enabled automations of one event type (a sparse index: only enabled
    automations carry these keys)."""
    return f"E#{entity}#EVENT#{event_type}"


def enabled_automation_keys(entity: str, event_type: str, scope: str, automation_id: str) -> dict[str, str]:
    return {"GSI1PK": enabled_automations(entity, event_type), "GSI1SK": f"{scope}#{automation_id}"}


def in_scope(scope: str) -> str:
    """The GSI1 sort-key prefix of the automations of one scope."""
    return f"{scope}#"


def automation_executions(entity: str, automation_id: str) -> str:
    return f"E#{entity}#AUTOEXEC#{automation_id}"


def entity_executions(entity: str) -> str:
    return f"E#{entity}#EXECS"


def project_executions(entity: str, project: str) -> str:
    return f"E#{entity}#PROJECT#{project}#EXECS"


def collection_executions(entity: str, project: str, collection: str) -> str:
    return f"E#{entity}#PROJECT#{project}#COLLECTION#{collection}#EXECS"


def execution_index_keys(
    entity: str,
    automation_id: str,
    project: str,
    created_at: str,
    execution_id: str,
    collection: str | None = None,
) -> dict[str, str]:
    """Newest-first listings of an execution: per automation (GSI1, whose partitions never collide
    with the automations' own), per entity (GSI2), per project (GSI3) and, for an event about a
    collection, per collection (GSI4)."""
    order = f"{created_at}#{execution_id}"
    keys = {
        "GSI1PK": automation_executions(entity, automation_id),
        "GSI1SK": order,
        "GSI2PK": entity_executions(entity),
        "GSI2SK": order,
        "GSI3PK": project_executions(entity, project),
        "GSI3SK": order,
    }
    if collection is not None:
        keys |= {"GSI4PK": collection_executions(entity, project, collection), "GSI4SK": order}
    return keys
