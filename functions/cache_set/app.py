"""PUT /cache/{key}: store a JSON value under an allowed prefix, with an optional TTL."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from actionlog import cache
from actionlog.auth import Access
from actionlog.errors import PayloadTooLarge
from actionlog.http import ActionlogApi, json_response
from actionlog.keys import CACHE_KEY_PATTERN, cache_key
from actionlog.models import MAX_CACHE_VALUE_BYTES, CachePut, CachePutResponse, encode_json
from actionlog.redis_client import get_redis
from actionlog.settings import get_settings

app = ActionlogApi(Access.CACHE)


@app.put("/cache/<key>")
def cache_set(
    key: Annotated[str, Path(pattern=CACHE_KEY_PATTERN)], request: Annotated[CachePut, Body(embed=False)]
) -> Response[CachePutResponse]:
    key = cache_key(key, get_settings().cache_key_prefixes)
    encoded = encode_json(request.value)
    if len(encoded.encode()) > MAX_CACHE_VALUE_BYTES:
        raise PayloadTooLarge(f"value must be at most {MAX_CACHE_VALUE_BYTES} bytes of JSON")
    cache.put(key, encoded, request.ttlSeconds, redis=get_redis())
    return json_response(HTTPStatus.OK, CachePutResponse(key=key, ttlSeconds=request.ttlSeconds))


lambda_handler = app.lambda_handler
