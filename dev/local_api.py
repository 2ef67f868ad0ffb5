"""`python -m dev.local_api [--port 3000]`: the template's HTTP API on http://127.0.0.1:PORT, without Docker.

Like `sam local start-api`: this server does API Gateway's part (`dev.gateway`: route, authorizer, CORS, event,
response; 404/405 for no route as deployed, where `sam local start-api` answers 403; 500/504 for a failed or
timed-out function) and the functions run as Lambda runs
them (`dev.local_functions`). Redis: REDIS_URL or REDIS_HOST when set, else a redis-server of this run's own, or
fakeredis where redis-server is not installed. LOCALLY A BEARER TOKEN IS DECODED WITHOUT VERIFYING ITS SIGNATURE
(`python -m dev.token --sub 123` mints one); without one, AUTH_REQUIRED=false (the local default) lets a request
in. One line per request goes to stderr (with --verbose, the functions' logs too); Ctrl-C or SIGTERM stops
everything, however often it is pressed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
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
from typing import Any

from dev import running_api
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
MAX_REASON_CHARS = 100  # of a 4xx or 5xx's reason on its console line


class LocalApi:
    """API Gateway's side of a request: route, authorise, build the event, invoke, shape the response."""

    def __init__(self, template: Template, functions: LocalFunctions) -> None:
        self.routes = RouteTable(template.routes)
        self.cors = template.cors
        self.functions = functions

    def handle(self, request: HttpRequest) -> tuple[HttpResponse, str]:
        """The response to `request`, and what happened, for its console line: who answered (the function, the
        authorizer, nobody for no route), how (a cold start, warm), and for a 4xx or 5xx why."""
        preflight = cors_preflight(self.cors, request)
        if preflight is not None:
            return preflight, "CORS preflight"
        response, who, reason = self._route(request)
        return with_cors(self.cors, request, response), log_note(response, who, reason)

    def _route(self, request: HttpRequest) -> tuple[HttpResponse, str, str]:
        """The response, who answered, and the reason for a refusal or a failure when the gateway knows better than
        the response's message."""
        match = self.routes.match(request.method, request.raw_path)
        if match is None:
            allowed = self.routes.allowed_methods(request.raw_path)
            if allowed:
                headers = [("Allow", ", ".join(allowed))]
                return json_response(HTTPStatus.METHOD_NOT_ALLOWED, {"message": "Method Not Allowed"}, headers), "", ""
            return json_response(HTTPStatus.NOT_FOUND, {"message": "Not Found"}), "", ""
        name = match.route.function.logical_id
        try:
            authorizer = (
                None if match.route.authorizer is None else jwt_authorizer(match.route, request.header("authorization"))
            )
        except Refused as refused:
            # API Gateway's own answer: a bare message, and the reason in WWW-Authenticate.
            challenge = f'Bearer error="invalid_token" error_description="{str(refused).replace(chr(34), chr(39))}"'
            message = "Unauthorized" if refused.status == HTTPStatus.UNAUTHORIZED else "Forbidden"
            response = json_response(refused.status, {"message": message}, [("WWW-Authenticate", challenge)])
            return response, str(match.route.authorizer), str(refused)
        request_id = str(uuid.uuid4())
        event = build_event(match, request, request_id=request_id, authorizer=authorizer, now=datetime.now(UTC))
        try:
            invocation = self.functions.invoke(name, event)
            response = http_response_from_lambda(invocation.result)
        except InvocationTimedOut as error:
            return json_response(HTTPStatus.GATEWAY_TIMEOUT, {"message": "Gateway Timeout"}), name, str(error)
        except (InvocationFailed, MalformedResponse) as error:
            # What API Gateway answers when the function fails; the details are in the function's log.
            response = json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal Server Error"})
            return response, name, str(error)
        # API Gateway names the request in every response; the function's logs carry the same id.
        how = "warm" if invocation.init_ms is None else f"cold start, init {invocation.init_ms:.0f} ms"
        headers = [*response.headers, ("Apigw-Requestid", request_id)]
        return HttpResponse(response.status, headers, response.body), f"{name} ({how})", ""


