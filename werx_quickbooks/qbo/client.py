"""QBOClient: every call to the QuickBooks Online accounting API goes through here.

python-quickbooks is the transport (URLs, ``minorversion``, ``requestid``,
JSON headers, reply parsing); its single HTTP hook, ``process_request``, is
routed to ``QBOClient._send``, which adds what every call needs: the bearer
token (refreshed ahead of expiry and once on a 401), the client-side rate
limit, bounded exponential backoff on 5xx / timeouts / dropped connections,
the 60 s wait on 429 or fault 3001, and typed errors for faults.

A client serves one company (realm) and is not thread-safe; make one per job.
"""

import datetime
import email.utils
import json
import logging
import time
import uuid
from urllib.parse import quote

import requests
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from requests_oauthlib import OAuth2Session

from . import const
from .auth import Tokens, check_transport, refresh_tokens, utcnow
from .errors import (
    BadReply,
    CDCTooManyChanges,
    CDCWindowExceeded,
    DuplicateName,
    NeedsReconnect,
    Throttled,
    TransientError,
    ValidationError,
    Words,
    error_from_batch_item,
    error_from_fault,
    parse_fault,
)
from .ratelimit import limiter_for

_logger = logging.getLogger(__name__)

_RETRY_AFTER_MAX = 600.0          # never trust a Retry-After longer than 10 minutes
_QUERY_RESPONSE_META = ('startPosition', 'maxResults', 'totalCount')


class _QuickBooksTransport(QuickBooks):
    """python-quickbooks with its one HTTP call handed to the owning QBOClient."""

    send = None   # set by QBOClient: callable(method, url, headers, params, data) -> Response

    def process_request(self, request_type, url, headers='', params='', data=''):
        return self.send(request_type, url, headers, params, data)


