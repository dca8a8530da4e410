"""Library cards through the pages: a patron registered at the desk without an e-mail address is given a password
there and logs in with their card; a lost card replaced at the desk stops logging anyone in."""

from playwright.sync_api import expect

from .conftest import PASSWORD, log_in


def log_in_with(page, identifier, password):
    page.goto("/login")
    page.get_by_label("Username, card number or e-mail").fill(identifier)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_patron_without_an_address_gets_a_password_at_the_desk_and_logs_in_with_their_card(page, stack, unique):
    username = f"walkin-{unique}"
    log_in(page, *stack.librarian)
    page.goto("/manage/patrons/new")
    page.get_by_label("Username").fill(username)
    page.get_by_label("First name").fill("Walter")
    page.get_by_label("Last name").fill("Inn")
    page.get_by_label("Category").select_option("child")
    page.get_by_role("button", name="Register").click()
    card = page.locator("#card .card-number").inner_text()
    expect(page.get_by_label("Category", exact=True)).to_have_value("child")

    page.get_by_role("button", name=f"Give {username} a password").click()
    password = page.locator(".desk-password code").inner_text()
    page.get_by_role("button", name="Log out", exact=True).click()
    log_in_with(page, card.lower(), password)

    page.get_by_text(f"Signed in as {username}").wait_for()
    page.goto("/account")
    expect(page.locator("#card .card-number")).to_have_text(card)


def test_a_lost_card_replaced_at_the_desk_no_longer_logs_in(page, browser, stack, patron):
    log_in(page, *stack.librarian)
    page.goto(f"/manage/users/{patron}")
    old_card = page.locator("#card .card-number").inner_text()

    page.get_by_role("link", name="Replace lost card").click()
    page.get_by_role("button", name="Replace the lost card").click()
    new_card = page.locator(".library-card-number").inner_text()

    assert new_card != old_card
    expect(page.get_by_role("img", name=f"Barcode {new_card}")).to_be_visible()
    reader = browser.new_page(base_url=stack.web)
    log_in_with(reader, old_card, PASSWORD)
    expect(reader.get_by_text("Invalid username or password")).to_be_visible()
    log_in_with(reader, new_card, PASSWORD)
    reader.get_by_text(f"Signed in as {patron}").wait_for()
