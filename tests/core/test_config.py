"""Settings derived from others: mail links follow HOST and PORT unless set explicitly."""

import pytest

from app.core.config import Settings
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


class TestProduction:
    async def test_refuses_to_start_without_an_explicit_link_base(self, settings):
        fields = {name: getattr(settings, name) for name in settings.model_fields_set - {"email_link_base"}}
        derived = Settings(_env_file=None, **fields).model_copy(update={"env": "prod", "jwt_secret": STRONG_SECRET})
        application = create_app(derived)
        with pytest.raises(UnsafeConfiguration, match="EMAIL_LINK_BASE is not set"):
            async with application.router.lifespan_context(application):
                pass
