"""The GitHub App's private key: read at the moment of use, checked, never kept or echoed.

    pem = read_private_key(config.github)   # UserError (exit 1) naming the key or file

With `[github] auth = "app"` the key comes from the environment variable named by
`private_key = "${VAR}"` (the PEM text) or from `private_key_file` (a path, made absolute
against the config's folder when the config is loaded). It is checked here, before any network
call, so a wrong file or a pasted certificate fails with a message that says which, instead of
a 401 from GitHub. No message quotes the key's content.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from processhealth.config_models import GitHubConfig
from processhealth.errors import UserError

GENERATE = ("Generate one on the App's settings page (Private keys > Generate a private key); "
            "GitHub downloads it as a .pem file")


def read_private_key(config: GitHubConfig) -> str:
    """The PEM text of the App's private key; UserError if missing, unreadable or not a key."""
    if config.private_key is not None:
        where = f'[github] private_key = "${{{config.private_key.var}}}"'
        text = config.private_key.resolve(key="github.private_key")
        if "\n" not in text and "\\n" in text:  # a CI secret stored with escaped newlines
            text = text.replace("\\n", "\n")
    elif config.private_key_file is not None:
        where = f"[github] private_key_file = {config.private_key_file}"
        try:
            text = config.private_key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
            raise UserError(
                f"The GitHub App's private key cannot be read from {where}: {reason}. Point "
                f"private_key_file at the .pem file GitHub gave you (a relative path is read from "
                f"the config file's folder), or put the key's text in an environment variable "
                f'and write private_key = "${{GITHUB_APP_PRIVATE_KEY}}" instead.'
            ) from None
    else:
        raise UserError('[github] auth = "app" needs private_key = "${VAR}" or private_key_file.')
    _check_pem(text, where)
    return text


def _check_pem(text: str, where: str) -> None:
    """A PEM RSA private key without a passphrase, as GitHub generates them (for RS256)."""
    problem = None
    try:
        key = load_pem_private_key(text.strip().encode(), password=None)
        if not isinstance(key, RSAPrivateKey):
            problem = "is a private key, but not an RSA key (GitHub Apps sign with RS256)"
    except TypeError:  # the key is encrypted: cryptography needs the passphrase
        problem = "is encrypted with a passphrase; processhealth needs it unencrypted"
    except Exception:  # noqa: BLE001 - any other parse failure means "not a PEM private key"
        kind = ("a certificate or public key" if "-----BEGIN" in text and "PRIVATE KEY" not in
                text else "not a PEM private key")
        problem = f"is {kind} (expected text starting with -----BEGIN RSA PRIVATE KEY-----)"
    if problem:
        raise UserError(
            f"The GitHub App's private key from {where} {problem}. {GENERATE}; use that file "
            f"as it is. The key's content is not shown here."
        )
