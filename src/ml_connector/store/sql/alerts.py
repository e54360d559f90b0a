"""Alert rules on SQL: where a connection's alerts go, and which of their conditions fire.

A rule's destination (a webhook URL, SMTP settings with their password) is encrypted with the
vault like connection secrets, and rotated with them. A condition's state flips with one
conditional UPDATE (``WHERE active = not active``), so when several processes evaluate at once
exactly one of them sees the row change and sends the notice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update

from ml_connector.store import tables as t
from ml_connector.store.models import AlertRule
from ml_connector.store.sql.base import SqlBase, fetch_all

__all__ = ["SqlAlerts"]


class SqlAlerts(SqlBase):
    """:class:`~ml_connector.store.protocols.Alerts` on SQL."""

    async def add_alert_rule(
        self,
        connection_id: int,
        channel: str,
        target: dict[str, Any],
        conditions: Sequence[str],
    ) -> AlertRule:
        """Store a rule; the destination is encrypted with the vault like connection secrets."""
        token = self._need_vault().encrypt(json.dumps(target, sort_keys=True))
        now = self._clock()
        async with self._session() as c:
            result = await c.execute(
                t.alert_rules.insert().values(
                    connection_id=connection_id,
                    channel=channel,
                    target_enc=token,
                    conditions=list(conditions),
                    created_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            rule_id = int(key[0])
        return AlertRule(rule_id, connection_id, channel, tuple(conditions), now, dict(target))

    async def list_alert_rules(self, connection_id: int) -> list[AlertRule]:
        """The connection's rules, oldest first, destinations decrypted."""
        async with self._session(write=False) as c:
            rows = await fetch_all(
                c,
                select(t.alert_rules)
                .where(t.alert_rules.c.connection_id == connection_id)
                .order_by(t.alert_rules.c.id),
            )
        if not rows:
            return []
        vault = self._need_vault()
        return [
            AlertRule(
                id=row["id"],
                connection_id=row["connection_id"],
                channel=row["channel"],
                conditions=tuple(row["conditions"]),
                created_at=row["created_at"],
                target=json.loads(vault.decrypt(row["target_enc"])),
            )
            for row in rows
        ]

    async def remove_alert_rule(self, connection_id: int, rule_id: int) -> bool:
        """Delete one rule (and its states); False when the connection has no such rule."""
        async with self._session() as c:
            result = await c.execute(
                delete(t.alert_rules).where(
                    t.alert_rules.c.id == rule_id, t.alert_rules.c.connection_id == connection_id
                )
            )
        return bool(result.rowcount)

    async def claim_alert(self, rule_id: int, condition: str, *, active: bool) -> bool:
        """Flip a condition's state to ``active``; True only for the one caller that flipped it.

        The flip is one conditional UPDATE (``WHERE active = not active``), so when several
        processes evaluate at once exactly one of them sees a row changed and sends the notice.
        """
        now = self._clock()
        async with self._session() as c:
            await c.execute(
                self._insert(t.alert_states)
                .values(rule_id=rule_id, condition=condition, active=False, since=None)
                .on_conflict_do_nothing(index_elements=["rule_id", "condition"])
            )
            result = await c.execute(
                update(t.alert_states)
                .where(
                    t.alert_states.c.rule_id == rule_id,
                    t.alert_states.c.condition == condition,
                    t.alert_states.c.active == (not active),
                )
                .values(active=active, since=now)
            )
        return result.rowcount == 1

    async def unclaim_alert(self, rule_id: int, condition: str, *, active: bool) -> None:
        """Undo :meth:`claim_alert` after a failed delivery, so the next pass tries again."""
        async with self._session() as c:
            await c.execute(
                update(t.alert_states)
                .where(
                    t.alert_states.c.rule_id == rule_id,
                    t.alert_states.c.condition == condition,
                    t.alert_states.c.active == active,
                )
                .values(active=not active)
            )

    async def alert_sent(self, rule_id: int, condition: str) -> None:
        """Note when a notice for this condition last went out."""
        async with self._session() as c:
            await c.execute(
                update(t.alert_states)
                .where(t.alert_states.c.rule_id == rule_id, t.alert_states.c.condition == condition)
                .values(last_sent_at=self._clock())
            )

    async def alert_states(self, rule_id: int) -> dict[str, bool]:
        """Each condition of a rule that was ever evaluated, and whether it is firing."""
        async with self._session(write=False) as c:
            rows = await fetch_all(
                c,
                select(t.alert_states.c.condition, t.alert_states.c.active).where(
                    t.alert_states.c.rule_id == rule_id
                ),
            )
        return {row["condition"]: bool(row["active"]) for row in rows}
