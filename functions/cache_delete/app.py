"""DELETE /cache/{key}: remove a cached value."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from actionlog import cache
from actionlog.auth import Access
from actionlog.http import ActionlogApi, json_response
from actionlog.keys import CACHE_KEY_PATTERN, cache_key
from actionlog.models import CacheDeleteResponse
from actionlog.redis_client import get_redis
from actionlog.settings import get_settings

app = ActionlogApi(Access.CACHE)


@app.delete("/cache/<key>")
def cache_delete(key: Annotated[str, Path(pattern=CACHE_KEY_PATTERN)]) -> Response[CacheDeleteResponse]:
    key = cache_key(key, get_settings().cache_key_prefixes)
    deleted = cache.delete(key, redis=get_redis())
    return json_response(HTTPStatus.OK, CacheDeleteResponse(key=key, deleted=deleted))


lambda_handler = app.lambda_handler
