"""The web tests' app, served on a port with Chromium to drive it (``tests/web``): the
upload page's test of many files runs in a browser."""

from tests.web.conftest import browser, harness, page, site, web_port  # noqa: F401 (fixtures)
