"""Reads each .env file given as python-dotenv does and prints, as JSON,
only sha256 hashes of the values (never a value), for the differential test
(tests/dotenv_differential.rs).

For every file: the names in order of first appearance with the line of
their last entry (the line of the name, after leading blank lines), the
value python-dotenv's loader computes for each (`DotEnv(override=False)`,
what `load_dotenv()` uses), the value the app then sees in `os.environ`
after `load_dotenv(path)` (override off), and the line of the first
statement python-dotenv cannot parse.
"""

import hashlib
import json
import os
import sys
from importlib.metadata import version

import dotenv
from dotenv.main import DotEnv
from dotenv.parser import parse_stream


def digest(value):
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def statement_line(binding):
    text = binding.original.string
    lead = text[: len(text) - len(text.lstrip())]
    return binding.original.line + lead.count("\n")


def read(path):
    lines = {}
    first_error = None
    with open(path, encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.error:
                if first_error is None:
                    first_error = statement_line(binding)
            elif binding.key is not None:
                lines[binding.key] = statement_line(binding)
    loader = DotEnv(path, override=False, interpolate=True, encoding="utf-8").dict()
    saved = dict(os.environ)
    dotenv.load_dotenv(path, override=False)
    app = {k: os.environ.get(k) for k in loader}
    os.environ.clear()
    os.environ.update(saved)
    return {
        "entries": [
            {"key": k, "line": lines[k], "file": digest(v), "app": digest(app[k])}
            for k, v in loader.items()
        ],
        "first_error": first_error,
    }


print(
    json.dumps(
        {
            "version": version("python-dotenv"),
            "environ": dict(os.environ),
            "files": {path: read(path) for path in sys.argv[1:]},
        }
    )
)
