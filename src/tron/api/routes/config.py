"""`/api/config`: read namespaces, upload, check and delete them (spec 8.4)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tron.api import params as p
from tron.api.context import daemon_of, json_response
from tron.api.uninterrupted import uninterrupted
from tron.errors import BadRequestError


async def config(request: Request) -> Response:
    daemon = daemon_of(request)
    if request.method == "GET":
        name = request.query_params.get("name")
        if name:
            text, digest = daemon.namespace(name)
            return json_response({"config": text, "hash": digest})
        body = {}
        for namespace in sorted(daemon.config.namespaces):
            text, digest = daemon.namespace(namespace)
            body[namespace] = {"config": text, "hash": digest}
        return json_response(body)
    form = await p.form(request)
    name = _namespace_name(form.get("name", ""))
    update = daemon.upload_namespace(
        name,
        form.get("config", ""),
        form.get("hash") or None,
        check=p.flag(form, "check", False),
    )
    upload = await uninterrupted(update, request.app.state.changes)
    # Tron's body, plus ours: what the upload changes (or, with check=1, would change), and
    # the same as the lines tronfig prints.
    changes = upload.changes
    return json_response(
        {"status": "Active", "changes": changes.to_json(), "summary": changes.lines()}
    )


def _namespace_name(name: str) -> str:
    """A namespace becomes a file name: refuse what no file system or YAML key would hold."""
    if not name:
        raise BadRequestError("'name' for config is required.")
    if not name.isprintable() or len(name.encode()) > 200 or name.startswith("."):
        raise BadRequestError(f"invalid namespace name {name!r}")
    return name


async def config_versions(request: Request) -> Response:
    """Ours: every saved version of a namespace (or all), oldest first, for diffs in the UI."""
    daemon = daemon_of(request)
    name = request.query_params.get("name") or None
    versions = await daemon.config_versions(name)
    return json_response(
        [
            {
                "version": v.version,
                "namespace": v.namespace,
                "hash": v.hash,
                "saved_at": v.saved_at.isoformat(),
                "config": v.text,
            }
            for v in versions
        ]
    )


ROUTES = [
    Route("/api/config", config, methods=["GET", "POST"]),
    Route("/api/config/", config, methods=["GET", "POST"]),
    Route("/api/config/versions", config_versions),
]
