"""The Lua scripts Actionlog runs: each operation that must check and write atomically is one script, one round trip.

Every script starts with the same prelude:

- `call(command, ...)`: `redis.call`, except that a command the ACL denies fails with NOPERM, as the command alone
  would, rather than the plain ERR a script gets (redis-py raises NOPERM as NoPermissionError: a 503 with a log
  line naming the cause, not a 500);
- `now_ms()`: the server's clock, so that Lambda clocks never matter;
- `count_request(key, limit, window, now, lenient)`: one request counted in the fixed window, aligned to the
  epoch, that holds `now` (`limit` and `window` as ARGV gives them); it returns the requests counted so far in the
  window (-1 when `limit` is 0: no limit), the milliseconds to the window's end, and whether the request is over
  the limit. `lenient`: a count the store cannot write for lack of memory is skipped
  (-1) rather than failing the request, so reads keep working while Redis refuses writes.

Scripts name every key they touch in KEYS, all in one hash slot, so they run on Redis Cluster too (keys.py); the
shared cache's take its key and the client's counter together on a standalone Redis only (cache._shared).
"""

from actionlog.wire import Script

PRELUDE = """
local function raise(reply, command, ...)
  if redis.acl_check_cmd and not redis.acl_check_cmd(command, ...) then
    error({err = 'NOPERM this user has no permissions to run the ' .. command .. ' command'})
  end
  error(reply)
end
local function call(command, ...)
  local reply = redis.pcall(command, ...)
  if type(reply) == 'table' and reply.err then
    raise(reply, command, ...)
  end
  return reply
end
local function now_ms()
  local time = call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local function count_request(key, limit, window, now, lenient)
  limit = tonumber(limit)
  if limit <= 0 then
    return -1, 0, false
  end
  window = tonumber(window)
  local reset_at = (math.floor(now / window) + 1) * window
  local used = redis.pcall('INCR', key)
  if type(used) == 'table' and used.err then
    if lenient and string.sub(used.err, 1, 4) == 'OOM ' then
      return -1, 0, false
    end
    raise(used, 'INCR', key)
  end
  if used == 1 then
    call('PEXPIREAT', key, reset_at)
  end
  return used, reset_at - now, used > limit
end
"""


def script(body: str) -> Script:
    """A script of the prelude and `body`; its SHA is computed once, and the client is given at each call."""
    return Script(PRELUDE + body)


# KEYS: the counter. ARGV: the limit, the window (ms), 1 to skip a count the store cannot write.
# Returns {requests counted in the window, ms to its end}.
COUNT = script("""
local used, reset = count_request(KEYS[1], ARGV[1], ARGV[2], now_ms(), ARGV[3] == '1')
return {used, reset}
""")
