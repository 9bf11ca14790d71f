"""The broker: every key, stream and script the cluster keeps in Redis, in one place.

    <prefix>:lines               LIST    the users with runs waiting, in the fair queue's turn
    <prefix>:line:<user>         LIST    that user's waiting run ids, oldest first
    <prefix>:waiting             STRING  how many runs wait in all (the queue's total bound)
    <prefix>:run:<id>            HASH    a run: its request (JSON), user, state, worker, times
    <prefix>:live                SET     the runs not yet ended, for every front's class view
    <prefix>:work                STREAM  runs handed to a worker (group "workers"): an entry
                                         stays pending on its worker until the run starts, so
                                         a dead worker's not-started runs are claimed again
    <prefix>:events:<id>         STREAM  a run's events, as the API streams them
    <prefix>:control:<id>        STREAM  what a front asks of a running run: input, eof, cancel
    <prefix>:results             STREAM  every ended run's history row (group "history": one
                                         front writes each, another takes over a dead one's)
    <prefix>:workers             HASH    worker name -> its figures (JSON)
    <prefix>:alive:<name>        STRING  a worker's heartbeat, expiring: gone when it lapses
    <prefix>:worker-runs:<name>  SET     the runs a worker has started
    <prefix>:wake:<runtime>      LIST    a nudge for an idle worker offering that runtime: a run
                                         that needs it was queued
    <prefix>:demo:*                      the teacher's demo: its keys are demo_board.py's

The queue's moves are Lua scripts, so that two fronts and any number of workers never
see it half-changed. redis-py loads only here and in the modules that use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from runner import Limits

from ..service.requests import RunRequest

PREFIX = "tui-sandbox"
WORKERS_GROUP = "workers"
HISTORY_GROUP = "history"
HEARTBEAT_S = 1.0
ALIVE_S = 4.0                  # a worker not heard of for this long is gone
KEEP_ENDED_S = 3600            # an ended run's events stay readable (GET /runs/{id}) this long
INSTALL = "pip install 'tui-sandbox[cluster]'"


@dataclass(frozen=True)
class Taken:
    """A run a worker has taken: its entry in the work stream, and what the front asked."""
    entry_id: str
    run_id: str
    request: str           # JSON, request_from_json's; empty if the broker lost the run
    queued_at: str


class BrokerError(Exception):
    """The broker cannot be used: what is wrong and the fix, in one line."""


def redis_module():
    """redis.asyncio, or BrokerError saying how to install the cluster's extra."""
    try:
        import redis.asyncio
    except ImportError:
        raise BrokerError(f"the cluster needs redis-py and psycopg: {INSTALL}") from None
    return redis.asyncio


def connect(url: str):
    """A client of the broker at url (redis:// or rediss://), retrying a dropped
    connection by itself (Redis restarted) for a few seconds before a call fails."""
    aioredis = redis_module()
    from redis.asyncio.retry import Retry  # the asyncio client's own (redis-py 8 warns at a sync one)
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError, TimeoutError

    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise BrokerError(f"--broker {url!r} is not a Redis URL: write it like redis://HOST:6379/0")
    return aioredis.from_url(url, decode_responses=True, health_check_interval=5,
                             retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 8),
                             retry_on_error=[ConnectionError, TimeoutError], max_connections=2000)


async def check(client, url: str) -> None:
    """Ask the broker once; BrokerError with the fix if it does not answer as it should."""
    from redis.exceptions import AuthenticationError, ConnectionError, ResponseError, TimeoutError

    where = _safe(url)
    try:
        await client.ping()
    except AuthenticationError:
        raise BrokerError(f"the broker at {where} refused the password: give the right one in the URL, "
                          "redis://:PASSWORD@HOST:6379/0") from None
    except ResponseError as exc:
        if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
            raise BrokerError(f"the broker at {where} wants a password: give it in the URL, "
                              "redis://:PASSWORD@HOST:6379/0") from None
        raise BrokerError(f"the broker at {where} answered: {exc}") from None
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise BrokerError(f"the broker at {where} does not answer ({_first_line(exc)}): start Redis there "
                          "(redis-server --port 6379), or fix --broker") from None


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


@dataclass(frozen=True)
class Keys:
    prefix: str = PREFIX

    def __getattr__(self, name: str) -> str:            # lines, waiting, live, work, results, workers
        if name.startswith("_"):
            raise AttributeError(name)
        return f"{self.prefix}:{name}"

    def wake(self, runtime: str) -> str:
        return f"{self.prefix}:wake:{runtime}"

    def line(self, user: str) -> str:
        return f"{self.prefix}:line:{user}"

    def run(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}"

    def events(self, run_id: str) -> str:
        return f"{self.prefix}:events:{run_id}"

    def control(self, run_id: str) -> str:
        return f"{self.prefix}:control:{run_id}"

    def alive(self, worker: str) -> str:
        return f"{self.prefix}:alive:{worker}"

    def worker_runs(self, worker: str) -> str:
        return f"{self.prefix}:worker-runs:{worker}"


# --- a request as data ----------------------------------------------------------------

