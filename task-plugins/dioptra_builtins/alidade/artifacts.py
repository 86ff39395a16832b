"""Writing a job's output files under one directory of its work dir.

The directory is $ALIDADE_ARTIFACTS_DIR when set, else `artifacts/` under the job's working directory. Names are
relative paths inside it; a name that would leave it (absolute, or with '..') is refused.
"""

import json
import os
from typing import Any


def artifacts_dir() -> str:
    """The artifacts directory (created when missing)."""
    path = os.environ.get("ALIDADE_ARTIFACTS_DIR") or os.path.join(os.getcwd(), "artifacts")
    os.makedirs(path, exist_ok=True)
    return os.path.abspath(path)


def artifact_path(name: str) -> str:
    """The absolute path of artifact `name`, its parent directories created. Raises ValueError if it leaves the directory."""
    root = artifacts_dir()
    if not name or os.path.isabs(name):
        raise ValueError("artifact name must be a non-empty relative path: %r" % (name,))
    path = os.path.abspath(os.path.join(root, name))
    if os.path.commonpath([root, path]) != root or path == root:
        raise ValueError("artifact name leaves the artifacts directory: %r" % (name,))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def write_bytes(name: str, data: bytes) -> str:
    """Writes `data` to artifact `name` and returns its path."""
    path = artifact_path(name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def write_text(name: str, text: str) -> str:
    """Writes `text` (UTF-8) to artifact `name` and returns its path."""
    return write_bytes(name, text.encode("utf-8"))


def write_json(name: str, value: Any, indent: int = 2) -> str:
    """Writes `value` as JSON to artifact `name` and returns its path."""
    return write_text(name, json.dumps(value, indent=indent, sort_keys=True) + "\n")
