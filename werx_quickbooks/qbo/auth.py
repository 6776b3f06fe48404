"""OAuth 2.0 with Intuit: endpoints, the consent URL, code exchange, refresh, revoke.

Built on requests-oauthlib's ``OAuth2Session``. Intuit authenticates the app
with HTTP Basic (client id and secret) on the token and revoke endpoints. The
refresh token rotates on every refresh: the caller must keep the newest one.
"""

import contextlib
import dataclasses
import datetime
import ipaddress
import os
import secrets
import threading
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import OAuth2Error
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from . import const
from .errors import (
    BadReply,
    InsecureTransport,
    InvalidAddress,
    NeedsReconnect,
    QBOError,
    TransientError,
    Words,
    words,
)

# Intuit's documented lifetimes, used when a token reply leaves them out.
_DEFAULT_ACCESS_TTL = 3600
_DEFAULT_REFRESH_TTL = 100 * 24 * 3600


# === ENDPOINTS === #

@dataclasses.dataclass(frozen=True)
class Endpoints:
    """Where to send the user for consent, where to get tokens, and the API base."""

    authorize_url: str
    token_url: str
    revoke_url: str
    api_url: str        # ends in /v3/company; the realm id follows


def endpoints_for(environment, base_url=None):
    """Return the Endpoints of 'production', 'sandbox' or 'custom' (``base_url``, e.g. the emulator).

    A custom base URL must be https, or plain http on a loopback host
    (127.0.0.0/8, ::1, localhost); anything else raises InsecureTransport.
    """
    if environment in (const.PRODUCTION, const.SANDBOX):
        return Endpoints(const.AUTHORIZE_URL, const.TOKEN_URL, const.REVOKE_URL,
                         const.API_URLS[environment])
    if environment != const.CUSTOM:
        raise InvalidAddress(words(
            'Unknown QuickBooks environment "%(environment)s"; expected one of %(known)s.',
            environment=str(environment)[:40], known=', '.join(const.ENVIRONMENTS)))
    if not base_url:
        raise InvalidAddress(Words('A custom QuickBooks environment needs a base URL.'))
    base_url = base_url.strip().rstrip('/')
    check_transport(base_url)
    parts = urlsplit(base_url)
    if parts.query or parts.fragment:
        raise InvalidAddress(words('The QuickBooks base URL must not carry a query or fragment: %s',
                                   base_url[:200]))
    return Endpoints(**{key: base_url + path for key, path in const.CUSTOM_PATHS.items()})


def is_loopback_host(host):
    """True for localhost, 127.0.0.0/8 and ::1 (by name or literal address, no DNS)."""
    if not host:
        return False
    host = host.strip('[]').lower()
    if host in const.LOOPBACK_HOSTNAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(url):
    """Raise InsecureTransport unless ``url`` is https, or plain http to a loopback host."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == 'https' and parts.hostname:
        return
    if scheme == 'http' and is_loopback_host(parts.hostname):
        return
    raise InsecureTransport(detail='refused address scheme %r for host %r'
                            % (scheme or None, parts.hostname))


# oauthlib refuses http:// unless OAUTHLIB_INSECURE_TRANSPORT is set, and offers no per-call
# switch. We set it only while a call to a loopback http URL is under way (counted, so
# overlapping calls in threads do not unset it early) and restore the previous value after.
# Production and sandbox URLs are https and never set it. While it is set, another thread's
# oauthlib call is not checked by oauthlib; our own check_transport still guards every
# URL this package builds.
_INSECURE_VAR = 'OAUTHLIB_INSECURE_TRANSPORT'
_insecure_lock = threading.Lock()
_insecure_users = 0
_insecure_saved = None


@contextlib.contextmanager
def transport_allowed(url):
    """Context in which oauthlib may call ``url``: https always, http only for loopback."""
    check_transport(url)
    if urlsplit(url).scheme.lower() == 'https':
        yield
        return
    global _insecure_users, _insecure_saved
    with _insecure_lock:
        if _insecure_users == 0:
            _insecure_saved = os.environ.get(_INSECURE_VAR)
            os.environ[_INSECURE_VAR] = '1'
        _insecure_users += 1
    try:
        yield
    finally:
        with _insecure_lock:
            _insecure_users -= 1
            if _insecure_users == 0:
                if _insecure_saved is None:
                    os.environ.pop(_INSECURE_VAR, None)
                else:
                    os.environ[_INSECURE_VAR] = _insecure_saved


# === TOKENS === #

def utcnow():
    """Return the current time as a naive UTC datetime (how Odoo stores datetimes)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


