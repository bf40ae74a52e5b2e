"""The keys of vetting records: Fernet (AES-128-CBC + HMAC-SHA256), several at once for rotation.

``CADRES_VETTING_KEYS`` holds comma-separated Fernet keys (``Fernet.generate_key()``): the first encrypts,
every one decrypts (``MultiFernet``). Rotation, without downtime:

1. prepend a new key: ``CADRES_VETTING_KEYS=<new>,<old>`` and restart the replicas (new records use the new
   key; old ones still decrypt);
2. re-encrypt every record with the first key, once:
   ``CADRES_VETTING_KEYS=<new>,<old> python -m services.cadres.vetting.rotate``
   (against ``CADRES_DATABASE_URL``);
3. drop the old key: ``CADRES_VETTING_KEYS=<new>`` and restart.

In development and tests, when the variable is unset, a key is generated once into
``<TOCHUC_DATA_DIR>/cadres-vetting.key`` (mode 0600). ``TOCHUC_ENV=production`` refuses to start without
the variable: a key lying next to the data would protect nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from shared.settings import CommonSettings, UnsafeConfiguration

ENV_VAR = "CADRES_VETTING_KEYS"
KEY_FILE = "cadres-vetting.key"


class VettingKeysMissing(UnsafeConfiguration):
    """Production without ``CADRES_VETTING_KEYS``, or a malformed key in it."""


def _parse(raw: str) -> list[Fernet]:
    keys: list[Fernet] = []
    for i, key in enumerate(k.strip() for k in raw.split(",")):
        if not key:
            continue
        try:
            keys.append(Fernet(key.encode()))
        except (ValueError, TypeError) as exc:  # never echo the key itself
            raise VettingKeysMissing(
                f"{ENV_VAR}: key #{i + 1} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from exc
    if not keys:
        raise VettingKeysMissing(f"{ENV_VAR} is set but holds no key")
    return keys


def _dev_key(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    return key


def load_cipher(settings: CommonSettings, environ: dict[str, str] | None = None) -> MultiFernet:
    """The cipher of vetting records, from the environment (or, outside production, the data dir's key)."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_VAR, "").strip()
    if raw:
        return MultiFernet(_parse(raw))
    if settings.env == "production":
        raise VettingKeysMissing(
            f"{ENV_VAR} is required in production: comma-separated Fernet keys, the first encrypts, all "
            "decrypt (generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        )
    return MultiFernet([Fernet(_dev_key(settings.data_dir / KEY_FILE))])
