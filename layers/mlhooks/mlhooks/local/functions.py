"""The template's functions, loaded and invoked as Lambda would: the same handler files, imported from
each function's CodeUri under `functions/`, with a context object carrying what handlers read.

Each function is invoked under its own lock, as one Lambda container handles one request at a time.
"""

from __future__ import annotations

import importlib.util
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from mlhooks.local import apigw
from mlhooks.local.stack import REGION
from mlhooks.local.template import functions, handler_path

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The attributes Powertools and handlers read from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_ms: int = 29_000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{apigw.ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


class Functions:
    """The template's functions, imported from their CodeUri and invoked one request at a time each."""

    def __init__(self, root: Path, template: dict[str, Any]):
        self.root = root
        self.template = template
        self._modules: dict[str, ModuleType] = {}
        self._locks = {name: threading.Lock() for name in functions(template)}

    def names(self) -> list[str]:
        return sorted(self._locks)

    def module(self, name: str) -> ModuleType:
        """The function's handler module as this container imported it: what a warm Lambda keeps."""
        if name not in self._modules:
            path, _ = handler_path(self.template, self.root, name)
            spec = importlib.util.spec_from_file_location(f"mlhooks_function_{name}", path)
            if spec is None or spec.loader is None:
                raise FileNotFoundError(path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[name] = module
        return self._modules[name]

    def handler(self, name: str) -> Handler:
        _, attribute = handler_path(self.template, self.root, name)
        return getattr(self.module(name), attribute)

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        if name not in self._locks:
            raise KeyError(f"No function {name} in template.yaml; functions: {', '.join(self.names())}")
        handler = self.handler(name)
        with self._locks[name]:
            return handler(event, LambdaContext(function_name=name))
