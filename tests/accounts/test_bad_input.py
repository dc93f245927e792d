"""Hostile and malformed input: a 4xx envelope every time, and nothing left behind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PASSWORD, Harness
from tests.images import png_bytes

REGISTER = "/api/v1/users/register"


def assert_envelope(response: Any, status: int | tuple[int, ...]) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"statusCode", "data", "message", "success", "errors"}
    assert body["success"] is False and body["data"] is None
    assert body["statusCode"] == response.status_code
    assert "Traceback" not in response.text


async def assert_nothing_left(harness: Harness) -> None:
    assert await harness.sql("SELECT count(*) FROM pending_signups") == [(0,)]
    assert await harness.sql("SELECT count(*) FROM users") == [(0,)]
    assert harness.media_files() == []
    assert (await harness.messages()) == []


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "fullname": "Jane Doe",
        "email": "jane@example.com",
        "username": "janedoe",
        "password": PASSWORD,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fullname", ""),
        ("fullname", "   "),
        ("fullname", "x" * 101),
        ("email", "not-an-email"),
        ("email", ""),
        ("email", "a@b"),
        ("username", "ab"),
        ("username", "x" * 10_000),
        ("username", "bad name!"),
        ("username", "../../etc"),
        ("password", "short"),
        ("password", "password1"),
        ("password", "x" * 129),
    ],
)
async def test_register_rejects_bad_fields(harness: Harness, field: str, value: str) -> None:
    response = await harness.client().post(
        REGISTER,
        data=_form(**{field: value}),
        files={"avatar": ("a.png", png_bytes(), "image/png")},
    )
    assert_envelope(response, 400)
    assert [e["field"] for e in response.json()["errors"]] == [field]
    await assert_nothing_left(harness)


async def test_register_rejects_missing_fields_and_files(harness: Harness) -> None:
    client = harness.client()
    for field in ("fullname", "email", "username", "password"):
        form = _form()
        del form[field]
        response = await client.post(
            REGISTER, data=form, files={"avatar": ("a.png", png_bytes(), "image/png")}
        )
        assert_envelope(response, 400)
        assert response.json()["errors"][0] == {
            "field": field,
            "message": "This field is required.",
        }
    no_avatar = await client.post(
        REGISTER, data=_form(), files={"other": ("a.txt", b"x", "text/plain")}
    )
    assert_envelope(no_avatar, 400)
    assert "avatar" in [e["field"] for e in no_avatar.json()["errors"]]
    await assert_nothing_left(harness)


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("renamed.png", b"hello, I am text pretending to be a picture\n", 415),
        ("empty.png", b"", 400),
        ("truncated.png", png_bytes()[:60], 415),
        (
            "svg.png",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            415,
        ),
        ("../../../etc/passwd", png_bytes(), 200),
    ],
)
async def test_register_judges_the_avatar_by_its_bytes(
    harness: Harness, name: str, data: bytes, status: int
) -> None:
    response = await harness.client().post(
        REGISTER, data=_form(), files={"avatar": (name, data, "image/png")}
    )
    if status == 200:
        assert response.status_code == 200
        [path] = harness.media_files()
        assert path.is_relative_to(harness.settings.media_dir) and "passwd" not in path.name
        return
    assert_envelope(response, status)
    await assert_nothing_left(harness)


async def test_a_30_mb_avatar_is_too_large(harness: Harness) -> None:
    big = png_bytes() + b"\0" * (30 * 1024 * 1024)
    response = await harness.client().post(
        REGISTER, data=_form(), files={"avatar": ("big.png", big, "image/png")}
    )
    assert_envelope(response, 413)
    await assert_nothing_left(harness)


async def test_an_avatar_just_over_5_mb_is_too_large(harness: Harness) -> None:
    big = png_bytes() + b"\0" * (5 * 1024 * 1024)
    response = await harness.client().post(
        REGISTER, data=_form(), files={"avatar": ("big.png", big, "image/png")}
    )
    assert_envelope(response, 413)
    await assert_nothing_left(harness)


async def test_a_decompression_bomb_is_refused(harness: Harness) -> None:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")
    response = await harness.client().post(
        REGISTER, data=_form(), files={"avatar": ("bomb.png", out.getvalue(), "image/png")}
    )
    assert_envelope(response, 415)
    await assert_nothing_left(harness)


async def test_json_where_multipart_is_expected_and_back(harness: Harness) -> None:
    client = harness.client()
    response = await client.post(REGISTER, json=_form())
    assert_envelope(response, 415)
    login = await client.post("/api/v1/users/login", data={"email": "a@b.c", "password": "x"})
    assert_envelope(login, 415)
    text = await client.post(
        "/api/v1/users/login", content=b"email=a", headers={"content-type": "text/plain"}
    )
    assert_envelope(text, 415)
    await assert_nothing_left(harness)


@pytest.mark.parametrize(
    "body",
    [
        {"email": {"$ne": None}, "password": "x"},
        {"email": ["jane@example.com"], "password": "x"},
        {"email": "jane@example.com", "password": {"$gt": ""}},
        {"email": "jane@example.com", "password": 12345678},
        {"email": "jane@example.com", "password": None},
        {"email": "jane@example.com"},
        {"password": "x"},
        {"email": "", "password": ""},
        {"email": "jane@example.com", "password": "x", "isAdmin": True},
        [],
        "jane",
        None,
    ],
)
async def test_login_rejects_operators_and_wrong_types(harness: Harness, body: Any) -> None:
    await harness.sign_up()
    response = await harness.client().post(
        "/api/v1/users/login",
        content=json.dumps(body),
        headers={"content-type": "application/json"},
    )
    assert_envelope(response, 400)


async def test_malformed_and_oversized_json(harness: Harness) -> None:
    client = harness.client()
    broken = await client.post(
        "/api/v1/users/login",
        content=b'{"email": "a@',
        headers={"content-type": "application/json"},
    )
    assert_envelope(broken, 400)
    assert broken.json()["message"] == "Malformed JSON body."
    huge = json.dumps({"email": "a@b.co", "password": "x" * (200 * 1024)})
    too_big = await client.post(
        "/api/v1/users/login", content=huge, headers={"content-type": "application/json"}
    )
    assert_envelope(too_big, 413)


async def test_oversized_body_without_a_length_is_refused(harness: Harness) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"x" * 1024

    response = await harness.client().post(
        "/api/v1/users/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_envelope(response, 413)


async def test_verify_rejects_bad_codes_by_shape(harness: Harness) -> None:
    client = harness.client()
    for otp in (123456, "12345", "1234567", "abcdef", {"$ne": ""}, None, ["123456"]):
        response = await client.post("/api/v1/users/verify-otp", json={"otp": otp})
        assert_envelope(response, 400)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.dictionaries(
        st.sampled_from(
            ["email", "username", "password", "otp", "registrationId", "refreshToken", "x"]
        ),
        json_values,
        max_size=4,
    ),
    path=st.sampled_from(["login", "verify-otp", "refresh-token", "resend-otp"]),
)
async def test_no_json_body_makes_a_server_error(
    harness: Harness, body: dict[str, Any], path: str
) -> None:
    response = await harness.client(f"10.{len(path)}.0.1").post(f"/api/v1/users/{path}", json=body)
    assert 400 <= response.status_code < 500, (body, response.text)
    assert response.json()["success"] is False
