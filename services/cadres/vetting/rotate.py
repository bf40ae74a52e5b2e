"""One-off re-encryption of every vetting record with the first key of ``CADRES_VETTING_KEYS``.

    CADRES_VETTING_KEYS=<new>,<old> python -m services.cadres.vetting.rotate

Run it after prepending a new key (and restarting the replicas); then drop the old key. See
:mod:`services.cadres.vetting.keys`.
"""

from __future__ import annotations

import asyncio

from services.cadres.vetting.keys import load_cipher
from services.cadres.vetting.service import reencrypt_all
from shared.db import Database
from shared.migrations import redact_url
from shared.settings import ServiceSettings


async def main() -> None:
    settings = ServiceSettings.load("cadres")
    cipher = load_cipher(settings)
    db = Database(settings.database_url)
    try:
        count = await reencrypt_all(db, cipher)
    finally:
        await db.dispose()
    print(f"re-encrypted {count} vetting records in {redact_url(settings.database_url)}")


if __name__ == "__main__":
    asyncio.run(main())