def request_to_json(request: RunRequest) -> str:
    data = {f.name: getattr(request, f.name) for f in fields(request)}
    data["limits"] = request.limits.to_dict()
    return json.dumps(data)


def request_from_json(text: str) -> RunRequest:
    data = json.loads(text)
    known = {f.name for f in fields(RunRequest)}
    values = {key: value for key, value in data.items() if key in known}
    values["limits"] = Limits.from_dict(data.get("limits") or {})
    return RunRequest(**values)


# --- the queue's scripts ----------------------------------------------------------------
# KEYS are the fixed keys; a run's and a line's keys are made from the prefix (ARGV[1]):
# one Redis, not a Redis Cluster, holds the queue.

ADMIT = """
local lines, waiting, live, wake = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, user, id, per_user, total, request, queued_at, front, runtime =
  ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local line = prefix .. ':line:' .. user
local mine = redis.call('LLEN', line)
if mine >= per_user then return {-1, mine} end
local all = tonumber(redis.call('GET', waiting) or '0')
if all >= total then return {-2, all} end
redis.call('HSET', prefix .. ':run:' .. id, 'request', request, 'user', user, 'state', 'queued',
           'queued_at', queued_at, 'front', front, 'runtime', runtime)
if mine == 0 then redis.call('RPUSH', lines, user) end
redis.call('RPUSH', line, id)
redis.call('INCR', waiting)
redis.call('SADD', live, id)
redis.call('LPUSH', wake, '1')
redis.call('LTRIM', wake, 0, 63)
return {0, all + 1}
"""

# The next run in the fair queue's order that this worker can run (its runtime is one the
# worker offers: a line whose next run needs another is left for a worker that has it),
# handed to the work stream and read from it by this worker in one step: the stream's
# pending list then says which worker holds it. It answers the run's request with it.
TAKE = """
local lines, waiting, work = KEYS[1], KEYS[2], KEYS[3]
local prefix, group, worker, offered = ARGV[1], ARGV[2], ARGV[3], ',' .. ARGV[4] .. ','
local function runnable(runtime)
  return offered == ',,' or not runtime or runtime == ''
    or string.find(offered, ',' .. runtime .. ',', 1, true) ~= nil
end
local taken = false
for _, user in ipairs(redis.call('LRANGE', lines, 0, -1)) do
  local line = prefix .. ':line:' .. user
  while not taken do
    local id = redis.call('LINDEX', line, 0)
    if not id then
      redis.call('LREM', lines, 1, user)
      break
    end
    local run = prefix .. ':run:' .. id
    local found = redis.call('HMGET', run, 'request', 'runtime')
    if not found[1] then
      redis.call('LPOP', line)                      -- lost with the broker's data: skipped
      redis.call('DECR', waiting)
    elseif not runnable(found[2]) then
      break                                         -- this line waits for a worker that has it
    else
      redis.call('LPOP', line)
      redis.call('DECR', waiting)
      redis.call('LREM', lines, 1, user)
      if redis.call('LLEN', line) > 0 then redis.call('RPUSH', lines, user) end
      redis.call('HSET', run, 'state', 'taken', 'worker', worker)
      redis.call('XADD', work, '*', 'id', id)
      taken = true
    end
  end
  if taken then break end
end
local got = redis.call('XREADGROUP', 'GROUP', group, worker, 'COUNT', 1, 'STREAMS', work, '>')
if not got then return nil end
local entry = got[1][2][1]
local id = entry[2][2]
local run = redis.call('HMGET', prefix .. ':run:' .. id, 'request', 'queued_at')
return {entry[1], id, run[1] or '', run[2] or ''}
"""

# A waiting run taken out of the line (cancelled): 1 if it was still waiting.
WITHDRAW = """
local lines, waiting = KEYS[1], KEYS[2]
local prefix, user, id = ARGV[1], ARGV[2], ARGV[3]
local line = prefix .. ':line:' .. user
if redis.call('LREM', line, 1, id) == 0 then return 0 end
redis.call('DECR', waiting)
if redis.call('LLEN', line) == 0 then redis.call('LREM', lines, 1, user) end
redis.call('HSET', prefix .. ':run:' .. id, 'state', 'ended')
return 1
"""

# A run a dead worker had taken and not started goes back to the head of its user's
# line, and that user to the head of the round: it has waited its turn already.
REQUEUE = """
local lines, waiting = KEYS[1], KEYS[2]
local prefix, user, id = ARGV[1], ARGV[2], ARGV[3]
local line = prefix .. ':line:' .. user
local wake = prefix .. ':wake:' .. (redis.call('HGET', prefix .. ':run:' .. id, 'runtime') or 'runc')
if redis.call('LLEN', line) == 0 then redis.call('LPUSH', lines, user) end
redis.call('LPUSH', line, id)
redis.call('INCR', waiting)
redis.call('HSET', prefix .. ':run:' .. id, 'state', 'queued', 'worker', '')
redis.call('LPUSH', wake, '1')
return 1
"""


