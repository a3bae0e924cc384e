import asyncio

import pytest

from cluster.followed_settings import FollowedSettings


class Owner:
    """The node that owns the settings: counts fetches, can be changed or broken."""

    def __init__(self) -> None:
        self.value = {"mode": "dense"}
        self.fetches = 0
        self.broken = False

    async def fetch(self) -> dict[str, str]:
        self.fetches += 1
        if self.broken:
            raise ConnectionError("router unreachable")
        return dict(self.value)


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_requests_within_the_interval_do_not_ask_the_owner_again():
    owner = Owner()
    followed = FollowedSettings(owner.fetch, refresh_s=60)
    assert [await followed.get() for _ in range(50)] == [{"mode": "dense"}] * 50
    assert owner.fetches == 1


async def test_a_change_reaches_the_follower_after_the_interval():
    owner = Owner()
    followed = FollowedSettings(owner.fetch, refresh_s=0.05)
    assert await followed.get() == {"mode": "dense"}
    owner.value = {"mode": "hybrid"}
    await asyncio.sleep(0.06)
    assert await followed.get() == {"mode": "dense"}  # served at once; the refresh runs behind
    await settle()
    assert await followed.get() == {"mode": "hybrid"}


async def test_a_failed_refresh_keeps_the_last_good_settings():
    owner = Owner()
    followed = FollowedSettings(owner.fetch, refresh_s=0.01)
    await followed.get()
    owner.broken = True
    await asyncio.sleep(0.02)
    await followed.get()
    await settle()
    assert await followed.get() == {"mode": "dense"}
    assert owner.fetches >= 2


async def test_no_settings_at_all_is_an_error_not_a_default():
    owner = Owner()
    owner.broken = True
    with pytest.raises(ConnectionError):
        await FollowedSettings(owner.fetch).get()
