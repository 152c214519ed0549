"""The API reference page at /docs/api, rendered on the server: no CDN, no script."""

from __future__ import annotations

from html import escape
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

_METHODS = ("get", "post", "put", "patch", "delete")
_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:1rem 2rem;
color:#1d2330}
h1{margin-bottom:.2rem} h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
details{border:1px solid #e3e6ec;border-radius:6px;margin:.4rem 0;padding:.3rem .7rem}
summary{cursor:pointer} code,pre{font:13px ui-monospace,monospace}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;border-radius:4px}
.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
.get{color:#1a7f37}.post{color:#0969da}.put{color:#9a6700}.delete{color:#cf222e}
table{border-collapse:collapse}
td,th{border-bottom:1px solid #eee;padding:.2rem .6rem;text-align:left}
"""


class ReferencePage(OpenAPIRenderPlugin):
    """Every operation grouped by tag, with parameters, body and response schemas."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return render_reference(openapi_schema, self.get_openapi_json_route(request)).encode()


def render_reference(document: dict[str, Any], json_url: str) -> str:
    """A self-contained HTML page describing `document`."""
    info = document.get("info", {})
    title = escape(str(info.get("title", "API")))
    groups: dict[str, list[str]] = {}
    for path, item in sorted(document.get("paths", {}).items()):
        for method in _METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["other"])[0]
                groups.setdefault(tag, []).append(_operation(path, method, item[method]))
    sections = "".join(
        f"<h2>{escape(tag)}</h2>{''.join(ops)}" for tag, ops in sorted(groups.items())
    )
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"
        f"<p>{escape(str(info.get('description', '')))} "
        f'Machine-readable: <a href="{escape(json_url)}">OpenAPI 3.1 JSON</a>.</p>'
        f"{sections}</body></html>"
    )


def _operation(path: str, method: str, operation: dict[str, Any]) -> str:
    summary = escape(str(operation.get("summary", "")))
    parts = [f"<p>{escape(str(operation.get('description', '')))}</p>"]
    parameters = operation.get("parameters") or []
    if parameters:
        rows = "".join(
            f"<tr><td><code>{escape(str(p.get('name')))}</code></td><td>{escape(str(p.get('in')))}"
            f"</td><td>{escape(str(p.get('description', '')))}</td></tr>"
            for p in parameters
        )
        parts.append(f"<table><tr><th>parameter</th><th>in</th><th>about</th></tr>{rows}</table>")
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        parts.append(f"<p>Body:</p><pre>{_json(body.get('schema'))}</pre>")
    responses = operation.get("responses", {})
    listed = ", ".join(
        f"<code>{escape(code)}</code> {escape(str(r.get('description', '')))}"
        for code, r in responses.items()
    )
    parts.append(f"<p>Responses: {listed}</p>")
    head = f'<span class="m {method}">{method}</span> <code>{escape(path)}</code> {summary}'
    return f"<details><summary>{head}</summary>{''.join(parts)}</details>"


def _json(value: Any) -> str:
    return escape(msgspec.json.format(msgspec.json.encode(value), indent=2).decode())
