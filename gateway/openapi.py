"""One OpenAPI document for the whole API: the gateway's own routes plus the services' forwarded paths.

Each service's ``/openapi.json`` is fetched over HTTP (the gateway never imports a service's code) and kept
for ``ttl`` seconds. From it the gateway keeps the paths its route table forwards, puts them under ``/api``,
and merges the components they reference. A component name that two services define differently is
namespaced in both (``orgs__Status``, ``cadres__Status``) and every ``$ref`` to it rewritten. A service that
is down is left out and tried again on the next request.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from gateway.forwarding import API_PREFIX
from gateway.routes import RouteTable
from gateway.upstream import Upstream, UpstreamError

log = logging.getLogger("tochuc.gateway.openapi")

Document = dict[str, Any]
FETCH_TIMEOUT = 2.0
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# Components referred to by "$ref"; they can be renamed. Security schemes are referred to by name in
# "security" requirements, so they are merged as they are (the services share one bearer scheme).
REF_SECTIONS = (
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "links",
    "callbacks",
    "pathItems",
)
_REF_PREFIX = "#/components/"


def _refs(node: Any, found: set[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            section, _, name = ref[len(_REF_PREFIX) :].partition("/")
            found.add((section, name))
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _rewrite_refs(node: Any, renamed: Mapping[tuple[str, str], str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF_PREFIX):
                section, _, name = value[len(_REF_PREFIX) :].partition("/")
                new = renamed.get((section, name))
                out[key] = f"{_REF_PREFIX}{section}/{new}" if new else value
            else:
                out[key] = _rewrite_refs(value, renamed)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(value, renamed) for value in node]
    return node


def forwarded_part(service: str, doc: Document, table: RouteTable) -> tuple[Document, dict[str, Document]]:
    """The paths of ``doc`` that the gateway forwards to ``service`` (under ``/api``), and the components
    they reach (transitively), by section."""
    paths: Document = {}
    for path, item in (doc.get("paths") or {}).items():
        rule = table.match(path)
        if rule is not None and rule.service == service:
            paths[API_PREFIX + path] = item
    components = doc.get("components") or {}
    wanted: set[tuple[str, str]] = set()
    _refs(paths, wanted)
    reached: dict[str, Document] = {}
    pending = list(wanted)
    while pending:
        section, name = pending.pop()
        definition = (components.get(section) or {}).get(name)
        if definition is None or name in reached.setdefault(section, {}):
            continue
        reached[section][name] = definition
        more: set[tuple[str, str]] = set()
        _refs(definition, more)
        pending.extend(more - wanted)
        wanted |= more
    return paths, reached


def merge(gateway_doc: Document, services: Mapping[str, Document], table: RouteTable) -> Document:
    """The gateway's document with the forwarded parts of the services' documents merged in."""
    merged = copy.deepcopy(gateway_doc)
    parts = {name: forwarded_part(name, doc, table) for name, doc in services.items()}

    # Which names clash: defined by two or more services (or by the gateway) with different contents.
    own_components = merged.setdefault("components", {})
    definitions: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for section, named in own_components.items():
        for name, definition in named.items():
            definitions.setdefault((section, name), []).append(("gateway", definition))
    for service, (_, reached) in parts.items():
        for section, named in reached.items():
            for name, definition in named.items():
                definitions.setdefault((section, name), []).append((service, definition))
    clashing = {
        key
        for key, defs in definitions.items()
        if key[0] in REF_SECTIONS and len({json.dumps(d, sort_keys=True) for _, d in defs}) > 1
    }

    merged_paths = merged.setdefault("paths", {})
    tags = {tag["name"]: tag for tag in merged.get("tags", [])}
    security_schemes = own_components.get("securitySchemes", {})
    for service, (paths, reached) in parts.items():
        renamed = {key: f"{service}__{key[1]}" for key in clashing if key[1] in reached.get(key[0], {})}
        for path, item in _rewrite_refs(paths, renamed).items():
            merged_paths.setdefault(path, item)
        for section, named in _rewrite_refs(reached, renamed).items():
            target = own_components.setdefault(section, {})
            for name, definition in named.items():
                target.setdefault(renamed.get((section, name), name), definition)
        for tag in services[service].get("tags", []):
            tags.setdefault(tag["name"], tag)
        for name, scheme in (services[service].get("components", {}).get("securitySchemes") or {}).items():
            security_schemes.setdefault(name, scheme)
    if security_schemes:
        own_components["securitySchemes"] = security_schemes
    if tags:
        merged["tags"] = list(tags.values())
    merged["paths"] = dict(sorted(merged_paths.items()))
    for section, named in own_components.items():
        own_components[section] = dict(sorted(named.items()))
    return merged


class OpenAPICatalog:
    """The merged document, rebuilt when older than ``ttl`` or when a service was missing last time."""

    def __init__(
        self,
        own_document: Callable[[], Document],
        upstreams: Mapping[str, Upstream],
        table: RouteTable,
        *,
        ttl: float,
    ) -> None:
        self._own_document = own_document
        self._upstreams = upstreams
        self._table = table
        self._ttl = ttl
        self._lock = asyncio.Lock()
        self._body: bytes | None = None
        self._built_at = 0.0
        self._complete = False

    async def document_bytes(self) -> bytes:
        if self._fresh():
            assert self._body is not None
            return self._body
        async with self._lock:  # one refresh at a time; the others wait for it and reuse it
            if not self._fresh():
                await self._rebuild()
        assert self._body is not None
        return self._body

    def _fresh(self) -> bool:
        return self._body is not None and self._complete and time.monotonic() - self._built_at < self._ttl

    async def _rebuild(self) -> None:
        names = list(self._upstreams)
        fetched = await asyncio.gather(*(self._fetch(self._upstreams[name]) for name in names))
        services = {name: doc for name, doc in zip(names, fetched, strict=True) if doc is not None}
        merged = merge(self._own_document(), services, self._table)
        self._body = json.dumps(merged, ensure_ascii=False).encode()
        self._built_at = time.monotonic()
        self._complete = len(services) == len(names)

    async def _fetch(self, upstream: Upstream) -> Document | None:
        try:
            answer = await upstream.request(
                "GET", "/openapi.json", headers=[("accept", "application/json")], deadline=FETCH_TIMEOUT
            )
        except UpstreamError as error:
            log.warning("OpenAPI of %s left out: %s", upstream.service, error.detail)
            return None
        if answer.status != 200:
            log.warning("OpenAPI of %s left out: it answered %s", upstream.service, answer.status)
            return None
        try:
            doc = json.loads(answer.body)
        except ValueError:
            log.warning("OpenAPI of %s left out: not JSON", upstream.service)
            return None
        return doc if isinstance(doc, dict) else None
