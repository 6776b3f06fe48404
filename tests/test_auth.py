"""OAuth with Intuit: endpoints, consent URL, code exchange, refresh and revoke (against a stub)."""

import base64
import datetime
import os
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers_client import NOW, StubServer

from werx_quickbooks.qbo import auth, const
from werx_quickbooks.qbo.auth import (
    Tokens,
    authorization_url,
    endpoints_for,
    exchange_code,
    new_state,
    refresh_tokens,
    revoke_token,
)
from werx_quickbooks.qbo.errors import BadReply, InsecureTransport, NeedsReconnect, TransientError

TOKEN_REPLY = {'access_token': 'AT-2', 'refresh_token': 'RT-2', 'token_type': 'bearer',
               'expires_in': 3600, 'x_refresh_token_expires_in': 8726400,
               'x_refresh_token_hard_expires_in': 157680000}


@pytest.fixture
def stub():
    server = StubServer().start()
    yield server
    server.stop()


def basic_auth_of(request):
    scheme, _, value = request['headers']['Authorization'].partition(' ')
    assert scheme == 'Basic'
    return base64.b64decode(value).decode()


def test_production_and_sandbox_endpoints_are_intuits():
    prod = endpoints_for('production')
    assert prod.authorize_url == 'https://appcenter.intuit.com/connect/oauth2'
    assert prod.token_url == 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer'
    assert prod.revoke_url == 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke'
    assert prod.api_url == 'https://quickbooks.api.intuit.com/v3/company'
    assert endpoints_for('sandbox').api_url == 'https://sandbox-quickbooks.api.intuit.com/v3/company'


def test_custom_endpoints_hang_off_the_base_url():
    ends = endpoints_for('custom', 'http://127.0.0.1:8765/')
    assert ends.authorize_url == 'http://127.0.0.1:8765/oauth2/authorize'
    assert ends.token_url == 'http://127.0.0.1:8765/oauth2/v1/tokens/bearer'
    assert ends.revoke_url == 'http://127.0.0.1:8765/oauth2/v1/tokens/revoke'
    assert ends.api_url == 'http://127.0.0.1:8765/v3/company'


@pytest.mark.parametrize('url', ['http://127.0.0.1:1', 'http://127.8.9.10', 'http://localhost:8069',
                                 'http://[::1]:9000', 'https://qbo.example.com'])
def test_loopback_http_and_any_https_are_allowed(url):
    assert endpoints_for('custom', url).api_url.startswith(url)


@pytest.mark.parametrize('url', ['http://qbo.example.com', 'http://10.0.0.5:8000', 'http://128.0.0.1',
                                 'http://localhost.example.com', 'ftp://127.0.0.1', '127.0.0.1:8000',
                                 'http://[::ffff:8.8.8.8]'])
def test_plain_http_elsewhere_is_refused(url):
    with pytest.raises(InsecureTransport) as info:
        endpoints_for('custom', url)
    assert 'https' in info.value.message


def test_unknown_environment_or_missing_base_url():
    with pytest.raises(ValueError):
        endpoints_for('staging')
    with pytest.raises(ValueError):
        endpoints_for('custom')


def test_state_is_unguessable():
    states = {new_state() for _ in range(50)}
    assert len(states) == 50
    assert all(len(s) >= 40 for s in states)


def test_consent_url_carries_client_redirect_scope_and_state():
    url = authorization_url(endpoints_for('production'), 'my-client',
                            'https://odoo.example.com/werx_quickbooks/callback', 'state-xyz')
    parts = urlsplit(url)
    assert parts.netloc == 'appcenter.intuit.com'
    query = parse_qs(parts.query)
    assert query == {'response_type': ['code'], 'client_id': ['my-client'],
                     'redirect_uri': ['https://odoo.example.com/werx_quickbooks/callback'],
                     'scope': [const.SCOPE], 'state': ['state-xyz']}


def test_loopback_http_leaves_the_insecure_switch_as_it_was(monkeypatch):
    monkeypatch.delenv('OAUTHLIB_INSECURE_TRANSPORT', raising=False)
    url = authorization_url(endpoints_for('custom', 'http://127.0.0.1:8765'), 'c', 'http://x/cb', 's')
    assert url.startswith('http://127.0.0.1:8765/oauth2/authorize?')
    assert 'OAUTHLIB_INSECURE_TRANSPORT' not in os.environ
    # ... and an https call never sets it, so oauthlib still refuses plain http elsewhere.
    monkeypatch.setenv('OAUTHLIB_INSECURE_TRANSPORT', 'keep-me')
    authorization_url(endpoints_for('custom', 'http://localhost:1'), 'c', 'http://x/cb', 's')
    assert os.environ['OAUTHLIB_INSECURE_TRANSPORT'] == 'keep-me'


