"""app/core/secret_box.py and PAYMENT_SECRET_KEYS: secrets at rest, and key rotation."""

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from app.core.config import Settings
from app.core.secret_box import DEV_PAYMENT_SECRET_KEY, SecretBox, SecretUnreadable, secret_box

SECRET = "rzp-key-secret-S3cr3t-0042"


def new_key() -> str:
    return Fernet.generate_key().decode()


def test_a_secret_goes_in_unreadable_and_comes_back():
    box = SecretBox((new_key(),))
    token = box.encrypt(SECRET)
    assert SECRET not in token and SECRET.encode().hex() not in token
    assert box.decrypt(token) == SECRET
    assert box.encrypt(SECRET) != token  # a fresh IV each time: equal secrets do not look equal


def test_rotation_the_newest_key_encrypts_and_every_listed_key_decrypts():
    old, new = new_key(), new_key()
    stored_under_old = SecretBox((old,)).encrypt(SECRET)
    rotated_box = SecretBox((new, old))
    assert rotated_box.decrypt(stored_under_old) == SECRET  # the old key still decrypts
    fresh = rotated_box.encrypt(SECRET)
    assert SecretBox((new,)).decrypt(fresh) == SECRET  # the new key encrypted it
    with pytest.raises(SecretUnreadable):
        SecretBox((old,)).decrypt(fresh)
    rewrapped = rotated_box.rotate(stored_under_old)
    assert SecretBox((new,)).decrypt(rewrapped) == SECRET  # the old key can now be dropped


def test_a_key_no_longer_listed_or_a_tampered_token_is_unreadable_and_says_nothing_of_it():
    box = SecretBox((new_key(),))
    token = box.encrypt(SECRET)
    for bad in (SecretBox((new_key(),)).encrypt(SECRET), token[:-4] + "AAAA", "not a token"):
        with pytest.raises(SecretUnreadable) as raised:
            box.decrypt(bad)
        assert SECRET not in str(raised.value) and bad not in str(raised.value)


def test_settings_split_the_keys_newest_first_and_refuse_unusable_ones():
    first, second = new_key(), new_key()
    settings = Settings(_env_file=None, payment_secret_keys=f"{first}, {second}")
    assert settings.payment_secret_keys == [first, second]
    assert secret_box(tuple(settings.payment_secret_keys)).decrypt(SecretBox((second,)).encrypt(SECRET)) == SECRET
    assert Settings(_env_file=None).payment_secret_keys == [DEV_PAYMENT_SECRET_KEY]
    for bad in ("", "short", "!" * 44, "AAAA"):
        with pytest.raises(ValidationError, match="PAYMENT_SECRET_KEYS"):
            Settings(_env_file=None, payment_secret_keys=bad)


def test_prod_refuses_the_development_key():
    prod = {"env": "prod", "jwt_secret": "p" * 48, "razorpay_mode": "live", "razorpay_key_id": "rzp_live_x"}
    prod |= {"razorpay_key_secret": "s", "razorpay_webhook_secret": "w", "email_link_base": "https://app.example.in"}
    with pytest.raises(ValidationError, match="development key"):
        Settings(_env_file=None, **prod)
    with pytest.raises(ValidationError, match="development key"):
        Settings(_env_file=None, **prod, payment_secret_keys=f"{new_key()},{DEV_PAYMENT_SECRET_KEY}")
    assert Settings(_env_file=None, **prod, payment_secret_keys=new_key()).env == "prod"
