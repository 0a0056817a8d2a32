"""Where Xoxoday's hosted store lives for a Plum base URL, and the sign-in address there.

Production (`accounts.xoxoday.com`) signs people in at `stores.xoxoday.com`, staging
(`stagingaccount.xoxoday.com`) at `stagingstores.xoxoday.com`; any other base URL (a local
stand-in, `stagingstores.xoxoday.com/chef`, `canvas.xoxoday.com/chef`) serves the store from
its own root, which is the base URL without its `/chef` path. STOREFRONT_STORE_URL overrides.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

PRODUCTION_STORE = "https://stores.xoxoday.com"
STAGING_STORE = "https://stagingstores.xoxoday.com"
REDIRECT_PATH = "/chef/v1/oauth/redirect/stores/"
SSO_VALID_DAYS = 14

_KNOWN_HOSTS = {
    "accounts.xoxoday.com": PRODUCTION_STORE,
    "stagingaccount.xoxoday.com": STAGING_STORE,
    "stagingaccounts.xoxoday.com": STAGING_STORE,
}


def store_root(base_url: str, override: str | None = None) -> str:
    """The store's root URL (no trailing slash) for the Plum `base_url`."""
    if override:
        root = override.strip().rstrip("/")
        for suffix in (REDIRECT_PATH.rstrip("/"), "/chef"):
            root = root.removesuffix(suffix)
        return root
    parts = urlsplit(base_url.strip())
    known = _KNOWN_HOSTS.get((parts.hostname or "").lower())
    if known is not None:
        return known
    path = parts.path.rstrip("/").removesuffix("/chef")
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")).rstrip("/")


def redirect_url(root: str, sso_token: str) -> str:
    """Where the person is sent: `{root}/chef/v1/oauth/redirect/stores/{ssoToken}`."""
    return root.rstrip("/") + REDIRECT_PATH + quote(sso_token, safe="")
