"""The streams modules' docstring examples run, and the embedded path needs neither Kafka nor
FastAPI (dependency direction: detector <- streams <- api)."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

MODULES = ["streams.schema", "streams.parsing", "streams.bucketing", "streams.pipeline",
           "streams.store", "streams.bus", "streams.sqlite_checkpoint"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_embedded_modules_import_neither_kafka_nor_fastapi() -> None:
    code = ("import sys, streams.pipeline, streams.bus, streams.replay, streams.store, "
            "streams.sqlite_checkpoint; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kafka', 'fastapi')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"
