"""`python -m dev.local_api [--port 3000]`: the template's HTTP API on http://127.0.0.1:PORT, without Docker.

Like `sam local start-api`, for the routes of `template.yaml` and nothing else:

- A request is matched to a route (404 when no route has its path, 405 when none has its method), turned into
  the payload format 2.0 event API Gateway would send, and given to the route's real handler.
- Each function runs in a worker process of its own, started on its first request and kept warm, one request
  at a time (see `dev.worker`). A worker that exceeds the function's Timeout is killed (504); one that dies
  mid-request answers 502, and the next request starts a fresh one. Edited code is picked up on the next request.
- Redis: REDIS_URL or REDIS_HOST when set, else an embedded in-memory fakeredis (see `dev.runtime`).
- Authorisation: on routes with an authorizer, a bearer token's claims and scopes go to
  `requestContext.authorizer.jwt`, as API Gateway's JWT authorizer passes them on. LOCALLY THE TOKEN IS DECODED
  WITHOUT VERIFYING ITS SIGNATURE, so `python -m dev.token --sub 123` mints one that works; a token that does
  not decode gets API Gateway's 401. A request without a token reaches the handler, which lets it through while
  AUTH_REQUIRED=false (the local default) and answers 401 when AUTH_REQUIRED=true.

One line per request goes to stderr, with the function's logs. Ctrl-C or SIGTERM stops the server, the workers
and the embedded Redis.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

from dev.gateway import (
    HttpRequest,
    HttpResponse,
    MalformedResponse,
    RouteTable,
    build_event,
    json_response,
    jwt_authorizer,
    proxy_response,
)
from dev.runtime import LOOPBACK, EnvVarsError, LocalLambda, load_env_vars
from dev.template import TEMPLATE_PATH, Template, TemplateError, load_template
from dev.token import InvalidToken
from dev.worker import FunctionError, Invocation, InvocationTimedOut, WorkerCrashed

DEFAULT_PORT = 3000
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit for HTTP APIs


class LocalApi:
    """API Gateway's side of a request: route, authorise, build the event, invoke, shape the response."""

    def __init__(self, template: Template, functions: LocalLambda) -> None:
        self.routes = RouteTable(template.routes)
        self._functions = functions

    def handle(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """The response to `request`, and what happened, for its log line."""
        match = self.routes.match(request.method, request.raw_path)
        if match is None:
            allowed = self.routes.allowed_methods(request.raw_path)
            if allowed:
                allow = ("Allow", ", ".join(allowed))
                return json_response(HTTPStatus.METHOD_NOT_ALLOWED, {"message": "Method Not Allowed"}, [allow]), ""
            return json_response(HTTPStatus.NOT_FOUND, {"message": "Not Found"}), ""

        function_id = match.route.function.logical_id
        authorizer = None
        if match.route.authorizer is not None:
            try:
                authorizer = jwt_authorizer(request.header("authorization"))
            except InvalidToken as error:
                return _unauthorized(str(error)), f"{match.route.authorizer} refused the token: {error}"

        request_id = str(uuid.uuid4())
        event = build_event(match, request, request_id=request_id, authorizer=authorizer, now=datetime.now(UTC))
        try:
            invocation = self._functions.invoke(match.route.function, event)
            response = proxy_response(invocation.result)
        except FunctionError as error:
            # What API Gateway answers when the function fails; the details are in the function's log.
            return _internal_error(), f"{function_id} failed: {error}"
        except MalformedResponse as error:
            return _internal_error(), f"{function_id} returned a malformed response: {error}"
        except WorkerCrashed as error:
            return json_response(HTTPStatus.BAD_GATEWAY, {"message": str(error)}), str(error)
        except InvocationTimedOut as error:
            return json_response(HTTPStatus.GATEWAY_TIMEOUT, {"message": str(error)}), str(error)
        # API Gateway names the request in every response; the function's logs carry the same id.
        headers = [*response.headers, ("Apigw-Requestid", request_id)]
        return dataclasses.replace(response, headers=headers), f"{function_id} {_temperature(invocation)}"


def _temperature(invocation: Invocation) -> str:
    if invocation.init_ms is None:
        return "(warm)"
    return f"(cold start, init {invocation.init_ms:.0f} ms)"


def _unauthorized(reason: str) -> HttpResponse:
    # API Gateway's own answer: a bare message, and the reason in WWW-Authenticate.
    description = reason.replace('"', "'")
    challenge = f'Bearer scope="" error="invalid_token" error_description="{description}"'
    return json_response(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"}, [("WWW-Authenticate", challenge)])


def _internal_error() -> HttpResponse:
    return json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal Server Error"})


class LocalApiServer(ThreadingHTTPServer):
    """The HTTP server, on the loopback interface only."""

    daemon_threads = True  # a request in progress must not hold up Ctrl-C

    def __init__(self, api: LocalApi, *, port: int = DEFAULT_PORT, log: TextIO = sys.stderr) -> None:
        super().__init__((LOOPBACK, port), _RequestHandler)
        self.api = api
        self._log = log
        self._log_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}"

    def log_line(self, line: str) -> None:
        with self._log_lock:
            print(line, file=self._log, flush=True)


class _RequestTooLarge(Exception):
    pass


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalApiServer
    protocol_version = "HTTP/1.1"  # keep-alive, as curl and browsers expect

    def _serve(self) -> None:
        started = time.perf_counter()
        response, note = self._respond()
        self._send(response)
        elapsed_ms = (time.perf_counter() - started) * 1000
        path = self.path.partition("?")[0]  # query strings stay out of the log
        self.server.log_line(f"{self.command} {path} {response.status} {elapsed_ms:.0f} ms {note}".rstrip())

    def _respond(self) -> tuple[HttpResponse, str]:
        try:
            body = self._read_body()
        except _RequestTooLarge:
            self.close_connection = True  # the unread body is still on the wire
            return json_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Entity Too Large"}), ""
        except ValueError as error:
            self.close_connection = True
            return json_response(HTTPStatus.BAD_REQUEST, {"message": "Bad Request"}), f"unreadable body: {error}"
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        try:
            return self.server.api.handle(request)
        except Exception:
            # A bug here, not in the function: answer anyway, and show where it happened.
            self.server.log_line(traceback.format_exc())
            return json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "local API error (see its log)"}), ""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # http.server answers any other method (TRACE, CONNECT, QUERY, ...) with its own 501 HTML page; API
        # Gateway routes every method, so they go to the route table too (405 or 404, as JSON).
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked_body()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_BODY_BYTES:
            raise _RequestTooLarge
        return self.rfile.read(length)

    def _read_chunked_body(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while size := int(self.rfile.readline().split(b";")[0], 16):
            total += size
            if total > MAX_BODY_BYTES:
                raise _RequestTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF that ends the chunk
        while self.rfile.readline().strip():  # trailers, up to the empty line that ends the request
            pass
        return b"".join(chunks)

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: `_serve` writes one line per request, with more to say."""

    def log_message(self, format: str, *args: object) -> None:
        self.server.log_line(f"{self.address_string()} {format % args}")


def banner(server: LocalApiServer, template: Template, functions: LocalLambda) -> str:
    lines = [f"Actionlog local API on {server.url} (Redis: {functions.redis_description})"]
    width = max((len(route.path) for route in template.routes), default=0)
    for route in template.routes:
        access = "public" if route.authorizer is None else f"{route.authorizer}"
        lines.append(f"  {route.method:<7}{route.path:<{width + 2}}{route.function.logical_id} ({access})")
    auth_required = any(
        functions.environment(route.function.logical_id).get("AUTH_REQUIRED", "").lower() == "true"
        for route in template.routes
    )
    lines.append(
        "Bearer tokens are decoded WITHOUT verifying their signature (local only); mint one with"
        ' `python -m dev.token --sub 123 --scope "actionlog/cache"`.'
    )
    lines.append(
        "AUTH_REQUIRED=true: requests without a token get 401."
        if auth_required
        else "AUTH_REQUIRED=false: requests without a token are let through."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.local_api", description="Serve the template's HTTP API locally, without Docker."
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("-t", "--template", type=Path, default=TEMPLATE_PATH, help="the SAM template")
    parser.add_argument(
        "-n", "--env-vars", type=Path, help="SAM env-vars JSON file (events/env.json is meant for Docker)"
    )
    args = parser.parse_args(argv)
    try:
        template = load_template(args.template)
        env_vars = load_env_vars(args.env_vars) if args.env_vars else None
    except (OSError, TemplateError, EnvVarsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    # SIGTERM stops the server the way Ctrl-C does, so that both clean up.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with LocalLambda(template, environ=os.environ, env_vars=env_vars) as functions:
        try:
            server = LocalApiServer(LocalApi(template, functions), port=args.port)
        except OSError as error:
            print(f"error: cannot listen on {LOOPBACK}:{args.port}: {error.strerror}", file=sys.stderr)
            return 2
        try:
            print(banner(server, template, functions), flush=True)
            server.serve_forever()
        except KeyboardInterrupt:
            print("Stopping.", file=sys.stderr)
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
