"""QAD over its REST API: one implementation of the channel seam (`qad/channel.py`).

See `RestChannel` and docs/qad-rest.md for the wire contract.
"""

from ml_connector.qad.rest.adapter import QadAdapter
from ml_connector.qad.rest.channel import RestChannel

__all__ = ["QadAdapter", "RestChannel"]