def log_note(response: HttpResponse, who: str, reason: str = "") -> str:
    """`who` answered, and for a 4xx or 5xx the reason: `reason`, else the JSON body's message, shortened."""
    if response.status < 400:
        return who
    if not reason:
        with contextlib.suppress(ValueError, AttributeError):
            reason = str(json.loads(response.body).get("message") or "")
    reason = " ".join(reason.split())  # one line, whatever the message holds
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "…"
    return f"{who} - {reason}".lstrip() if reason else who


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
            response = json_response(refused.status, {"message": refused.status.phrase})
            return response, log_note(response, "", str(refused))
        request = HttpRequest(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        try:
            return self.server.api.handle(request)
        except Exception:
            # A bug here, not in the function: answer anyway, and show where it happened.
            self.server.log_line(traceback.format_exc())
            response = json_response(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "local API error (see its log)"})
            return response, log_note(response, "")

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


def banner(server: LocalApiServer, template: Template, functions: LocalFunctions, *, verbose: bool) -> str:
    runs = (
        "AWS's Runtime Interface Emulator + awslambdaric" if functions.emulated else "this process (no emulator here)"
    )
    redis = functions.redis_description + (" - `make invoke` uses it while this runs" if functions.redis else "")
    lines = [f"Actionlog local API on {server.url}", f"  Redis: {redis}", f"  functions: {runs}"]
    width = max((len(route.path) for route in template.routes), default=0)
    for route in template.routes:
        access = route.authorizer or "public"
        lines.append(f"  {route.method:<7}{route.path:<{width + 2}}{route.function.logical_id} ({access})")
    if template.cors is not None:
        lines.append(f"  CORS: preflights answered for {', '.join(template.cors.allow_origins)}")
    lines.append(
        "One line per request below, with the functions' logs and Lambda's START/END/REPORT lines (--verbose)."
        if verbose
        else "One line per request below; the functions' logs: `make run VERBOSE=1` (--verbose)."
    )
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


class Shutdown:
    """Ctrl-C or SIGTERM stops the server once; more of them while it stops what it started are noted, not obeyed.

    An interrupted shutdown would leave emulators (in their own process groups) and redis-server running. A signal
    that comes while the run is still starting stops it as soon as it serves.
    """

    def __init__(self) -> None:
        self.requested = False
        self.serving = False

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a shell may start us with it ignored
            signal.signal(signum, self._on_signal)

    def done(self) -> None:
        """Nothing is left to stop: a signal from now on is ignored (Python's exit would restore the default, which
        ends the process by the signal instead of with its exit status)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.requested:
            os.write(2, b"Still stopping: the functions' emulators and the run's Redis first.\n")
            return
        self.requested = True
        if self.serving:
            raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.local_api", description="Serve the template's HTTP API.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print the functions' logs and Lambda's START, END and REPORT lines, as `sam local` does",
    )
    try:
        args, template, env_vars = parse_sam_local_args(parser, argv)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    shutdown = Shutdown()
    shutdown.install()
    functions: LocalFunctions | None = None
    try:
        functions = LocalFunctions(template.functions, env_vars=env_vars, log=sys.stderr if args.verbose else None)
        server = LocalApiServer(LocalApi(template, functions), port=args.port)
        if functions.redis is not None:
            running_api.announce(server.url, functions.redis)
        print(banner(server, template, functions, verbose=args.verbose), flush=True)
        shutdown.serving = True
        if shutdown.requested:
            raise KeyboardInterrupt
        server.serve_forever()
    except OSError as error:
        print(f"error: cannot listen on {LOOPBACK}:{args.port}: {error.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        shutdown.requested = True  # from here on, a signal is only noted
        print("Stopping.", file=sys.stderr, flush=True)
    finally:
        shutdown.requested = True
        running_api.withdraw()
        if functions is not None:
            functions.close()
        shutdown.done()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
