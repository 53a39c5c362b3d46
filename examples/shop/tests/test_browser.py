"""The customer's journey through the web page, in a real Chromium (pytest-playwright): register,
log in, see the products, order, pay, and watch the status change live over the WebSocket.

The ``page`` fixture opens the stack's ``web`` service (stackrig gives pytest-playwright its URL as
``base_url``), which calls the API from another origin (CORS) — so this also proves the API's
CORS configuration against a browser.  When Playwright has no browser of its own, stackrig
supplies the system's Chromium; a failing test keeps its trace and a screenshot
(``test-results/``) and names them in its report.
"""

from __future__ import annotations

import re

import pytest
from _support import unique_email

from stackrig import Rig
from stackrig.stub import post

pytest.importorskip("pytest_playwright")
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.slow


def sign_up(page: Page, email: str, password: str = "browser-pass-1") -> None:
    page.goto("/")
    register = page.locator("#register")
    register.get_by_label("E-mail").fill(email)
    register.get_by_label("Password").fill(password)
    register.get_by_label("Name").fill("Browser Customer")
    register.get_by_role("button", name="Register").click()
    expect(page.locator("#message")).to_have_text(f"Registered {email}: log in now.")
    login = page.locator("#login")
    expect(login.get_by_label("E-mail")).to_have_value(email)
    login.get_by_label("Password").fill(password)
    login.get_by_role("button", name="Log in").click()
    expect(page.locator("#who")).to_have_text(f"Logged in as Browser Customer ({email})")


def test_order_and_pay_watching_the_status_live(rig: Rig, page: Page) -> None:
    email = unique_email()
    sign_up(page, email)
    products = page.locator("#products li")
    expect(products).to_have_count(3)
    cup = products.filter(has_text="Espresso cup")
    expect(cup).to_contain_text("12.00 €")
    cup.get_by_label("quantity of Espresso cup").fill("2")
    cup.get_by_role("button", name="Order").click()

    # the inventory reserves it: the page hears it over the WebSocket and offers to pay
    expect(page.locator("#order-status")).to_have_text("reserved")
    expect(page.locator("#order-total")).to_have_text("28.90 €")  # 2 × 12.00 + 4.90 shipping (Go)
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#order-status")).to_have_text("paid")
    expect(page.locator("#order-history li")).to_have_text(["pending", "reserved", "paid"])

    order_id = int((page.locator("#order-id").text_content() or "#0").lstrip("#"))
    rig.stub("payments").verify(post("/charges").json_body({"order_id": order_id, "amount_cents": 2890},
                                                           ignore_extra_elements=True), times=1)
    assert rig.mail("smtp").wait_for(to=email, subject="is paid")


def test_a_declined_card_shows_the_cancellation(rig: Rig, page: Page) -> None:
    rig.stub("payments").on(post("/charges"), priority=1).reply(402, json={"error": "card_declined"})
    sign_up(page, unique_email())
    page.locator("#products li").filter(has_text="Grinder").get_by_role("button", name="Order").click()
    expect(page.locator("#order-status")).to_have_text("reserved")
    page.get_by_role("button", name="Pay").click()
    expect(page.locator("#order-status")).to_have_text("cancelled")
    expect(page.locator("#message")).to_contain_text("payment declined by the gateway: card_declined")
    expect(page.locator("#order-reason")).to_have_text(re.compile("card_declined"))
    expect(page.get_by_role("button", name="Pay")).to_be_disabled()
