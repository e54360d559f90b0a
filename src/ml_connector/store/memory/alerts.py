"""Alert rules in memory: destinations encrypted with the vault, one state per condition."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from ml_connector.store.memory.base import MemoryBase, as_json
from ml_connector.store.models import AlertRule

__all__ = ["MemoryAlerts"]


class MemoryAlerts(MemoryBase):
    """:class:`~ml_connector.store.protocols.Alerts` in memory."""

    async def add_alert_rule(
        self,
        connection_id: int,
        channel: str,
        target: dict[str, Any],
        conditions: Sequence[str],
    ) -> AlertRule:
        token = self._vault.encrypt(json.dumps(target, sort_keys=True))
        now = self._clock()
        async with self._write("add_alert_rule"):
            self._owned(connection_id)
            row = self._insert(
                "alert_rules",
                {
                    "connection_id": connection_id,
                    "channel": channel,
                    "target_enc": token,
                    "conditions": as_json(list(conditions)),
                    "created_at": now,
                },
            )
        return AlertRule(row["id"], connection_id, channel, tuple(conditions), now, dict(target))

    async def list_alert_rules(self, connection_id: int) -> list[AlertRule]:
        self._read("list_alert_rules")
        rows = sorted(
            self._rows("alert_rules", connection_id=connection_id), key=lambda row: row["id"]
        )
        return [
            AlertRule(
                id=row["id"],
                connection_id=row["connection_id"],
                channel=row["channel"],
                conditions=tuple(copy.deepcopy(row["conditions"])),
                created_at=row["created_at"],
                target=json.loads(self._vault.decrypt(row["target_enc"])),
            )
            for row in rows
        ]

    async def remove_alert_rule(self, connection_id: int, rule_id: int) -> bool:
        async with self._write("remove_alert_rule"):
            row = self._tables["alert_rules"].get(rule_id)
            if row is None or row["connection_id"] != connection_id:
                return False
            self._drop_rules([rule_id])
        return True

    async def claim_alert(self, rule_id: int, condition: str, *, active: bool) -> bool:
        now = self._clock()
        key = (rule_id, condition)
        async with self._write("claim_alert"):
            if rule_id not in self._tables["alert_rules"]:
                raise self._missing_rule(rule_id)
            state = self._tables["alert_states"].get(key) or self._put(
                "alert_states",
                key,
                {
                    "rule_id": rule_id,
                    "condition": condition,
                    "active": False,
                    "since": None,
                    "last_sent_at": None,
                },
            )
            if state["active"] == active:
                return False
            self._put("alert_states", key, {**state, "active": active, "since": now})
        return True

    async def unclaim_alert(self, rule_id: int, condition: str, *, active: bool) -> None:
        key = (rule_id, condition)
        async with self._write("unclaim_alert"):
            state = self._tables["alert_states"].get(key)
            if state is not None and state["active"] == active:
                self._put("alert_states", key, {**state, "active": not active})

    async def alert_sent(self, rule_id: int, condition: str) -> None:
        key = (rule_id, condition)
        async with self._write("alert_sent"):
            state = self._tables["alert_states"].get(key)
            if state is not None:
                self._put("alert_states", key, {**state, "last_sent_at": self._clock()})

    async def alert_states(self, rule_id: int) -> dict[str, bool]:
        self._read("alert_states")
        return {
            state["condition"]: bool(state["active"])
            for state in self._tables["alert_states"].values()
            if state["rule_id"] == rule_id
        }
