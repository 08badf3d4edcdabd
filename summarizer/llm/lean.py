"""Import only what a call uses from the SDKs: `openai.resources`, whose first import loads
far more than a chat completion needs, is loaded whole only when something uses it.

The client's `chat` property imports `openai.resources.chat`, and Python first runs the
package's `__init__`, which imports every resource the SDK has (admin, fine-tuning,
evals, vector stores, realtime, ...) and their types: ~480 modules, 0.3 s of CPU on the
2-core test machine, a third of an offline brief's start-up. Here the package is
registered without running its `__init__`; its subpackages (chat, files, batches) import
as usual, and the first use of a name the `__init__` defines runs it whole. (Not done for
`requests`, which instructor's OpenAI handlers import to fetch images by URL: instructor
imports `requests` submodules directly, and those need the package's `__init__` to have
run.)

A package already imported is left as it is. Called once, before the SDK client is
built (llm/client.py); bench/startup.py measures the effect.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
from typing import Any


@functools.cache
def defer_unused_sdk_modules() -> None:
    _defer_package_init("openai.resources")


def _defer_package_init(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    module = importlib.util.module_from_spec(spec)  # __path__ set, __init__ not run
    loading = threading.Lock()

    def __getattr__(attr: str) -> Any:
        with loading:
            if "__getattr__" in module.__dict__:
                del module.__dict__["__getattr__"]
                assert spec.loader is not None
                spec.loader.exec_module(module)  # the real __init__, once
        return module.__dict__[attr] if attr in module.__dict__ else _missing(name, attr)

    module.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)


def _missing(module: str, attr: str) -> Any:
    raise AttributeError(f"module {module!r} has no attribute {attr!r}")
