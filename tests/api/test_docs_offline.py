"""/docs (Swagger UI) and /redoc work without internet: the pages name only this server's URLs,
each of which answers, and a real Chromium renders the operations fetching nothing elsewhere."""

import asyncio
import re

import pytest

from tests.browser import chromium, find_chromium

URLS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']|spec-url\s*=\s*["']([^"']+)["']""")
TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}


def referenced(html: str) -> list[str]:
    return [next(group for group in match if group) for match in URLS.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_reference_only_this_servers_assets_and_each_answers(client, page):
    response = await client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "cdn." not in response.text and "fonts.googleapis" not in response.text
    urls = referenced(response.text)
    assert "/openapi.json" in urls and any(url.endswith(".js") for url in urls)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        kind = next((kind for suffix, kind in TYPES.items() if url.endswith(suffix)), None)
        assert kind is None or kind in asset.headers["content-type"], (url, asset.headers["content-type"])


async def test_swagger_ui_turns_off_the_external_validator_badge(client):
    assert '"validatorUrl": null' in (await client.get("/docs")).text


async def test_swagger_ui_renders_the_spec_in_chromium_loading_nothing_from_elsewhere(live_server):
    async with chromium(find_chromium()) as page:
        await page.send("Network.enable")
        await page.open(f"{live_server}/docs")
        count = 0
        for _ in range(150):  # the spec is fetched and rendered after the load event
            count = await page.evaluate("document.querySelectorAll('#swagger-ui .opblock').length")
            if count:
                break
            await asyncio.sleep(0.1)
        requested = [
            e["params"]["request"]["url"] for e in page.events if e.get("method") == "Network.requestWillBeSent"
        ]
        assert count > 50, page.console()
        assert "/api/v1/invoices/{invoice_id}/issue" in await page.text("#swagger-ui")
        assert [url for url in requested if not url.startswith((live_server, "data:"))] == []
        assert f"{live_server}/openapi.json" in requested
