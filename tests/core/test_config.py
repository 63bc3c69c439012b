"""Settings derived from others: mail links follow HOST and PORT unless set explicitly."""

import uuid

import pytest
from cryptography.fernet import Fernet

from app.core.config import Settings, usable_cpus
from app.main import UnsafeConfiguration, create_app

STRONG_SECRET = "s" * 48


def configured(**values) -> Settings:
    return Settings(_env_file=None, **values)


class TestMailLinks:
    def test_follow_the_port_and_host_by_default(self):
        assert configured(port=8101).email_link_base == "http://127.0.0.1:8101/pages"
        assert configured(port=8101).upgrade_url == "http://127.0.0.1:8101/docs#/tenants"
        assert configured(host="0.0.0.0", port=9000).email_link_base == "http://localhost:9000/pages"
        assert configured(host="::1").email_link_base == "http://[::1]:8000/pages"

    def test_follow_the_environment_as_make_run_sets_it(self, monkeypatch):
        monkeypatch.setenv("PORT", "8101")
        assert configured().email_link_base == "http://127.0.0.1:8101/pages"

    def test_an_explicit_base_wins(self, monkeypatch):
        monkeypatch.setenv("EMAIL_LINK_BASE", "https://app.example.in/account/")
        monkeypatch.setenv("UPGRADE_URL", "https://app.example.in/billing")
        explicit = configured(port=8101)
        assert explicit.email_link_base == "https://app.example.in/account"
        assert explicit.upgrade_url == "https://app.example.in/billing"


class TestWebConcurrency:
    PROD = {
        "env": "prod",
        "jwt_secret": STRONG_SECRET,
        "razorpay_mode": "live",
        "razorpay_key_id": "k",
        "razorpay_key_secret": "s",
        "razorpay_webhook_secret": "w",
        "payment_secret_keys": Fernet.generate_key().decode(),
    }

    def test_unset_is_one_worker_outside_prod(self, monkeypatch):
        monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
        assert configured(env="dev").web_concurrency == 1
        assert configured(env="test").web_concurrency == 1

    def test_unset_is_one_worker_per_usable_cpu_in_prod(self, monkeypatch):
        monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
        assert configured(**self.PROD).web_concurrency == usable_cpus() >= 1
        assert "web_concurrency" not in configured(**self.PROD).model_fields_set

    def test_set_wins_in_any_environment(self, monkeypatch):
        monkeypatch.setenv("WEB_CONCURRENCY", "3")
        assert configured(env="dev").web_concurrency == 3
        assert configured(**self.PROD).web_concurrency == 3

    def test_zero_workers_is_refused(self):
        with pytest.raises(ValueError, match="web_concurrency"):
            configured(web_concurrency=0)


class TestShareLinks:
    def test_a_default_lifetime_over_the_maximum_is_refused(self):
        """Else every default link (POST /invoices/{id}/share without a body, each send, each payment
        reminder) is refused by the maximum, and the reminder step fails on every run."""
        with pytest.raises(ValueError, match="SHARE_LINK_TTL_DAYS"):
            configured(share_link_ttl_days=200, share_link_max_ttl_days=90)
        assert configured(share_link_ttl_days=90, share_link_max_ttl_days=90).share_link_ttl_days == 90


class TestProduction:
    async def test_refuses_to_start_without_an_explicit_link_base(self, settings):
        fields = {name: getattr(settings, name) for name in settings.model_fields_set - {"email_link_base"}}
        derived = Settings(_env_file=None, **fields).model_copy(update={"env": "prod", "jwt_secret": STRONG_SECRET})
        application = create_app(derived)
        with pytest.raises(UnsafeConfiguration, match="EMAIL_LINK_BASE is not set"):
            async with application.router.lifespan_context(application):
                pass


class TestPlatform:
    def test_one_of_the_two_platform_ids_alone_is_refused(self):
        """One of PLATFORM_TENANT_ID / PLATFORM_COMPANY_ID set and the other forgotten silently
        issued no SaaS invoice at all: refused at start, as are both empty."""
        some = uuid.uuid4()
        with pytest.raises(ValueError, match="PLATFORM_COMPANY_ID"):
            configured(platform_tenant_id=some)
        with pytest.raises(ValueError, match="PLATFORM_TENANT_ID"):
            configured(platform_company_id=some)
        both = configured(platform_tenant_id=some, platform_company_id=uuid.uuid4())
        assert both.platform_tenant_id == some
        assert configured(platform_tenant_id="", platform_company_id="").platform_tenant_id is None
