"""Intuit's OAuth 2.0 server as the emulator plays it: codes, rotating refresh tokens, revocation."""

import secrets

CODE_TTL = 600
REFRESH_TTL = 8726400
REFRESH_HARD_TTL = 5 * 365 * 86400
SCOPE_ACCOUNTING = "com.intuit.quickbooks.accounting"


class OAuthError(Exception):
    def __init__(self, status, error, description=None):
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description

    def body(self):
        out = {"error": self.error}
        if self.description:
            out["error_description"] = self.description
        return out


class OAuthServer:
    """Token bookkeeping; every method runs under the emulator's lock (the caller holds it)."""

    def __init__(self, clock, client_id, client_secret, access_token_ttl=3600):
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_ttl = int(access_token_ttl)
        self.codes = {}
        self.access = {}
        self.refresh = {}
        self.families = {}

    def check_client(self, client_id, client_secret):
        if (
            not client_id
            or not secrets.compare_digest(str(client_id), self.client_id)
            or not (
                client_secret is not None and secrets.compare_digest(str(client_secret), self.client_secret)
            )
        ):
            raise OAuthError(401, "invalid_client")

    def new_code(self, realm_id, redirect_uri, scope):
        code = "AB" + secrets.token_urlsafe(30)
        self.codes[code] = {
            "realm": realm_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "expires": self.clock.time() + CODE_TTL,
            "used": False,
        }
        return code

    def exchange_code(self, code, redirect_uri):
        entry = self.codes.get(code or "")
        if entry is None:
            raise OAuthError(400, "invalid_grant")
        if entry["used"]:
            # a replayed code also kills what it produced, as RFC 6749 §4.1.2 advises
            if entry.get("family"):
                self.families[entry["family"]]["revoked"] = True
            raise OAuthError(400, "invalid_grant")
        entry["used"] = True
        if self.clock.time() > entry["expires"] or redirect_uri != entry["redirect_uri"]:
            raise OAuthError(400, "invalid_grant")
        reply = self.issue(entry["realm"])
        entry["family"] = self.refresh[reply["refresh_token"]]["family"]
        return reply

    def issue(self, realm_id, family=None):
        now = self.clock.time()
        if family is None:
            family = secrets.token_hex(8)
            self.families[family] = {
                "realm": realm_id,
                "revoked": False,
                "hard_expires": now + REFRESH_HARD_TTL,
            }
        access_token = "eyJ" + secrets.token_urlsafe(48)
        refresh_token = "RT1-" + secrets.token_urlsafe(36)
        self.access[access_token] = {
            "realm": realm_id,
            "family": family,
            "expires": now + self.access_token_ttl,
        }
        hard = self.families[family]["hard_expires"]
        self.refresh[refresh_token] = {
            "realm": realm_id,
            "family": family,
            "expires": min(now + REFRESH_TTL, hard),
            "spent": False,
        }
        return {
            "token_type": "bearer",
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_in": self.access_token_ttl,
            "x_refresh_token_expires_in": int(min(REFRESH_TTL, hard - now)),
            "x_refresh_token_hard_expires_in": int(hard - now),
        }

    def refresh_grant(self, refresh_token):
        entry = self.refresh.get(refresh_token or "")
        if (
            entry is None
            or entry["spent"]
            or self.families[entry["family"]]["revoked"]
            or self.clock.time() > entry["expires"]
        ):
            # the body is exactly the reference's {"error": "invalid_grant"}
            raise OAuthError(400, "invalid_grant")
        entry["spent"] = True
        return self.issue(entry["realm"], entry["family"])

    def revoke(self, token):
        entry = self.access.get(token or "") or self.refresh.get(token or "")
        if entry is not None:
            self.families[entry["family"]]["revoked"] = True

    def realm_for_access(self, token):
        """Realm the bearer token may use, or None when it is unknown, expired or revoked."""
        entry = self.access.get(token or "")
        if (
            entry is None
            or self.families[entry["family"]]["revoked"]
            or self.clock.time() >= entry["expires"]
        ):
            return None
        return entry["realm"]