class QBOClient:
    """A connection to one QBO company; methods return QBO's JSON as dicts.

    ``on_tokens(new)`` is called after every refresh, before the new access token is
    used (persist the rotated refresh token there). ``refresher(old) -> new`` replaces
    the built-in refresh. ``sleep`` is used for backoff and throttle waits,
    ``now() -> naive UTC`` for token expiry and the CDC window; both are injectable
    for tests. ``rate_limiter`` defaults to the process-wide limiter of the realm.
    Errors raised are the typed errors of ``errors.py``.
    """

    # item_error(reply_item, sent_item=None): typed error of a failed batch item, or None.
    item_error = staticmethod(error_from_batch_item)

    def __init__(self, endpoints, realm_id, tokens, *, client_id=None, client_secret=None,
                 on_tokens=None, refresher=None, sleep=time.sleep, timeout=const.TIMEOUT,
                 max_retries=const.MAX_RETRIES, max_throttle_waits=const.MAX_THROTTLE_WAITS,
                 rate_limiter=None, now=utcnow):
        check_transport(endpoints.api_url)
        if not realm_id:
            raise ValueError('A QuickBooks company (realm) id is required.')
        self.endpoints = endpoints
        self.realm_id = str(realm_id)
        self.tokens = tokens
        self.client_id = client_id
        self.client_secret = client_secret
        self.on_tokens = on_tokens
        self.refresher = refresher
        self.sleep = sleep
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_throttle_waits = max_throttle_waits
        self.rate_limiter = rate_limiter or limiter_for(self.realm_id)
        self.now = now
        self.api_calls = 0          # HTTP requests sent to the accounting API
        self.throttled_waits = 0    # waits after QBO answered 429 / 3001
        self.token_refreshes = 0    # access tokens obtained with the refresh token

        # Never the python-quickbooks singleton, never an auth_client (it would refresh silently).
        self._qb = _QuickBooksTransport(company_id=self.realm_id, minorversion=const.MINOR_VERSION)
        api_url = endpoints.api_url.rstrip('/')
        if not api_url.endswith('/company'):
            raise ValueError('The QuickBooks API URL must end in /company: %r' % api_url)
        self._qb.api_url_v3 = api_url[:-len('/company')]
        self._qb.sandbox = False
        self._qb.session = OAuth2Session(client_id, token=self._session_token())
        self._qb.send = self._send

    @property
    def qb(self):
        """The python-quickbooks client of this connection, to pass as ``qb=`` to its objects.

        Its calls take the same guarded path (rate limit, refresh, retries, typed errors).
        """
        return self._qb

    # === READS === #

    # Not Odoo's ORM read/create: pylint-odoo only matches the names.
    def read(self, entity, qbo_id):  # pylint: disable=method-required-super
        """Return one object, e.g. read('Account', '42'); NotFound if QBO has no such object."""
        result = self._request('GET', '%s/%s' % (_path(entity), quote(str(qbo_id), safe='')))
        return _member(result, entity)

    def query(self, statement):
        """Return the QueryResponse dict of a QBO SQL-like statement."""
        result = self._request('POST', 'query', body=statement, content_type='application/text')
        response = result.get('QueryResponse')
        if not isinstance(response, dict):
            raise BadReply(detail='query reply has no QueryResponse object')
        return response

    def query_pages(self, entity, where='', include_inactive=False, page_size=const.PAGE_SIZE):
        """Yield the objects of ``entity`` page by page (lists of dicts), STARTPOSITION by STARTPOSITION.

        Stops on the first page shorter than ``page_size``; yields nothing when there is none.
        """
        if not 0 < page_size <= const.PAGE_SIZE:
            raise ValueError('page_size must be between 1 and %d.' % const.PAGE_SIZE)
        base = 'SELECT * FROM %s%s' % (_entity_name(entity), _where(where, include_inactive))
        start = 1
        while True:
            response = self.query('%s STARTPOSITION %d MAXRESULTS %d' % (base, start, page_size))
            rows = _rows(response, entity)
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            start += page_size

    def count(self, entity, where='', include_inactive=False):
        """Return how many objects of ``entity`` match (one count(*) query)."""
        response = self.query('SELECT count(*) FROM %s%s'
                              % (_entity_name(entity), _where(where, include_inactive)))
        total = response.get('totalCount', 0)
        if isinstance(total, bool) or not isinstance(total, int):
            raise BadReply(detail='count reply has no numeric totalCount')
        return total

    def cdc(self, entities, changed_since):
        """Return {entity: [objects changed since]}; deleted objects carry status 'Deleted'.

        ``changed_since`` is a naive-UTC or aware datetime. Further back than 30 days,
        or more changes than QBO lists in one reply (1000), raises CDCWindowExceeded
        (CDCTooManyChanges for the latter): catch it and fall back to a full query.
        """
        names = [_entity_name(e) for e in ([entities] if isinstance(entities, str) else entities)]
        if not names:
            return {}
        unsupported = [name for name in names if name in const.CDC_UNSUPPORTED]
        if unsupported:
            raise ValueError('QuickBooks has no change feed for %s; query them instead.'
                             % ', '.join(unsupported))
        since = _as_utc(changed_since)
        if since < self.now() - datetime.timedelta(days=const.CDC_MAX_DAYS):
            raise CDCWindowExceeded(detail='changedSince %s' % since.isoformat())
        try:
            result = self._request('GET', 'cdc', params={
                'entities': ','.join(names),
                'changedSince': since.replace(microsecond=0).isoformat() + '+00:00',
            })
        except ValidationError as exc:
            # QBO's clock decides in the end; its refusal of an old changedSince gets the same error.
            if 'changedsince' in (exc.detail or '').lower() and '30 days' in exc.detail:
                raise CDCWindowExceeded(code=exc.code, detail=exc.detail,
                                        http_status=exc.http_status) from None
            raise
        changes = {name: [] for name in names}
        replies = result.get('CDCResponse')
        if not isinstance(replies, list):
            raise BadReply(detail='cdc reply has no CDCResponse list')
        for reply in replies:
            responses = reply.get('QueryResponse', []) if isinstance(reply, dict) else None
            if not isinstance(responses, list):
                raise BadReply(detail='cdc reply has no QueryResponse list')
            for response in responses:
                for name in names:
                    changes[name].extend(_rows(response, name))
        if sum(len(objects) for objects in changes.values()) >= const.CDC_MAX_OBJECTS:
            # QBO cuts the feed at 1000 objects without saying what it left out.
            raise CDCTooManyChanges(detail='changedSince %s returned the maximum of %d objects'
                                    % (since.isoformat(), const.CDC_MAX_OBJECTS))
        return changes

    def company_info(self):
        """Return the CompanyInfo object of the connected company."""
        return _member(self._request('GET', 'companyinfo/%s' % quote(self.realm_id, safe='')),
                       'CompanyInfo')

    def preferences(self):
        """Return the company's Preferences object."""
        return _member(self._request('GET', 'preferences'), 'Preferences')

    # === WRITES === #

    def create(self, entity, data, request_id=None):  # pylint: disable=method-required-super
        """Create an object and return it as QBO stored it.

        ``request_id`` (≤ 50 chars, unique per company) makes a repeated create return
        the first result instead of a duplicate; one is generated if not given, so the
        client's own retries are always safe.
        """
        return self._save(entity, data, data, request_id)

    def update(self, entity, data, sparse=True, request_id=None):
        """Update an object (``data`` carries Id and the current SyncToken) and return it.

        A sparse update changes only the fields sent. StaleObject if SyncToken is old.
        """
        _require_id(data)
        body = dict(data, sparse=True) if sparse else data
        return self._save(entity, data, body, request_id)

    def _save(self, entity, data, body, request_id):
        """POST a create or update and return the object QBO stored."""
        try:
            result = self._request('POST', _path(entity), body=json.dumps(body),
                                   request_id=_request_id(request_id))
        except DuplicateName as exc:
            raise exc.naming(data) from None
        return _member(result, entity)

    def delete(self, entity, data, request_id=None):
        """Delete a transaction (``data`` carries Id and SyncToken); return QBO's reply object."""
        _require_id(data)
        body = {'Id': data['Id'], 'SyncToken': data['SyncToken']}
        result = self._request('POST', _path(entity), body=json.dumps(body),
                               params={'operation': 'delete'}, request_id=_request_id(request_id))
        return _member(result, entity)

    def batch(self, items, request_id=None):
        """Send batch items in requests of 30; return the reply items in the order given.

        An item is a BatchItemRequest dict ({'operation': 'create', 'Customer': {...}} or
        {'Query': '...'}); a bId is added when missing. Failed items come back as dicts
        with a 'Fault' (see ``item_error``); the other items still succeed.
        """
        items = list(items)
        replies = []
        for number, start in enumerate(range(0, len(items), const.BATCH_SIZE)):
            chunk = [dict(item) for item in items[start:start + const.BATCH_SIZE]]
            for position, item in enumerate(chunk, 1):
                item.setdefault('bId', str(position))
            bids = [str(item['bId']) for item in chunk]
            if len(set(bids)) != len(bids):
                raise ValueError('Batch item ids (bId) must be unique within a batch.')
            chunk_id = ('%s-%d' % (request_id, number)) if request_id else None
            result = self._request('POST', 'batch', body=json.dumps({'BatchItemRequest': chunk}),
                                   request_id=_request_id(chunk_id))
            by_bid = {}
            for reply in result.get('BatchItemResponse') or []:
                if isinstance(reply, dict):
                    by_bid[str(reply.get('bId'))] = reply
            missing = [bid for bid in bids if bid not in by_bid]
            if missing:
                raise BadReply(detail='batch reply lacks items %s' % ', '.join(missing))
            replies.extend(by_bid[bid] for bid in bids)
        return replies

    # === REQUEST PATH === #

    def _request(self, method, path, *, body=None, params=None, content_type='application/json',
                 request_id=None):
        """Send one logical call through python-quickbooks and return its JSON object."""
        url = '%s/company/%s/%s' % (self._qb.api_url, quote(self.realm_id, safe=''), path)
        kwargs = {'params': dict(params or {}), 'request_id': request_id}
        try:
            if method == 'GET':
                result = self._qb.get(url, **kwargs)
            else:
                result = self._qb.post(url, body, content_type=content_type, **kwargs)
        except QuickbooksException as exc:
            raise _from_quickbooks_exception(exc) from None
        if not isinstance(result, dict):
            raise BadReply(detail='reply is not a JSON object')
        return result

    def _send(self, method, url, headers, params, data):
        """Send one HTTP request with rate limit, token refresh, backoff and throttle waits."""
        if not url.startswith(self._qb.api_url + '/'):
            raise ValueError('Refusing to send the QuickBooks token to another address: %r' % url)
        headers = dict(headers or {})
        is_batch = url.rstrip('/').endswith('/batch')
        retries = throttles = 0
        refreshed = False
        while True:
            if not refreshed and self.tokens.expires_within(const.REFRESH_MARGIN, self.now()):
                self._refresh()
                refreshed = True
            self.rate_limiter.acquire(batch=is_batch)
            headers['Authorization'] = 'Bearer ' + self.tokens.access_token
            self.api_calls += 1
            try:
                # requests.Session.request, not OAuth2Session.request: the Authorization header
                # is ours, and OAuth2Session logs request headers (the token) at DEBUG level.
                # The URL was checked by check_transport when the client was made.
                response = requests.Session.request(
                    self._qb.session, method, url, headers=headers, params=params, data=data,
                    timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                retries = self._backoff(retries, None, detail=_describe(exc))
                continue
            status = response.status_code
            if status == 401:
                if refreshed:
                    raise error_from_fault(status, response.text)
                self._refresh()
                refreshed = True
                continue
            if status == 429 or (status >= 400 and _is_throttle_fault(response.text)):
                throttles = self._throttle_wait(throttles, response)
                continue
            if status >= 500:
                retries = self._backoff(retries, response,
                                        detail='HTTP %d: %s' % (status, response.text[:200]))
                continue
            if status >= 300:
                raise error_from_fault(status, response.text)
            if not response.content[:256].lstrip().startswith(b'{'):
                # python-quickbooks would report this as a generic exception with the body.
                raise BadReply(detail='HTTP %d reply is not a JSON object (%s)'
                               % (status, response.headers.get('Content-Type', 'no content type')),
                               http_status=status)
            return response

    def _backoff(self, retries, response, detail):
        """Sleep before retry number ``retries + 1``, or raise TransientError when none is left."""
        status = None if response is None else response.status_code
        if retries >= self.max_retries:
            raise TransientError(detail=detail, http_status=status)
        delay = max(min(const.BACKOFF_MAX, const.BACKOFF_BASE * 2 ** retries),
                    _retry_after(response, self.now) or 0)
        _logger.info('QuickBooks realm %s: %s; retry %d of %d in %.0f s',
                     self.realm_id, detail[:120], retries + 1, self.max_retries, delay)
        self.sleep(delay)
        return retries + 1

    def _throttle_wait(self, throttles, response):
        """Wait as QBO asks (Retry-After, else 60 s), or raise Throttled after too many waits."""
        wait = _retry_after(response, self.now)
        if wait is None:
            wait = const.THROTTLE_WAIT
        if throttles >= self.max_throttle_waits:
            error = error_from_fault(429, response.text)
            raise Throttled(code=error.code or const.CODE_THROTTLED, detail=error.detail,
                            http_status=response.status_code, retry_after=wait)
        self.throttled_waits += 1
        _logger.warning('QuickBooks realm %s asked to slow down (HTTP %d); waiting %.0f s',
                        self.realm_id, response.status_code, wait)
        self.sleep(wait)
        return throttles + 1

    def _refresh(self):
        """Get a new access token; hand it to on_tokens (to persist) before using it."""
        old = self.tokens
        if self.refresher is not None:
            new = self.refresher(old)
        elif self.client_id and self.client_secret:
            new = refresh_tokens(self.endpoints, self.client_id, self.client_secret,
                                 old.refresh_token, timeout=self.timeout, now=self.now())
        else:
            raise NeedsReconnect(detail='no client credentials to refresh the access token')
        if not isinstance(new, Tokens) or not new.access_token:
            raise BadReply(Words("QuickBooks' sign-in service answered without an access token."))
        self.token_refreshes += 1
        _logger.info('QuickBooks realm %s: access token refreshed', self.realm_id)
        if self.on_tokens is not None:
            self.on_tokens(new)
        self.tokens = new
        self._qb.session.token = self._session_token()

    def _session_token(self):
        return {'access_token': self.tokens.access_token, 'token_type': 'Bearer'}


# === HELPERS === #

def _entity_name(entity):
    """Return ``entity`` if it is a plain QBO entity name (it goes into URLs and queries)."""
    if not isinstance(entity, str) or not entity.isalpha():
        raise ValueError('Not a QuickBooks entity name: %r' % (entity,))
    return entity


def _path(entity):
    return _entity_name(entity).lower()


def _member(result, entity):
    """Return result[entity] (the object of a read/create/update reply) or raise BadReply."""
    value = result.get(entity)
    if not isinstance(value, dict):
        for key, candidate in result.items():
            if key.lower() == entity.lower() and isinstance(candidate, dict):
                return candidate
        raise BadReply(detail='reply has no %s object' % entity)
    return value


def _rows(response, entity):
    """Return the list of objects of ``entity`` in a QueryResponse (empty if none)."""
    if not isinstance(response, dict):
        raise BadReply(detail='QueryResponse is not an object')
    for key, value in response.items():
        if key in _QUERY_RESPONSE_META or key.lower() != entity.lower():
            continue
        if not isinstance(value, list):
            raise BadReply(detail='QueryResponse.%s is not a list' % key)
        return value
    return []


def _where(where, include_inactive):
    """Return ' WHERE …' joining the caller's condition and the inactive switch with AND."""
    clauses = []
    where = (where or '').strip()
    if where[:6].upper() == 'WHERE ':
        where = where[6:].strip()
    if where:
        clauses.append(where)
    if include_inactive:
        # QBO returns inactive list records only when asked for explicitly.
        clauses.append('Active IN (true, false)')
    return (' WHERE ' + ' AND '.join(clauses)) if clauses else ''


def _request_id(request_id):
    if request_id is None:
        return uuid.uuid4().hex
    request_id = str(request_id)
    if not request_id or len(request_id) > const.REQUEST_ID_MAX_LEN:
        raise ValueError('A QuickBooks requestid has 1 to %d characters.' % const.REQUEST_ID_MAX_LEN)
    return request_id


def _require_id(data):
    if not isinstance(data, dict) or not data.get('Id') or data.get('SyncToken') in (None, ''):
        raise ValueError('Updating or deleting a QuickBooks object needs its Id and SyncToken.')


def _as_utc(moment):
    """Return a naive-UTC datetime for a naive-UTC or aware datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment


def _is_throttle_fault(text):
    parsed = parse_fault(text)
    return bool(parsed) and parsed[0] == const.CODE_THROTTLED


def _retry_after(response, now):
    """Seconds the server asked to wait (Retry-After as seconds or HTTP date), else None."""
    value = response.headers.get('Retry-After') if response is not None else None
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _RETRY_AFTER_MAX)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    seconds = (_as_utc(when) - now()).total_seconds() if when.tzinfo else None
    return None if seconds is None else min(max(seconds, 0.0), _RETRY_AFTER_MAX)


def _describe(exc):
    return ('%s: %s' % (type(exc).__name__, exc))[:300]


def _from_quickbooks_exception(exc):
    """Typed error for what python-quickbooks raised while reading a 2xx reply."""
    if type(exc) is QuickbooksException and exc.error_code == 10000:
        # "Error reading json response" or an unexpected 2xx status.
        return BadReply(detail=str(exc.message)[:300])
    fault = {'Error': [{'Message': exc.message, 'Detail': exc.detail, 'code': str(exc.error_code)}]}
    return error_from_fault(200, {'Fault': fault})
