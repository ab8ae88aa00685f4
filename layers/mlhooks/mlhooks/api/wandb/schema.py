"""The part of W&B's GraphQL schema that the `wandb` SDK's automation calls use.

Type and field names are W&B's, because the SDK's documents name them and the SDK validates every
answer against its generated types. Only what those documents select is here; a document that asks
for anything else is refused by validation, which names the field (see `unsupported`). Fields a
W&B server has but mlhooks has no counterpart for (photos, storage, paid plans) answer constant,
documented values rather than being left out, so that the SDK's documents validate.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from graphql import GraphQLScalarType, GraphQLSchema, StringValueNode, ValueNode, build_schema

SDL = """
scalar DateTime
scalar JSONString
scalar JSON

type Query {
  viewer: User
  serverInfo: ServerInfo
  entity(name: String): Entity
  project(name: String, entityName: String): Project
  organization(name: String): Organization
}

type Mutation {
  createFilterTrigger(input: CreateFilterTriggerInput!): CreateFilterTriggerPayload
  updateFilterTrigger(input: UpdateFilterTriggerInput!): UpdateFilterTriggerPayload
  deleteTrigger(input: DeleteTriggerInput!): DeleteTriggerPayload
  createGenericWebhookIntegration(
    input: CreateGenericWebhookIntegrationInput!
  ): CreateGenericWebhookIntegrationPayload
}

type ServerInfo {
  features: [ServerFeature!]!
}

type ServerFeature {
  name: String!
  isEnabled: Boolean!
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
}

type User {
  id: ID!
  name: String!
  username: String
  email: String
  admin: Boolean
  flags: JSONString
  entity: String
  deletedAt: DateTime
  apiKeys: ApiKeyConnection
  teams: EntityConnection
  organizations: [Organization!]!
  projects(after: String, first: Int): ProjectConnection
}

type ProjectConnection {
  pageInfo: PageInfo!
  edges: [ProjectEdge!]!
}

type ProjectEdge {
  node: Project
}

type ApiKeyConnection {
  edges: [ApiKeyEdge!]!
}

type ApiKeyEdge {
  node: ApiKey
}

type ApiKey {
  id: ID!
  name: String!
  description: String
}

type EntityConnection {
  edges: [EntityEdge!]!
}

type EntityEdge {
  node: Entity
}

type Organization {
  id: ID!
  name: String!
  orgEntity: Entity
}

type Member {
  id: ID
  admin: Boolean
  pending: Boolean
  email: String
  username: String
  name: String!
  photoUrl: String
  accountType: String
  apiKey: String
}

type Entity {
  id: ID!
  name: String!
  entityType: String
  isTeam: Boolean!
  available: Boolean
  photoUrl: String
  readOnly: Boolean
  readOnlyAdmin: Boolean!
  privateOnly: Boolean!
  storageBytes: Int!
  codeSavingEnabled: Boolean!
  defaultAccess: String!
  isPaid: Boolean
  members: [Member!]!
  organization: Organization
  user: User
  project(name: String): Project
  integrations(after: String, first: Int): IntegrationConnection
  triggers(after: String, first: Int, order: String, filters: JSONString): TriggerConnection
  projects(after: String, first: Int): ProjectConnection
}

type ArtifactTypeConnection {
  edges: [ArtifactTypeEdge!]!
}

type ArtifactTypeEdge {
  node: ArtifactType
}

type ArtifactType {
  name: String!
  artifactCollection(name: String!): ArtifactCollection
}

type Project {
  id: ID!
  internalId: ID!
  name: String!
  entityName: String!
  entity: Entity!
  description: String
  createdAt: DateTime!
  updatedAt: DateTime
  isBenchmark: Boolean!
  user: User
  access: String
  allowAllArtifactTypesInRegistry: Boolean!
  artifactTypes(includeAll: Boolean): ArtifactTypeConnection!
  artifactType(name: String!): ArtifactType
  triggers: [Trigger!]!
}

type TagConnection {
  edges: [TagEdge!]!
}

type TagEdge {
  node: Tag!
}

type Tag {
  id: ID!
  name: String!
}

interface ArtifactCollection {
  id: ID!
  name: String!
  description: String
  createdAt: DateTime!
  updatedAt: DateTime
  project: Project
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
}

type ArtifactSequence implements ArtifactCollection {
  id: ID!
  name: String!
  description: String
  createdAt: DateTime!
  updatedAt: DateTime
  project: Project
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
}

type ArtifactPortfolio implements ArtifactCollection {
  id: ID!
  name: String!
  description: String
  createdAt: DateTime!
  updatedAt: DateTime
  project: Project
  defaultArtifactType: ArtifactType!
  tags: TagConnection!
}

interface Integration {
  id: ID!
}

type GenericWebhookIntegration implements Integration {
  id: ID!
  name: String!
  urlEndpoint: String!
  createdAt: DateTime!
}

type SlackIntegration implements Integration {
  id: ID!
  teamName: String!
  channelName: String!
  createdAt: DateTime!
}

type IntegrationConnection {
  pageInfo: PageInfo!
  edges: [IntegrationEdge!]!
}

type IntegrationEdge {
  node: Integration
}

union TriggerScope = Project | ArtifactSequence | ArtifactPortfolio | Entity

