"""Every password someone chooses (sign-up, the account page, a mailed link) is refused when it is only white
space or one of the most common passwords, with a message that says why; the message comes once."""

import pytest

from user_service.passwords import COMMON, ONLY_WHITE_SPACE, common_passwords

from .conftest import registration
from .test_password_links import forgot, logs_in, reset, reset_link, verified_user  # noqa: F401 (a fixture)

REFUSED = [("        ", ONLY_WHITE_SPACE), ("\t \n \u00a0   \t", ONLY_WHITE_SPACE),
           ("password", COMMON), ("PassWord123", COMMON), ("QWERTYUIOP", COMMON), ("iloveyou", COMMON)]


def test_the_list_ships_with_the_package_lower_cased():
    passwords = common_passwords()
    assert len(passwords) >= 150
    assert {"password", "12345678", "qwertyuiop"} <= passwords
    assert all(p == p.lower() and p == p.strip() and not p.startswith("#") for p in passwords)


@pytest.mark.parametrize("password, message", REFUSED)
def test_sign_up_refuses_it_and_says_why(client, password, message):
    response = client.post("/register", json=registration(password=password))

    assert response.status_code == 400
    assert response.json["errors"] == {"password": message}


def test_a_short_password_of_spaces_gets_one_message(client):
    response = client.post("/register", json=registration(password="   "))

    assert response.json["errors"] == {"password": "Between 8 and 128 characters"}


def test_spaces_inside_a_password_are_fine(client):
    assert client.post("/register", json=registration(password="  pass word for me  ")).status_code == 201


@pytest.mark.parametrize("password, message", REFUSED)
def test_changing_a_password_refuses_it(client, make_user, login, password, message):
    make_user("alice")

    response = client.patch("/users/alice", json={"password": password, "current_password": "correct horse"},
                            headers=login("alice"))

    assert response.status_code == 400 and response.json["errors"] == {"password": message}
    assert logs_in(client, "alice", "correct horse")


@pytest.mark.parametrize("password, message", REFUSED[:3])
def test_a_reset_link_refuses_it_and_stays_usable(client, verified_user, link_for, password, message):  # noqa: F811
    verified_user("alice")
    forgot(client, "alice")
    link = reset_link(link_for)

    refused = reset(client, link, password)

    assert refused.status_code == 400 and refused.json["errors"] == {"password": message}
    assert reset(client, link, "a brand new password").status_code == 200
