"""Running one GraphQL request of the `wandb` SDK: parse, validate against W&B's schema, execute
with the caller's resolvers, and answer with the statuses the SDK reads (see the package's docs).

Imported when `/graphql` is first called, not with the API: graphql-core costs about 0.2 s to import,
which the REST API's cold starts need not pay.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLResolveInfo,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    default_field_resolver,
    execute,
    get_named_type,
    get_operation_ast,
    parse,
    validate,
)
from graphql.error import GraphQLSyntaxError

from mlhooks.access import Caller
from mlhooks.api.wandb.nodes import PAGE_DEFAULT, PAGE_MAX
from mlhooks.api.wandb.resolvers import Root, describe_error
from mlhooks.api.wandb.schema import wandb_schema

logger = Logger(service="mlhooks")

# The SDK's longest document (an automation with every fragment) is about 600 tokens; a bound on
# the parse keeps a hostile document from costing more than a few of those.
MAX_TOKENS = 5_000
# The statuses the SDK reads (see mlhooks.api.wandb); every other error is GraphQL's own 200.
SDK_STATUSES = (404, 409)


def _answer(body: dict[str, Any], status: int = 200) -> Response:
    return Response(status, "application/json", json.dumps(body))


def _error(message: str, code: str, field: str | None = None) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, "field": field}}


# What a document may ask for, in estimated fields answered (see `estimated_cost`). The SDK's most
# costly document, its older project-by-project listing of automations, is about 20,000.
MAX_COST = 50_000
# What an answer may hold, in fields resolved: the estimate cannot know how long a list that is not a
# page is (a project's automations), so execution counts too. The SDK's older listing of a project
# with 2,000 automations resolves about 80,000.
MAX_RESOLVED = 200_000
LIST_ITEMS = 10  # the estimate for a list that is not a page (a project's automations, members)
# Validation errors that mean "mlhooks has no such thing", as opposed to a mistake in using it.
_UNSUPPORTED = ("Cannot query field", "Unknown argument", "Unknown type", "Unknown directive")


def _page(field: FieldNode, variables: dict[str, Any]) -> int:
    for argument in field.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            given = variables.get(value.name.value) if isinstance(value, VariableNode) else None
            if isinstance(value, IntValueNode):
                given = int(value.value)
            if not isinstance(given, int) or isinstance(given, bool):
                given = None  # a variable of another type: execution refuses it, by name
            return max(1, min(given or PAGE_DEFAULT, PAGE_MAX))
    return LIST_ITEMS


def estimated_cost(
    document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> int:
    """About how many fields the answer holds: every field counts one, times the items of the lists
    around it (a page's `first`, else LIST_ITEMS). Fragments are counted where they are spread, so a
    document that nests fragments in fragments pays for what it asks, though it is written small;
    each (selection, type, page) is counted once, so this takes time linear in the document."""
    schema = wandb_schema()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    memo: dict[tuple[int, str, int], int] = {}

    def cost(selections: SelectionSetNode, parent: GraphQLNamedType, page: int) -> int:
        key = (id(selections), parent.name, page)
        if key not in memo:
            memo[key] = 0  # a cycle cannot happen in a valid document; this guards the recursion anyway
            memo[key] = sum(one(selection, parent, page) for selection in selections.selections)
        return memo[key]

    def one(selection: Any, parent: GraphQLNamedType, page: int) -> int:
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            target = schema.get_type(fragment.type_condition.name.value) or parent
            return cost(fragment.selection_set, target, page)
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            return cost(selection.selection_set, target or parent, page)
        fields = getattr(parent, "fields", {})
        definition = fields.get(selection.name.value)
        if definition is None or selection.selection_set is None:
            return 1  # a leaf, or __typename
        items, inner = 1, definition.type
        if isinstance(inner, GraphQLNonNull):
            inner = inner.of_type
        if isinstance(inner, GraphQLList):
            # A connection's `edges` holds the page its field asked for; any other list, LIST_ITEMS.
            items = page if selection.name.value == "edges" else LIST_ITEMS
        child_page = _page(selection, variables)
        return 1 + items * cost(selection.selection_set, get_named_type(inner), child_page)

    root = schema.mutation_type if operation.operation is OperationType.MUTATION else schema.query_type
    assert root is not None  # both are declared
    return cost(operation.selection_set, root, LIST_ITEMS)


class Budget:
    """Counts the fields an execution resolves; past the limit, every further field is null, so
    the execution ends quickly and its answer is replaced by an error."""

    def __init__(self, limit: int):
        self.left = limit
        self.exceeded = False

    def resolve(self, source: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        if self.left <= 0:
            self.exceeded = True
            return None
        self.left -= 1
        return default_field_resolver(source, info, **arguments)


def _too_large(why: str) -> Response:
    return _answer(
        {"errors": [_error(f"{why} Ask for fewer, or page through smaller lists.", "bad_request", "query")]},
        400,
    )


def _invalid(document: DocumentNode, operation: str | None, errors: list[GraphQLError]) -> dict[str, Any]:
    names = [d.name.value for d in document.definitions if isinstance(d, OperationDefinitionNode) and d.name]
    what = operation or ", ".join(names) or "this document"
    answered = []
    for error in errors:
        if error.message.startswith(_UNSUPPORTED):
            answered.append(
                _error(f"mlhooks' W&B API does not serve {what}: {error.message}", "unsupported_operation")
            )
        else:
            answered.append(_error(error.message, "validation_error"))
    return {"errors": answered}


def answer(caller: Caller, request: Any) -> Response:
    """The answer to one GraphQL request (`{"query", "variables", "operationName"}`) of `caller`."""
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        shape = _error('Send {"query": "...", "variables": {...}}.', "bad_request", "query")
        return _answer({"errors": [shape]}, 400)
    variables = request.get("variables")
    variables = {} if variables is None else variables
    if not isinstance(variables, dict):
        return _answer({"errors": [_error("variables is a JSON object.", "bad_request", "variables")]}, 400)
    operation_name = request.get("operationName") or None  # the SDK sends "" for its own documents
    try:
        document = parse(request["query"], max_tokens=MAX_TOKENS)
    except GraphQLSyntaxError as exc:
        return _answer({"errors": [_error(exc.message, "bad_request", "query")]}, 400)
    invalid = validate(wandb_schema(), document)
    if invalid:
        return _answer(_invalid(document, operation_name, invalid))
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        named = _error("Name the operation to run (operationName).", "bad_request", "operationName")
        return _answer({"errors": [named]}, 400)
    cost = estimated_cost(document, operation, variables)
    if cost > MAX_COST:
        return _too_large(f"The document asks for about {cost:,} fields; at most {MAX_COST:,} are answered.")
    budget = Budget(MAX_RESOLVED)
    result = execute(
        wandb_schema(),
        document,
        Root(caller),
        variable_values=variables,
        operation_name=operation_name,
        field_resolver=budget.resolve,
    )
    if budget.exceeded:
        return _too_large(f"The answer would hold more than {MAX_RESOLVED:,} fields.")
    mutation = operation.operation is OperationType.MUTATION
    body: dict[str, Any] = {"data": result.data}
    status = 200
    if result.errors:
        body["errors"] = []
        for error in result.errors:
            domain = describe_error(error.original_error) if error.original_error else None
            if error.path is not None and domain is None and error.original_error is not None:
                logger.exception("GraphQL field failed", exc_info=error.original_error)
                failed = _error("Something went wrong on our side; retry later.", "internal_error")
                body["errors"].append(failed)
                status = 500
                continue
            if domain is None:  # GraphQL's own: a variable of the wrong type
                body["errors"].append(_error(error.message, "validation_error"))
                continue
            body["errors"].append(_error(domain.message, domain.code, domain.field) | {"path": error.path})
            # Only the SDK's writes read a status; its reads show the error's message instead.
            if mutation and domain.status in SDK_STATUSES and status == 200:
                status = domain.status
    return _answer(body, status)