@dataclasses.dataclass
class Tokens:
    """An access/refresh token pair with naive-UTC expiry times. repr() hides the tokens."""

    access_token: str = dataclasses.field(repr=False)
    refresh_token: str = dataclasses.field(repr=False)
    expires_at: datetime.datetime
    refresh_expires_at: datetime.datetime
    refresh_hard_expires_at: datetime.datetime = None

    @classmethod
    def from_reply(cls, reply, now=None):
        """Return Tokens from a token endpoint reply dict; expiries computed from ``now``."""
        if not isinstance(reply, dict) or not reply.get('access_token'):
            raise BadReply(Words("QuickBooks' sign-in service answered without an access token."))
        if not reply.get('refresh_token'):
            raise BadReply(Words("QuickBooks' sign-in service answered without a refresh token."))
        now = now or utcnow()
        hard = _seconds(reply, 'x_refresh_token_hard_expires_in', None)
        return cls(
            access_token=reply['access_token'],
            refresh_token=reply['refresh_token'],
            expires_at=now + datetime.timedelta(
                seconds=_seconds(reply, 'expires_in', _DEFAULT_ACCESS_TTL)),
            refresh_expires_at=now + datetime.timedelta(
                seconds=_seconds(reply, 'x_refresh_token_expires_in', _DEFAULT_REFRESH_TTL)),
            refresh_hard_expires_at=now + datetime.timedelta(seconds=hard) if hard else None,
        )

    def expires_within(self, seconds, now=None):
        """True if the access token is expired or expires within ``seconds``."""
        if self.expires_at is None:
            return False
        return self.expires_at - (now or utcnow()) <= datetime.timedelta(seconds=seconds)


def _seconds(reply, key, default):
    value = reply.get(key)
    if value in (None, ''):
        return default
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise BadReply(Words("QuickBooks' sign-in service sent an unreadable token lifetime."),
                       detail='%s is not a number of seconds' % key) from None
    if seconds < 0:
        raise BadReply(Words("QuickBooks' sign-in service sent an unreadable token lifetime."),
                       detail='%s is negative' % key)
    return seconds


# === OAUTH FLOW === #

def new_state():
    """Return an unguessable OAuth ``state`` value (to check on the callback)."""
    return secrets.token_urlsafe(32)


def authorization_url(endpoints, client_id, redirect_uri, state):
    """Return the Intuit consent URL to send the browser to."""
    session = OAuth2Session(client_id, redirect_uri=redirect_uri, scope=[const.SCOPE])
    with transport_allowed(endpoints.authorize_url):
        url, _state = session.authorization_url(endpoints.authorize_url, state=state)
    return url


def exchange_code(endpoints, client_id, client_secret, redirect_uri, code, *,
                  timeout=const.TIMEOUT, now=None):
    """Return the Tokens Intuit gives for the authorization ``code`` of the callback."""
    session = _token_session(client_id, redirect_uri, 'access_token_response')
    with _token_errors(), transport_allowed(endpoints.token_url):
        reply = session.fetch_token(
            endpoints.token_url, code=code, include_client_id=False,
            auth=HTTPBasicAuth(client_id, client_secret), timeout=timeout)
    return Tokens.from_reply(reply, now=now)


def refresh_tokens(endpoints, client_id, client_secret, refresh_token, *,
                   timeout=const.TIMEOUT, now=None):
    """Return new Tokens for ``refresh_token``; the returned refresh token replaces it.

    invalid_grant (spent, revoked or expired refresh token) -> NeedsReconnect;
    network trouble or a 5xx -> TransientError; an unusable reply -> BadReply.
    """
    session = _token_session(client_id, None, 'refresh_token_response')
    with _token_errors(), transport_allowed(endpoints.token_url):
        reply = session.refresh_token(
            endpoints.token_url, refresh_token=refresh_token,
            auth=HTTPBasicAuth(client_id, client_secret), timeout=timeout)
    return Tokens.from_reply(reply, now=now)