type FilterEventTriggeringCondition {
  eventType: EventTriggeringConditionType!
  filter: JSONString!
}

union TriggeringCondition = FilterEventTriggeringCondition

type RunQueue {
  id: ID!
  name: String!
}

type QueueJobTriggeredAction {
  queue: RunQueue
  template: JSONString!
}

type NotificationTriggeredAction {
  integration: Integration!
  title: String
  message: String
  severity: AlertSeverity
}

type GenericWebhookTriggeredAction {
  integration: Integration!
  requestPayload: JSONString
}

type NoOpTriggeredAction {
  noOp: Boolean
}

type ARIATriggeredAction {
  prompt: String
}

union TriggeredAction =
  | QueueJobTriggeredAction
  | NotificationTriggeredAction
  | GenericWebhookTriggeredAction
  | NoOpTriggeredAction
  | ARIATriggeredAction

type Trigger {
  id: ID!
  createdAt: DateTime!
  updatedAt: DateTime
  lastExecutedAt: DateTime
  name: String!
  description: String
  enabled: Boolean!
  scope: TriggerScope!
  triggeringCondition: TriggeringCondition!
  triggeredAction: TriggeredAction!
}

type TriggerConnection {
  pageInfo: PageInfo!
  edges: [TriggerEdge!]!
}

type TriggerEdge {
  node: Trigger!
}

enum AlertSeverity { ERROR INFO WARN }

enum EventTriggeringConditionType {
  ADD_ARTIFACT_ALIAS
  ADD_ARTIFACT_TAG
  ADD_COLLECTION_TAG
  CREATE_ARTIFACT
  LINK_MODEL
  REMOVE_ARTIFACT_TAG
  REMOVE_COLLECTION_TAG
  RUN_METRIC
  RUN_METRIC_CHANGE
  RUN_METRIC_ZSCORE
  RUN_STATE
  UNLINK_ARTIFACT
  UPDATE_ARTIFACT_ALIAS
  WEAVE_METRIC_THRESHOLD
}

enum TriggerScopeType { ARTIFACT_COLLECTION ENTITY PROJECT }

enum TriggeredActionType { ARIA GENERIC_WEBHOOK NOTIFICATION NO_OP PUSH_NOTIFICATION QUEUE_JOB }

input ARIAActionInput {
  prompt: String!
}

input GenericWebhookActionInput {
  integrationID: ID!
  requestPayload: JSONString
}

input NoOpTriggeredActionInput {
  noOp: Boolean
}

input NotificationActionInput {
  integrationID: ID!
  message: String
  severity: AlertSeverity
  title: String
}

input PushNotificationActionInput {
  body: String
  title: String
  userID: ID!
}

input QueueJobActionInput {
  queueID: ID!
  template: JSONString!
}

input TriggeredActionConfig {
  ariaActionInput: ARIAActionInput
  genericWebhookActionInput: GenericWebhookActionInput
  noOpActionInput: NoOpTriggeredActionInput
  notificationActionInput: NotificationActionInput
  pushNotificationActionInput: PushNotificationActionInput
  queueJobActionInput: QueueJobActionInput
}

input CreateFilterTriggerInput {
  clientMutationId: String
  description: String
  enabled: Boolean!
  eventFilter: JSONString!
  name: String!
  scopeID: ID!
  scopeType: TriggerScopeType!
  triggeredActionConfig: TriggeredActionConfig!
  triggeredActionType: TriggeredActionType!
  triggeringEventType: EventTriggeringConditionType!
}

input UpdateFilterTriggerInput {
  clientMutationId: String
  description: String
  enabled: Boolean
  eventFilter: JSONString
  id: ID!
  name: String
  scopeID: ID
  scopeType: TriggerScopeType
  triggeredActionConfig: TriggeredActionConfig
  triggeredActionType: TriggeredActionType
  triggeringEventType: EventTriggeringConditionType
}

input DeleteTriggerInput {
  clientMutationId: String
  triggerID: ID!
}

input CreateGenericWebhookIntegrationInput {
  accessTokenRef: String
  clientMutationId: String
  entityName: String!
  name: String!
  secretRef: String
  urlEndpoint: String!
}

type CreateFilterTriggerPayload {
  trigger: Trigger
  clientMutationId: String
}

type UpdateFilterTriggerPayload {
  trigger: Trigger
  clientMutationId: String
}

type DeleteTriggerPayload {
  success: Boolean!
  clientMutationId: String
}

type CreateGenericWebhookIntegrationPayload {
  integration: Integration!
  clientMutationId: String
}
"""


def _json_text(value: Any) -> str:
    # W&B's JSONString is JSON as text; an object where text belongs is the caller's mistake.
    if not isinstance(value, str):
        raise TypeError("JSONString takes JSON as text (a string), not a JSON value")
    return value


def _json_text_literal(node: ValueNode, *_: Any) -> str:
    if not isinstance(node, StringValueNode):
        raise TypeError("JSONString takes JSON as text (a string), not a JSON value")
    return node.value


@cache
def wandb_schema() -> GraphQLSchema:
    schema = build_schema(SDL)
    json_string = schema.type_map["JSONString"]
    assert isinstance(json_string, GraphQLScalarType)
    json_string.coerce_input_value = _json_text
    json_string.coerce_input_literal = _json_text_literal
    return schema
