"""The teacher's demo in the broker (service.demo_board's protocol), so that a push taken
by any front reaches the students of every front, those who come later too, and the
teacher's peek sees what a student's app reported to another front.

    <prefix>:demo:ids       STRING  the last push's id: ids count up for the broker's life
    <prefix>:demo:pushes    STREAM  the last MAX_PUSHES pushes (fields id, push: JSON)
    <prefix>:demo:programs  HASH    user -> what their editor last held (JSON)

Every front reads the one stream, so a push fans out to them all as the students' apps
poll (GET /class/demo), and nothing is missed by a front that was restarting. A front
reads the whole stream again only when its newest entry changed. A class's pushes and
programs go a day after the last one, so that the next class does not find them.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager

from ..service.demo_board import MAX_PUSHES, DemoPush, StudentProgram, reported
from ..service.requests import Refused
from .broker import Broker, _first_line, _safe

KEEP_S = 24 * 3600
# The broker's client rides out a Redis restart for several seconds; a student's app waits
# 5 s for the demo (remote.DEMO_TIMEOUT): the server's 503 must come before that.
ANSWER_WITHIN_S = 3.0

# One id and one entry in one step: two fronts' pushes never share an id nor cross.
PUSH = """
local id = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], '*', 'id', id, 'push', ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return id
"""


class BrokerAway(Refused):
    """The broker that keeps the demo does not answer."""
    status = 503


class RedisDemoBoard:
    """A DemoBoard in the cluster's broker, shared by every front."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        prefix = broker.keys.prefix
        self.ids_key, self.pushes_key = f"{prefix}:demo:ids", f"{prefix}:demo:pushes"
        self.programs_key = f"{prefix}:demo:programs"
        self._push = broker.redis.register_script(PUSH)
        self._read: tuple[str, list[DemoPush]] = ("", [])     # the newest entry's id, and every push then

    async def push(self, code: str, language: str, limits: dict, title: str) -> DemoPush:
        pushed = DemoPush(id=0, title=title, code=code, language=language, limits=limits, pushed_at=time.time())
        async with self._asking():
            number = await self._push(keys=[self.ids_key, self.pushes_key],
                                      args=[pushed.model_dump_json(exclude={"id"}), MAX_PUSHES, KEEP_S])
        return pushed.model_copy(update={"id": int(number)})

    async def pushes(self) -> list[DemoPush]:
        async with self._asking():
            newest = await self.broker.redis.xrevrange(self.pushes_key, count=1)
            if not newest:
                return []
            if newest[0][0] != self._read[0]:
                entries = await self.broker.redis.xrange(self.pushes_key)
                self._read = (entries[-1][0], [_push_of(fields) for _entry, fields in entries])
        return self._read[1]

    async def report(self, user: str, code: str, language: str) -> None:
        async with self._asking():
            async with self.broker.redis.pipeline(transaction=True) as pipe:
                pipe.hset(self.programs_key, user, reported(code, language).model_dump_json())
                pipe.expire(self.programs_key, KEEP_S)
                await pipe.execute()

    async def program(self, user: str) -> StudentProgram | None:
        async with self._asking():
            text = await self.broker.redis.hget(self.programs_key, user)
        return StudentProgram.model_validate_json(text) if text else None

    @asynccontextmanager
    async def _asking(self):
        from redis.exceptions import RedisError

        try:
            async with asyncio.timeout(ANSWER_WITHIN_S):
                yield
        except (RedisError, TimeoutError) as exc:
            why = _first_line(exc) if isinstance(exc, RedisError) else f"not within {ANSWER_WITHIN_S:g} s"
            away = BrokerAway(f"the class's demo is kept in Redis at {_safe(self.broker.url)} (the cluster's "
                              f"broker), which does not answer ({why})",
                              "start Redis there again, then ask again (the students' apps ask by themselves)")
            raise away from None

def _push_of(fields: dict) -> DemoPush:
    return DemoPush(id=int(fields["id"]), **json.loads(fields["push"]))