def test_exchange_code_uses_basic_auth_and_computes_expiry(stub):
    stub.reply(200, TOKEN_REPLY)
    tokens = exchange_code(stub.endpoints, 'cid', 'csecret', 'http://localhost/cb', 'the-code', now=NOW)
    request = stub.requests[-1]
    assert request['path'] == '/oauth2/v1/tokens/bearer'
    assert basic_auth_of(request) == 'cid:csecret'
    body = parse_qs(request['body'])
    assert body['grant_type'] == ['authorization_code']
    assert body['code'] == ['the-code']
    assert body['redirect_uri'] == ['http://localhost/cb']
    assert 'client_secret' not in body
    assert tokens == Tokens('AT-2', 'RT-2', NOW + datetime.timedelta(hours=1),
                            NOW + datetime.timedelta(seconds=8726400),
                            NOW + datetime.timedelta(seconds=157680000))


def test_refresh_returns_the_rotated_refresh_token(stub):
    stub.reply(200, TOKEN_REPLY)
    tokens = refresh_tokens(stub.endpoints, 'cid', 'csecret', 'RT-1', now=NOW)
    request = stub.requests[-1]
    assert basic_auth_of(request) == 'cid:csecret'
    assert parse_qs(request['body']) == {'grant_type': ['refresh_token'], 'refresh_token': ['RT-1']}
    assert tokens.refresh_token == 'RT-2'
    assert tokens.expires_at == NOW + datetime.timedelta(hours=1)
    assert tokens.refresh_hard_expires_at == NOW + datetime.timedelta(seconds=157680000)


def test_spent_refresh_token_needs_reconnect(stub):
    stub.reply(400, {'error': 'invalid_grant', 'error_description': 'Token invalid'})
    with pytest.raises(NeedsReconnect) as info:
        refresh_tokens(stub.endpoints, 'cid', 'csecret', 'RT-old')
    assert info.value.message == 'QuickBooks refused the saved sign-in; an administrator must reconnect.'
    assert info.value.code == 'invalid_grant'
    assert 'RT-old' not in repr(info.value) + info.value.message + str(info.value.detail)


def test_wrong_client_secret_needs_reconnect_with_its_own_message(stub):
    stub.reply(401, {'error': 'invalid_client'})
    with pytest.raises(NeedsReconnect) as info:
        refresh_tokens(stub.endpoints, 'cid', 'bad-secret', 'RT-1')
    assert 'client id or secret' in info.value.message
    assert 'bad-secret' not in info.value.message


@pytest.mark.parametrize('status, body, error, words', [
    (503, 'Service Unavailable', TransientError, 'not answering'),
    (200, '<html>maintenance</html>', BadReply, 'could not be read'),
    (200, {'refresh_token': 'RT-2', 'expires_in': 3600}, BadReply, 'without an access token'),
    (200, {'access_token': 'AT', 'refresh_token': 'RT', 'expires_in': 'soon'}, BadReply, 'lifetime'),
    (200, [1, 2], BadReply, 'without an access token'),
])
def test_unusable_token_replies_get_clear_errors(stub, status, body, error, words):
    stub.reply(status, body)
    with pytest.raises(error) as info:
        refresh_tokens(stub.endpoints, 'cid', 'csecret', 'RT-1')
    assert words in info.value.message


def test_unreachable_token_service_is_transient():
    ends = endpoints_for('custom', 'http://127.0.0.1:9')   # discard port: nothing listens
    with pytest.raises(TransientError) as info:
        refresh_tokens(ends, 'cid', 'csecret', 'RT-1', timeout=2)
    assert 'could not be reached' in info.value.message


def test_revoke_posts_the_token_with_basic_auth(stub):
    stub.reply(200, '')
    revoke_token(stub.endpoints, 'cid', 'csecret', 'RT-9')
    request = stub.requests[-1]
    assert request['path'] == '/oauth2/v1/tokens/revoke'
    assert basic_auth_of(request) == 'cid:csecret'
    assert request['body'] == '{"token": "RT-9"}'


def test_revoke_failure_is_reported(stub):
    stub.reply(500, 'oops')
    with pytest.raises(TransientError):
        revoke_token(stub.endpoints, 'cid', 'csecret', 'RT-9')


def test_tokens_repr_hides_the_secrets():
    tokens = Tokens('secret-access', 'secret-refresh', NOW, NOW)
    assert 'secret' not in repr(tokens)
    assert tokens.expires_within(300, now=NOW - datetime.timedelta(seconds=200))
    assert not tokens.expires_within(300, now=NOW - datetime.timedelta(seconds=400))


def test_transport_switch_is_restored_after_overlapping_calls(monkeypatch):
    monkeypatch.delenv('OAUTHLIB_INSECURE_TRANSPORT', raising=False)
    with auth.transport_allowed('http://127.0.0.1:1/x'):
        with auth.transport_allowed('http://localhost:2/y'):
            assert os.environ['OAUTHLIB_INSECURE_TRANSPORT'] == '1'
        assert os.environ['OAUTHLIB_INSECURE_TRANSPORT'] == '1'
    assert 'OAUTHLIB_INSECURE_TRANSPORT' not in os.environ
    with auth.transport_allowed('https://quickbooks.api.intuit.com/v3'):
        assert 'OAUTHLIB_INSECURE_TRANSPORT' not in os.environ
