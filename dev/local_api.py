"""`python -m dev.local_api [--port 3000]`: the template's HTTP API on http://127.0.0.1:PORT, without Docker.

Like `sam local start-api`: this server does API Gateway's part (`dev.gateway`: route, authorizer, CORS, event,
response; 404/405 for no route, 500/504 for a failed or timed-out function) and the functions run as Lambda runs
them (`dev.local_functions`). Redis: REDIS_URL or REDIS_HOST when set, else a redis-server of this run's own, or
fakeredis where redis-server is not installed. LOCALLY A BEARER TOKEN IS DECODED WITHOUT VERIFYING ITS SIGNATURE
(`python -m dev.token --sub 123` mints one); without one, AUTH_REQUIRED=false (the local default) lets a request
in. One line per request goes to stderr, with the functions' logs; Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import argparse
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
from typing import Any

from dev.gateway import (
    HttpRequest,
    HttpResponse,
    MalformedResponse,
    Refused,
    RouteTable,
    build_event,
    cors_preflight,
    http_response_from_lambda,
    json_response,
    jwt_authorizer,
    with_cors,
)
from dev.invocation import InvocationFailed, InvocationTimedOut
from dev.local_functions import LocalFunctions, parse_sam_local_args
from dev.redis_server import LOOPBACK
from dev.template import Template

DEFAULT_PORT = 3000
GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit for HTTP APIs


class LocalApi:
    """API Gateway's side of a request: route, authorise, build the event, invoke, shape the response."""

    def __init__(self, template: Template, functions: LocalFunctions) -> None:
        self.routes = RouteTable(template.routes)
        self.cors = template.cors
        self.functions = functions

    def handle(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """The response to `request`, and what happened, for its log line."""
        preflight = cors_preflight(self.cors, request)
        if preflight is not None:
            return preflight, "CORS preflight"
        response, note = self._route(request)
        return with_cors(self.cors, request, response), note

    def _route(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        match = self.routes.match(request.method, request.raw_path)
        if match is None:
            allowed = self.routes.allowed_methods(request.raw_path)
            if allowed:
                headers = [("Allow", ", ".join(allowed))]
                return json_response(HTTPStatus.METHOD_NOT_ALLOWED, {"message": "Method Not Allowed"}, headers), ""
            return json_response(HTTPStatus.NOT_FOUND, {"message": "Not Found"}), ""
        name = match.route.function.logical_id
        try:
            authorizer = (
                None if match.route.authorizer is None else jwt_authorizer(match.route, request.header("authorization"))
            )
        except Refused as refused:
            # API Gateway's own answer: a bare message, and the reason in WWW-Authenticate.
            challenge = f'Bearer error="invalid_token" error_description="{str(refused).replace(chr(34), chr(39))}"'
            message = "Unauthorized" if refused.status == HTTPStatus.UNAUTHORIZED else "Forbidden"
            return json_response(refused.status, {"message": message}, [("WWW-Authenticate", challenge)]), str(refused)
        request_id = str(uuid.uuid4())
        event = build_event(match, request, request_id=request_id, authorizer=authorizer, now=datetime.now(UTC))
        try:
            invocation = self.functions.invoke(name, event)
            response = http_response_from_lambda(invocation.result)
        except InvocationTimedOut as error:
            return json_response(HTTPStatus.GATEWAY_TIMEOUT, {"message": "Gateway Timeout"}), str(error)
        except (InvocationFailed, MalformedResponse) as error:
            # What API Gateway answers when the function fails; the details are in the function's log.
            return json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal Server Error"}), str(error)
        # API Gateway names the request in every response; the function's logs carry the same id.
        note = "(warm)" if invocation.init_ms is None else f"(cold start, init {invocation.init_ms:.0f} ms)"
        headers = [*response.headers, ("Apigw-Requestid", request_id)]
        return HttpResponse(response.status, headers, response.body), f"{name} {note}"


class LocalApiServer(ThreadingHTTPServer):
    """The HTTP server, on the loopback interface only."""

    daemon_threads = True  # a request in progress must not hold up Ctrl-C

    def __init__(self, api: LocalApi, *, port: int = DEFAULT_PORT) -> None:
        super().__init__((LOOPBACK, port), _RequestHandler)
        self.api = api
        self._log_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}"

    def log_line(self, line: str) -> None:
        with self._log_lock:
            print(line, file=sys.stderr, flush=True)


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalApiServer
    protocol_version = "HTTP/1.1"  # keep-alive, as curl and browsers expect

    def _serve(self) -> None:
        started = time.perf_counter()
        response, note = self._respond()
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        elapsed_ms = (time.perf_counter() - started) * 1000
        path = self.path.partition("?")[0]  # query strings stay out of the log
        self.server.log_line(f"{self.command} {path} {response.status} {elapsed_ms:.0f} ms {note}".rstrip())

    def _respond(self) -> tuple[HttpResponse, str]:
        try:
            body = self._read_body()
        except Refused as refused:
            self.close_connection = True  # the unread body is still on the wire
            return json_response(refused.status, {"message": refused.status.phrase}), str(refused)
        request = HttpRequest(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        try:
            return self.server.api.handle(request)
        except Exception:
            # A bug here, not in the function: answer anyway, and show where it happened.
            self.server.log_line(traceback.format_exc())
            return json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "local API error (see its log)"}), ""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # http.server answers any other method (TRACE, QUERY, ...) with its own 501 page; API Gateway routes them all.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length") or "0"
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower() or not length.isdigit():
            raise Refused(HTTPStatus.BAD_REQUEST, "send the body with a Content-Length (chunked is not read locally)")
        if int(length) > GATEWAY_MAX_PAYLOAD_BYTES:
            raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"a body of {length} bytes is over API Gateway's 10 MiB")
        return self.rfile.read(int(length))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: `_serve` writes one line per request, with more to say."""

    def log_message(self, format: str, *args: object) -> None:
        self.server.log_line(f"{self.address_string()} {format % args}")


def banner(server: LocalApiServer, template: Template, functions: LocalFunctions) -> str:
    runs = (
        "AWS's Runtime Interface Emulator + awslambdaric" if functions.emulated else "this process (no emulator here)"
    )
    lines = [f"Actionlog local API on {server.url}", f"  Redis: {functions.redis_description}", f"  functions: {runs}"]
    width = max((len(route.path) for route in template.routes), default=0)
    for route in template.routes:
        access = route.authorizer or "public"
        lines.append(f"  {route.method:<7}{route.path:<{width + 2}}{route.function.logical_id} ({access})")
    if template.cors is not None:
        lines.append(f"  CORS: preflights answered for {', '.join(template.cors.allow_origins)}")
    auth_required = any(functions.environment(name).get("AUTH_REQUIRED") == "true" for name in template.functions)
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
    parser = argparse.ArgumentParser(prog="python -m dev.local_api", description="Serve the template's HTTP API.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (0: any free port)")
    try:
        args, template, env_vars = parse_sam_local_args(parser, argv)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops the server as Ctrl-C does
    functions = LocalFunctions(template.functions, env_vars=env_vars)
    try:
        server = LocalApiServer(LocalApi(template, functions), port=args.port)
        print(banner(server, template, functions), flush=True)
        server.serve_forever()
    except OSError as error:
        print(f"error: cannot listen on {LOOPBACK}:{args.port}: {error.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Stopping.", file=sys.stderr)
    finally:
        functions.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
