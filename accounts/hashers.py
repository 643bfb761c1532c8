"""A fast keyed hash for OAuth client secrets, never for passwords.

A password is guessable, so Django stretches it (PBKDF2, about 0.5 s of CPU a check); that cost is
what made every wrong client secret at ``/o/token/`` as dear as a sign-in, and why guesses had to be
cut off per client. A client secret is 128 random characters (``generate_client_secret``; the admin
form asks for at least ``CLIENT_SECRET_MIN_LENGTH`` when one is typed), so stretching buys nothing:
nobody can enumerate it, online or from a leaked hash. HMAC-SHA256 keyed with a key derived from
``SECRET_KEY`` costs microseconds, and a leaked database alone cannot even test a guess.

Django only knows a hash format through ``PASSWORD_HASHERS``, which is how django-oauth-toolkit's
``ClientSecretField`` hashes (``make_password(secret, hasher=CLIENT_SECRET_HASHER)``) and recognises
an already-hashed secret (``identify_hasher``). So this class is in that list, *last*: Django hashes
user passwords with the first, and a sign-in with any other format re-hashes the password with the
first. The toolkit names it explicitly (``OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"]``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import BasePasswordHasher, identify_hasher, mask_hash
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_noop as _

# A purpose of its own, so the derived key signs nothing else that SECRET_KEY signs.
KEY_SALT = "accounts.hashers.ClientSecretHasher"


class ClientSecretHasher(BasePasswordHasher):
    """HMAC-SHA256 of a salt and the secret, keyed by ``SECRET_KEY`` (or one of its fallbacks).

    Stored as ``client_secret_hmac_sha256$<salt>$<hex>``. ``SECRET_KEY_FALLBACKS`` are tried too,
    so rotating ``SECRET_KEY`` as Django documents keeps every client working; a secret that only
    a fallback verifies is stored again under the new key on its next use (``needs_rehash``).
    """

    algorithm = "client_secret_hmac_sha256"

    def encode(self, password: str, salt: str, key: str | None = None) -> str:
        self._check_encode_args(password, salt)
        digest = salted_hmac(KEY_SALT, f"{salt}${password}", secret=key or settings.SECRET_KEY, algorithm="sha256")
        return f"{self.algorithm}${salt}${digest.hexdigest()}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm  # noqa: S101 - Django's hashers check the same way
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        return self.verifying_key(password, encoded) is not None

    def verifying_key(self, password: str, encoded: str) -> str | None:
        """The key (``SECRET_KEY`` or a fallback) under which ``encoded`` is ``password``'s hash, or None."""
        salt = self.decode(encoded)["salt"]
        for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
            if constant_time_compare(self.encode(password, salt, key), encoded):
                return key
        return None

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"]),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass  # one cost for every secret: nothing to even out


def needs_rehash(secret: str, stored: str) -> bool:
    """Whether ``stored``, which ``secret`` was just checked against and matched, should be hashed again.

    Yes for a secret hashed with a password hasher before this one existed (PBKDF2: costly to check
    and so a reason to lock clients out), and for one that only a ``SECRET_KEY_FALLBACKS`` key
    verifies. No for a secret the toolkit stores in clear (``hash_client_secret`` off, for HS256
    signing), which must stay so.
    """
    try:
        hasher = identify_hasher(stored)
    except ValueError:
        return False
    if hasher.algorithm != ClientSecretHasher.algorithm:
        return True
    return ClientSecretHasher().verifying_key(secret, stored) != settings.SECRET_KEY


def is_slow_to_check(stored: str) -> bool:
    """Whether checking a secret against ``stored`` runs a password hasher (PBKDF2 and the like)."""
    try:
        return identify_hasher(stored).algorithm != ClientSecretHasher.algorithm
    except ValueError:
        return False  # in clear: a constant-time comparison
