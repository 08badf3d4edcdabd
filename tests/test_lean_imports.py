"""Only what a call uses is imported from the SDKs (llm/lean.py): a brief never runs
`openai.resources`' catch-all `__init__`, which still works in full for whoever reads
from it. In a child process: imports are process-wide."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import sys
from summarizer.llm.lean import defer_unused_sdk_modules
defer_unused_sdk_modules()
import openai
client = openai.AsyncOpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
client.chat.completions  # what a brief uses
import instructor.v2.providers.openai.handlers
print("openai.resources.admin" in sys.modules, "Batches" in vars(sys.modules["openai.resources"]))
from openai.resources import AsyncChat, Batches  # a name of the package's __init__: runs it
print(Batches.__name__, AsyncChat is type(client.chat))
print("openai.resources.admin" in sys.modules, "Batches" in vars(sys.modules["openai.resources"]))
"""


def test_a_brief_imports_only_what_it_uses_and_the_rest_loads_on_use() -> None:
    r = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:3] == ["False False", "Batches True", "True True"]
