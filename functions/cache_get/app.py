"""GET /cache/{key}: the stored value and its remaining TTL; 404 when absent."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from actionlog import cache
from actionlog.auth import Access
from actionlog.errors import NotFound
from actionlog.http import ActionlogApi, json_response
from actionlog.keys import CACHE_KEY_PATTERN, cache_key
from actionlog.models import CacheGetResponse
from actionlog.observability import count
from actionlog.redis_client import get_redis
from actionlog.settings import get_settings

app = ActionlogApi(Access.CACHE)


@app.get("/cache/<key>")
def cache_get(key: Annotated[str, Path(pattern=CACHE_KEY_PATTERN)]) -> Response[CacheGetResponse]:
    key = cache_key(key, get_settings().cache_key_prefixes)
    cached = cache.get(key, redis=get_redis())
    count("CacheMiss" if cached is None else "CacheHit")
    if cached is None:
        raise NotFound(f"no cached value for {key}")
    value = cache.decode(cached)
    return json_response(HTTPStatus.OK, CacheGetResponse(key=key, value=value, ttlSeconds=cached.ttl_seconds))


lambda_handler = app.lambda_handler
