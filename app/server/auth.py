"""Who is asking: the bearer key checked against the users' hashed keys, with bad keys from
one address slowed down and then refused for a while."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import Request

from app.server.errors import ApiError
from app.server.limits import FailedAuthThrottle
from app.store.server_users import OfficeUser, UserStore


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated user; None when the server has no users yet (loopback only: the
    serve command refuses any other bind without users)."""

    user: OfficeUser | None

    @property
    def name(self) -> str | None:
        return self.user.name if self.user else None

    @property
    def allowed_targets(self) -> frozenset[str] | None:
        return frozenset(self.user.limits.routes) if self.user else None


class Authenticator:
    def __init__(self, users: UserStore) -> None:
        self.users = users
        self.throttle = FailedAuthThrottle()

    async def caller(self, request: Request) -> Caller:
        address = request.client.host if request.client else "unknown"
        self.throttle.check(address)
        if not self.users.any():
            return Caller(None)
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise ApiError(401, "No API key: send 'Authorization: Bearer <key>' with the key "
                                "`stillroom users add` printed.", code="missing_api_key")
        user = self.users.authenticate(key.strip())
        if user is None:
            # Slower with every bad key from this address: guessing costs time, a typo little.
            await asyncio.sleep(self.throttle.failed(address))
            raise ApiError(401, "Incorrect API key; ask the server's admin for yours "
                                "(`stillroom users rotate NAME` makes a new one).",
                           code="invalid_api_key")
        return Caller(user)
