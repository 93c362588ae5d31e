"""Signed checkpoints made by the service itself, at a steady pace, in the process that seals.

Events deleted from the end of the log together with their seals leave nothing to compare
with but a signed checkpoint (the seals and the sealer's position are the attacker's to
change): what an attacker can remove unnoticed is what was sealed since the last one. So
with a signing key the sealing process signs the newest seal every MAL_CHECKPOINT_SECONDS,
when it moved since, besides the checkpoints auditors ask for.
"""

import logging

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine

from app.audit_store import make_checkpoint
from app.periodic import Periodic

log = logging.getLogger(__name__)


class PeriodicCheckpoints(Periodic):
    def __init__(self, engine: Engine, private: Ed25519PrivateKey, interval: float) -> None:
        super().__init__("checkpoints", interval, self.sign)
        self._engine = engine
        self._private = private
        self._failed = ""  # what the last round raised, logged once

    def sign(self) -> None:
        """Sign the newest seal, unless a checkpoint holds it already."""
        try:
            make_checkpoint(self._engine, self._private)
            self._failed = ""
        except ValueError:
            pass  # nothing sealed yet
        except Exception as error:
            if repr(error) != self._failed:
                log.exception("signing a checkpoint failed; trying again")
            self._failed = repr(error)
