"""The API's documentation: /docs served offline, the stream (POST /runs) described line
by line in the OpenAPI schema, where FastAPI alone would say "a string", and the links
from an answer to what a client asks next of what it made (a run, a submission)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from pydantic import TypeAdapter

from .models import NDJSON, StreamEvent


def serve_the_docs(app: FastAPI) -> None:
    """/docs from Swagger UI's files shipped in a package (fastapi-offline's, Swagger UI 5,
    which reads OpenAPI 3.1), not from a CDN: classrooms and this project's machines are
    often offline, and FastAPI's default page is then blank."""
    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs/assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="tui-sandbox API",
                                   swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/docs/assets/favicon.png")


def complete_the_schema(app: FastAPI) -> None:
    """What FastAPI cannot see from the routes: what each line of the stream is (it would
    say "a string"), and the answers the middlewares give before any route is reached."""
    make_schema = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = make_schema()
            events = TypeAdapter(StreamEvent).json_schema(mode="serialization",
                                                        ref_template="#/components/schemas/{model}")
            schema.setdefault("components", {}).setdefault("schemas", {}).update(events.pop("$defs", {}))
            answer = schema["paths"]["/runs"]["post"]["responses"]["200"]
            answer["content"] = {NDJSON: {"schema": events}}
            _document_the_middlewares(schema)
            _link_the_operations(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi


# Answered by service/middleware.py to any request, whatever its route: a client (or a
# fuzzer) may meet them on every operation, so every operation documents them.
MIDDLEWARE_ANSWERS = {
    "400": "The Host header is not one this server answers to (a loopback server without tokens).",
    "413": "The body is over the size cap.",
}


def _document_the_middlewares(schema: dict) -> None:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            for status, description in MIDDLEWARE_ANSWERS.items():
                answers.setdefault(status, {"description": description, "content": error})


RUN_ID_HEADER = "$response.header.X-Run-Id"
# (from: method, path, status; the link's name; to: method, path; its parameters.) What a
# client (or a generator, or a stateful fuzzer) may do next with what an answer made.
LINKS = (
    ("post", "/run", "200", "GetRun", "get", "/runs/{run_id}", {"run_id": "$response.body#/id"}),
    ("post", "/run", "200", "CancelRun", "delete", "/runs/{run_id}", {"run_id": "$response.body#/id"}),
    ("post", "/runs", "200", "GetRun", "get", "/runs/{run_id}", {"run_id": RUN_ID_HEADER}),
    ("post", "/runs", "200", "CancelRun", "delete", "/runs/{run_id}", {"run_id": RUN_ID_HEADER}),
    ("post", "/runs", "200", "TypeIntoRun", "post", "/runs/{run_id}/input", {"run_id": RUN_ID_HEADER}),
    ("delete", "/runs/{run_id}", "202", "GetRun", "get", "/runs/{run_id}", {"run_id": "$response.body#/id"}),
    ("post", "/judge0/submissions", "201", "GetSubmission", "get", "/judge0/submissions/{token}",
     {"token": "$response.body#/token"}),
    ("post", "/judge0/submissions", "201", "DeleteSubmission", "delete", "/judge0/submissions/{token}",
     {"token": "$response.body#/token"}),
    ("post", "/class/demo", "201", "ReadTheDemo", "get", "/class/demo", {}),
    ("put", "/class/students/{student}/program", "204", "PeekAtTheStudent", "get", "/class/students/{student}",
     {"student": "$request.path.student"}),
)
# POST /runs says where its run is before its first line: a stream has no body to point into.
RUN_HEADERS = {"Location": {"description": "The run's path: GET it, or DELETE it to cancel the run.",
                            "schema": {"type": "string"}},
               "X-Run-Id": {"description": "The run's id.", "schema": {"type": "string"}}}


def _link_the_operations(schema: dict) -> None:
    paths = schema.get("paths", {})
    paths["/runs"]["post"]["responses"]["200"].setdefault("headers", {}).update(RUN_HEADERS)
    for method, path, status, name, to_method, to_path, parameters in LINKS:
        answer = paths[path][method]["responses"][status]
        link = {"operationId": paths[to_path][to_method]["operationId"]}
        if parameters:
            link["parameters"] = parameters
        answer.setdefault("links", {})[name] = link