# A worker's runs under way, told again to a broker that may have lost its data (a
# restart without persistence): one that has ended meanwhile is left ended, so a
# heartbeat that crosses a run's end never brings it back to life.
REMEMBER = """
local prefix, worker = ARGV[1], ARGV[2]
for i = 3, #ARGV do
  local id = ARGV[i]
  local run = prefix .. ':run:' .. id
  if redis.call('HGET', run, 'state') ~= 'ended' then
    redis.call('HSET', run, 'state', 'running', 'worker', worker)
    redis.call('SADD', prefix .. ':worker-runs:' .. worker, id)
    redis.call('SADD', prefix .. ':live', id)
  end
end
return 1
"""


class Broker:
    """The cluster's Redis, as the fronts and workers use it."""

    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self.url = url
        self.keys = Keys(prefix)
        self.redis = connect(url)
        self._admit = self.redis.register_script(ADMIT)
        self._take = self.redis.register_script(TAKE)
        self._withdraw = self.redis.register_script(WITHDRAW)
        self._requeue = self.redis.register_script(REQUEUE)
        self._remember = self.redis.register_script(REMEMBER)

    async def check(self) -> None:
        await check(self.redis, self.url)

    async def ensure_groups(self) -> None:
        """The consumer groups exist (again, after a Redis that lost its data)."""
        from redis.exceptions import ResponseError

        for stream, group in ((self.keys.work, WORKERS_GROUP), (self.keys.results, HISTORY_GROUP)):
            try:
                await self.redis.xgroup_create(stream, group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def admit(self, run_id: str, request: RunRequest, *, per_user: int, total: int, queued_at: float,
                    front: str) -> tuple[int, int]:
        """(0, waiting in all), (-1, this user's waiting) or (-2, waiting in all)."""
        k = self.keys
        code, count = await self._admit(
            keys=[k.lines, k.waiting, k.live, k.wake(request.limits.runtime)],
            args=[k.prefix, request.user, run_id, per_user, total, request_to_json(request), queued_at, front,
                  request.limits.runtime])
        return int(code), int(count)

    async def take(self, worker: str, runtimes: tuple[str, ...] = ()) -> Taken | None:
        """The next run for worker, one of whose runtimes it needs (any, if none are given), or None."""
        k = self.keys
        got = await self._take(keys=[k.lines, k.waiting, k.work],
                               args=[k.prefix, WORKERS_GROUP, worker, ",".join(runtimes)])
        return Taken(*got) if got else None

    async def withdraw(self, run_id: str, user: str) -> bool:
        k = self.keys
        return bool(await self._withdraw(keys=[k.lines, k.waiting], args=[k.prefix, user, run_id]))

    async def requeue(self, run_id: str, user: str) -> None:
        k = self.keys
        await self._requeue(keys=[k.lines, k.waiting], args=[k.prefix, user, run_id])

    async def remember(self, worker: str, run_ids: list[str]) -> None:
        """The runs under way on worker, known again to a broker that lost them."""
        if run_ids:
            await self._remember(keys=[], args=[self.keys.prefix, worker, *run_ids])

    async def waiting_lines(self) -> list[tuple[str, list[str]]]:
        """Each waiting user's run ids, in the round's order."""
        users = await self.redis.lrange(self.keys.lines, 0, -1)
        if not users:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for user in users:
                pipe.lrange(self.keys.line(user), 0, -1)
            lines = await pipe.execute()
        return list(zip(users, lines, strict=True))

    async def workers(self) -> dict[str, dict]:
        """Every worker the broker knows of, each with `up` (its heartbeat is fresh)."""
        known = await self.redis.hgetall(self.keys.workers)
        if not known:
            return {}
        names = sorted(known)
        alive = await self.redis.mget([self.keys.alive(name) for name in names])
        return {name: {**json.loads(known[name]), "name": name, "up": beat is not None}
                for name, beat in zip(names, alive, strict=True)}

    async def publish(self, run_id: str, *events: dict) -> None:
        """Some of a run's events, in order, for every front that follows it: those that
        came together go in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.xadd(self.keys.events(run_id), {"e": json.dumps(event)})
            await pipe.execute()

    async def end(self, run_id: str, record: dict, event: dict, before: tuple[dict, ...] = ()) -> None:
        """A run has ended: the events that came just before its end, its history row (for
        the fronts' writer), then its last event. Its keys expire a while later."""
        k = self.keys
        async with self.redis.pipeline(transaction=True) as pipe:
            for earlier in before:
                pipe.xadd(k.events(run_id), {"e": json.dumps(earlier)})
            pipe.xadd(k.results, {"record": json.dumps(record)})
            pipe.xadd(k.events(run_id), {"e": json.dumps(event)})
            pipe.hset(k.run(run_id), mapping={"state": "ended"})
            pipe.srem(k.live, run_id)
            for key in (k.run(run_id), k.events(run_id)):
                pipe.expire(key, KEEP_ENDED_S)
            pipe.delete(k.control(run_id))
            await pipe.execute()

    async def close(self) -> None:
        await self.redis.aclose()


def check_url(url: str) -> None:
    """Ask the broker at url once, from outside any event loop; BrokerError if it cannot be used."""
    import asyncio

    async def ask() -> None:
        client = connect(url)
        try:
            await check(client, url)
        finally:
            await client.aclose()

    asyncio.run(ask())