def revoke_token(endpoints, client_id, client_secret, token, *, timeout=const.TIMEOUT):
    """Revoke ``token`` (refresh or access) at Intuit: the app loses access to the company."""
    session = OAuth2Session(client_id)
    with _token_errors(), transport_allowed(endpoints.revoke_url):
        response = session.post(
            endpoints.revoke_url, json={'token': token}, withhold_token=True,
            auth=HTTPBasicAuth(client_id, client_secret), timeout=timeout,
            headers={'Accept': 'application/json'})
    if response.status_code == 200:
        return
    _raise_for_status(response.status_code, _json_or_none(response),
                      Words('QuickBooks did not revoke the sign-in'))


def _token_session(client_id, redirect_uri, hook_type):
    session = OAuth2Session(client_id, redirect_uri=redirect_uri)
    # Look at the reply before oauthlib parses it, so failures get our typed errors.
    session.register_compliance_hook(hook_type, _check_token_reply)
    return session


def _check_token_reply(response):
    """Raise the typed error for a failed or unusable token reply; return it if usable."""
    data = _json_or_none(response)
    status = response.status_code
    if status != 200 or (isinstance(data, dict) and data.get('error')):
        _raise_for_status(status, data, Words("QuickBooks' sign-in service refused the request"))
    if data is None:
        raise BadReply(Words("QuickBooks' sign-in service sent a reply that could not be read."),
                       detail='token reply is not JSON (%s)'
                       % response.headers.get('Content-Type', 'no content type'),
                       http_status=status)
    if not isinstance(data, dict) or not data.get('access_token'):
        raise BadReply(Words("QuickBooks' sign-in service answered without an access token."),
                       http_status=status)
    for key in ('expires_in', 'x_refresh_token_expires_in', 'x_refresh_token_hard_expires_in'):
        _seconds(data, key, None)   # oauthlib would fail on these with a bare ValueError
    return response


def _raise_for_status(status, data, lead):
    error = data.get('error') if isinstance(data, dict) else None
    description = data.get('error_description') if isinstance(data, dict) else None
    if error == 'invalid_grant':
        raise NeedsReconnect(code=error, detail=description, http_status=status)
    if error == 'invalid_client' or status == 401:
        raise NeedsReconnect(
            Words("QuickBooks did not accept the app's client id or secret; an administrator must "
                  'check them and reconnect.'), code=error, detail=description, http_status=status)
    if status == 429 or status >= 500:
        raise TransientError(code=error, detail=description, http_status=status)
    if error:
        raise QBOError(words('%(what)s (%(code)s).', what=lead, code=str(error)[:80]), code=error,
                       detail=description, http_status=status)
    raise BadReply(words('%(what)s with an unexpected reply (HTTP %(status)s).', what=lead, status=status),
                   http_status=status)


def _json_or_none(response):
    try:
        return response.json()
    except (ValueError, RecursionError):   # RecursionError: hostile, deeply nested JSON
        return None


@contextlib.contextmanager
def _token_errors():
    """Turn transport and oauthlib failures of a token call into typed errors."""
    try:
        yield
    except QBOError:
        raise
    except requests.Timeout as exc:
        raise TransientError(Words("QuickBooks' sign-in service did not answer in time."),
                             detail=type(exc).__name__) from None
    except requests.RequestException as exc:
        raise TransientError(Words("QuickBooks' sign-in service could not be reached."),
                             detail=('%s: %s' % (type(exc).__name__, exc))[:300]) from None
    except OAuth2Error as exc:
        raise QBOError(words("QuickBooks' sign-in service refused the request (%s).", exc.error),
                       code=exc.error, detail=exc.description) from None
    except (ValueError, Warning) as exc:
        raise BadReply(Words("QuickBooks' sign-in service sent a reply that could not be read."),
                       detail=type(exc).__name__) from None
