"""Loads a handler file as a module and finds its `handler` function (cached by mtime)."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_cache: dict[str, tuple[int, Callable[..., Any]]] = {}


class HandlerLoadError(Exception):
    """The file cannot be imported or exports no callable `handler`."""


def load_handler(path: str, module_dir: str) -> Callable[..., Any]:
    """The module's folder is importable while it loads, so handlers may import siblings."""
    file = Path(path)
    mtime = file.stat().st_mtime_ns
    cached = _cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    name = "almanac_handler_" + hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise HandlerLoadError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    if module_dir not in sys.path:
        sys.path.insert(0, module_dir)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    handler: Callable[..., Any] | None = getattr(module, "handler", None)
    if handler is None or not callable(handler):
        raise HandlerLoadError(f"{path} does not export a callable named `handler`")
    _cache[path] = (mtime, handler)
    return handler
