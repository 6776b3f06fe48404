"""Black-box conformance of the QBO emulator with qbo-reference.md and the emulator's issue.

Most checks drive `python -m qbo_emulator` as a subprocess over HTTP with the stdlib only,
spaced to stay under QBO's 10 requests/s. Clock-driven behaviour (token expiry, the 30-day
CDC window), test controls and bulk or hostile input use the in-process Emulator, still
over HTTP. Expected values are written out here from the reference, not imported.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from qbo_emulator import Emulator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT_ID = "conf-client"
CLIENT_SECRET = "conf-secret"
VERIFIER = "conf-verifier"
REDIRECT = "http://127.0.0.1:9/cb"
SCOPE = "com.intuit.quickbooks.accounting"
AUTH_401 = {
    "fault": {
        "error": [
            {"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401", "code": "3200"}
        ],
        "type": "AUTHENTICATION",
    }
}
PACE = 0.11  # seconds between API calls to the subprocess: 9 a second, under QBO's 10


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def fault(self, status=400):
        """The first Error of a QBO Fault reply, after checking the reference's shape."""
        assert self.status == status, self.body[:500]
        data = self.json()
        assert set(data) == {"Fault", "time"}, data
        assert isinstance(data["Fault"]["type"], str) and data["Fault"]["type"]
        error = data["Fault"]["Error"][0]
        assert isinstance(error["code"], str) and error["code"].isdigit(), error
        assert isinstance(error["Message"], str)
        return error


def request(base, method, path, body=None, *, headers=None, timeout=10):
    """One HTTP exchange on a fresh connection; body may be bytes, str or a JSON-able object."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    headers = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def basic(client_id=CLIENT_ID, secret=CLIENT_SECRET):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_call(base, form, auth=None):
    return request(
        base,
        "POST",
        "/oauth2/v1/tokens/bearer",
        urlencode(form),
        headers={
            "Authorization": auth or basic(),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )


def authorize(base, **extra):
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": SCOPE,
        "state": "st-42",
        **extra,
    }
    r = request(base, "GET", "/oauth2/authorize?" + urlencode(params))
    assert r.status in (302, 303), r.body
    loc = urlsplit(r.headers["location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
    return {k: v[0] for k, v in parse_qs(loc.query).items()}


def oauth_tokens(base):
    """The whole code flow: consent, then the code exchanged with HTTP Basic client auth."""
    back = authorize(base)
    r = token_call(base, {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT})
    assert r.status == 200, r.body
    return back, r.json()


class Api:
    """The v3 API of one company with one bearer token; `pace` spaces the calls."""

    def __init__(self, base, realm, token, pace=0.0):
        self.base = base
        self.realm = realm
        self.token = token
        self.pace = pace
        self._last = 0.0

    def call(self, method, path, body=None, *, params=None, headers=None, minor=75):
        if self.pace:
            time.sleep(max(0.0, self._last + self.pace - time.monotonic()))
        params = dict(params or {})
        if minor is not None:
            params.setdefault("minorversion", minor)
        url = f"/v3/company/{self.realm}/{path}"
        if params:
            url += "?" + urlencode(params)
        hdrs = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", **(headers or {})}
        try:
            return request(self.base, method, url, body, headers=hdrs)
        finally:
            self._last = time.monotonic()

    def get(self, path, **params):
        return self.call("GET", path, params=params)

    def post(self, path, body, **params):
        return self.call("POST", path, body, params=params)

    def ok(self, reply):
        assert reply.status == 200, reply.body[:500]
        data = reply.json()
        assert isinstance(data.get("time"), str)
        return data

    def query(self, stmt):
        return self.ok(self.get("query", query=stmt))["QueryResponse"]

    def query_post(self, stmt):
        r = self.call("POST", "query", stmt, headers={"Content-Type": "application/text"})
        return self.ok(r)["QueryResponse"]

    def create(self, entity, data):
        return self.ok(self.post(entity.lower(), data))[entity]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(proc, port, log):
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.seek(0)
                pytest.fail("the emulator did not start: " + log.read().decode(errors="replace"))
            time.sleep(0.05)


@pytest.fixture(scope="module")
def server():
    """`python -m qbo_emulator` exactly as the issue starts it."""
    port = free_port()
    cmd = [sys.executable, "-m", "qbo_emulator", "--port", str(port), "--seed", "demo"]
    cmd += ["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--verifier-token", VERIFIER]
    cmd += ["--access-token-ttl", "3600", "--seed-scale", "1"]
    # its log goes to a file, not a pipe: a full pipe would block the emulator
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        _wait_for(proc, port, log)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture(scope="module")
def grant(server):
    return oauth_tokens(server)


@pytest.fixture(scope="module")
def api(server, grant):
    back, tokens = grant
    return Api(server, back["realmId"], tokens["access_token"], pace=PACE)


@pytest.fixture(scope="module")
def emu():
    """In-process demo company for bulk, hostile and control checks (throttle off)."""
    emu = Emulator(seed="demo", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limits=False).start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def local(emu):
    return Api(emu.base_url, emu.realm_id, emu.issue_tokens()["access_token"])


@pytest.fixture
def fresh():
    emu = Emulator(seed="demo", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limits=False).start()
    yield emu
    emu.stop()


# === OAUTH === #


def test_authorize_redirects_with_code_state_and_realm(grant):
    back, tokens = grant
    assert back["state"] == "st-42" and back["code"] and back["realmId"].isdigit()
    assert set(tokens) >= {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "x_refresh_token_expires_in",
    }
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["expires_in"] == 3600
    assert (
        isinstance(tokens["x_refresh_token_expires_in"], int) and tokens["x_refresh_token_expires_in"] > 3600
    )


def test_refusal_redirects_with_access_denied(server, fresh):
    assert authorize(server, simulate="deny")["error"] == "access_denied"
    fresh.deny_consent = True
    back = authorize(fresh.base_url)
    assert back["error"] == "access_denied" and back["state"] == "st-42" and "code" not in back


def test_code_works_once_and_needs_basic_client_auth(server):
    back = authorize(server)
    form = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": REDIRECT}
    r = token_call(server, form, auth=basic(secret="wrong"))
    assert r.status in (400, 401) and r.json()["error"] == "invalid_client"
    assert token_call(server, form).status == 200
    r = token_call(server, form)
    assert r.status == 400 and r.json() == {"error": "invalid_grant"}


def test_refresh_rotates_and_a_spent_token_is_invalid_grant(server):
    _back, first = oauth_tokens(server)
    r = token_call(server, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert r.status == 200, r.body
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"] and second["expires_in"] == 3600
    r = token_call(server, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert r.status == 400 and r.json() == {"error": "invalid_grant"}
    r = token_call(server, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert r.status == 200


def test_revoke_ends_the_grant(server):
    back, tokens = oauth_tokens(server)
    r = request(
        server,
        "POST",
        "/oauth2/v1/tokens/revoke",
        {"token": tokens["refresh_token"]},
        headers={"Authorization": basic(), "Accept": "application/json"},
    )
    assert r.status == 200
    r = token_call(server, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert r.status == 400 and r.json()["error"] == "invalid_grant"
    gone = Api(server, back["realmId"], tokens["access_token"], pace=PACE)
    r = gone.get("companyinfo/" + back["realmId"])
    assert r.status == 401 and r.json() == AUTH_401


def test_bad_or_missing_token_is_401_with_the_lower_case_body(api):
    for token in ("not-a-token", ""):
        r = Api(api.base, api.realm, token, pace=PACE).get("account/1")
        assert r.status == 401
        assert r.json() == AUTH_401


def test_expired_access_token_is_401_and_refresh_still_works(fresh):
    tokens = fresh.issue_tokens()
    api = Api(fresh.base_url, fresh.realm_id, tokens["access_token"])
    assert api.get("account/1").status == 200
    fresh.clock.advance(3601)
    r = api.get("account/1")
    assert r.status == 401 and r.json() == AUTH_401
    r = token_call(fresh.base_url, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert r.status == 200
    assert Api(fresh.base_url, fresh.realm_id, r.json()["access_token"]).get("account/1").status == 200


# === READ, MINORVERSION, COMPANY === #


def test_read_shape_and_lower_case_segments(api):
    for entity, seg in (
        ("Account", "account"),
        ("Term", "term"),
        ("Class", "class"),
        ("Department", "department"),
        ("PaymentMethod", "paymentmethod"),
        ("TaxRate", "taxrate"),
        ("Item", "item"),
        ("Customer", "customer"),
    ):
        data = api.ok(api.get(f"{seg}/1"))
        obj = data[entity]
        assert obj["Id"] == "1" and isinstance(obj["SyncToken"], str)
        assert {"CreateTime", "LastUpdatedTime"} <= set(obj["MetaData"])
        if entity not in ("TaxRate",):
            assert isinstance(obj["Active"], bool)


def test_unknown_id_is_fault_610(api):
    assert api.get("customer/987654").fault()["code"] == "610"


def test_minorversion_is_optional_and_old_ones_are_accepted(api):
    assert api.ok(api.call("GET", "account/1", minor=None))["Account"]["Id"] == "1"
    assert api.ok(api.call("GET", "account/1", minor=65))["Account"]["Id"] == "1"


def test_companyinfo_and_preferences(api):
    info = api.ok(api.get("companyinfo/" + api.realm))["CompanyInfo"]
    assert info["CompanyName"] and info["Id"]
    prefs = api.ok(api.get("preferences"))["Preferences"]
    assert "AccountingInfoPrefs" in prefs
    assert api.query("SELECT * FROM CompanyInfo")["CompanyInfo"][0]["CompanyName"] == info["CompanyName"]


# === QUERY === #


def test_query_by_get_and_by_post_text_agree(api):
    stmt = "SELECT * FROM Customer ORDERBY Id MAXRESULTS 5"
    by_get, by_post = api.query(stmt), api.query_post(stmt)
    assert by_get == by_post
    assert set(by_get) == {"Customer", "startPosition", "maxResults"}
    assert by_get["startPosition"] == 1 and by_get["maxResults"] == 5 == len(by_get["Customer"])


def test_count_and_empty_result_shapes(api):
    count = api.query("SELECT COUNT(*) FROM Customer")
    assert set(count) == {"totalCount"} and count["totalCount"] >= 20
    assert api.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody At All 123'") == {}


def test_keywords_are_case_insensitive(api):
    upper = api.query(
        "SELECT * FROM Account WHERE Name LIKE '%a%' ORDERBY Name DESC STARTPOSITION 1 MAXRESULTS 7"
    )
    lower = api.query(
        "select * from account where Name like '%a%' orderby Name desc startposition 1 maxresults 7"
    )
    assert upper == lower and upper["maxResults"] == 7


def test_default_page_is_100_and_max_is_1000(emu, local):
    for i in range(130):
        emu.store.create(emu.realm_id, "Class", {"Name": f"Bulk class {i:03d}"})
    page = local.query("SELECT * FROM Class")
    assert page["maxResults"] == len(page["Class"]) == 100
    assert local.query("SELECT count(*) FROM Class")["totalCount"] > 100
    r = local.get("query", query="SELECT * FROM Class MAXRESULTS 1001")
    if r.status == 200:  # unconfirmed at Intuit: capped, or refused with a fault
        assert r.json()["QueryResponse"]["maxResults"] <= 1000
    else:
        r.fault()


def test_where_operators_in_like_and(local):
    everything = local.query("SELECT * FROM Account MAXRESULTS 1000")["Account"]
    ids = sorted(everything, key=lambda a: int(a["Id"]))[:3]
    wanted = {a["Id"] for a in ids}
    got = local.query("SELECT * FROM Account WHERE Id IN ('%s')" % "', '".join(sorted(wanted)))["Account"]
    assert {a["Id"] for a in got} == wanted
    like = local.query("SELECT * FROM Account WHERE Name LIKE 'Acc%'")["Account"]
    assert like and all(a["Name"].lower().startswith("acc") for a in like)
    anywhere = local.query("SELECT * FROM Customer WHERE DisplayName LIKE '%e%'")["Customer"]
    assert anywhere and all("e" in c["DisplayName"].lower() for c in anywhere)
    items = local.query("SELECT * FROM Item WHERE UnitPrice > '0' MAXRESULTS 1000")["Item"]
    assert items and all(i["UnitPrice"] > 0 for i in items)
    price = sorted(i["UnitPrice"] for i in items)[len(items) // 2]
    for op, check in (
        ("<", lambda v: v < price),
        (">", lambda v: v > price),
        ("<=", lambda v: v <= price),
        (">=", lambda v: v >= price),
        ("=", lambda v: v == price),
    ):
        rows = local.query(f"SELECT * FROM Item WHERE UnitPrice {op} '{price}' MAXRESULTS 1000").get(
            "Item", []
        )
        expected = [i for i in items if check(i["UnitPrice"])]
        assert len(rows) == len(expected), op
    both = local.query(f"SELECT * FROM Item WHERE UnitPrice >= '{price}' AND Type = 'Service'").get(
        "Item", []
    )
    assert all(i["UnitPrice"] >= price and i["Type"] == "Service" for i in both)


def test_orderby_desc_and_one_based_startposition(local):
    names = [
        c["DisplayName"] for c in local.query("SELECT * FROM Customer ORDERBY DisplayName DESC")["Customer"]
    ]
    assert names == sorted(names, key=str.casefold, reverse=True)
    full = local.query("SELECT * FROM Customer ORDERBY Id")["Customer"]
    page = local.query("SELECT * FROM Customer ORDERBY Id STARTPOSITION 2 MAXRESULTS 3")
    assert page["startPosition"] == 2 and page["Customer"] == full[1:4]


def test_inactive_records_only_with_active_in_true_false(emu, local):
    cust = emu.store.create(emu.realm_id, "Customer", {"DisplayName": "Dormant Conformance Co"})
    emu.store.update(emu.realm_id, "Customer", cust["Id"], {"Active": False})
    default = local.query("SELECT * FROM Customer MAXRESULTS 1000")["Customer"]
    assert all(c["Active"] for c in default)
    everyone = local.query("SELECT * FROM Customer WHERE Active IN (true, false) MAXRESULTS 1000")["Customer"]
    assert cust["Id"] in {c["Id"] for c in everyone} and len(everyone) > len(default)
    assert local.query("SELECT COUNT(*) FROM Customer WHERE Active IN (true, false)")["totalCount"] == len(
        everyone
    )


def test_query_syntax_error_is_a_fault(api):
    api.get("query", query="SELEKT everything").fault()
    api.get("query", query="SELECT * FROM Account WHERE Name = 'a' OR Name = 'b'").fault()


# === WRITES === #


def test_create_full_and_sparse_update_with_synctoken(api):
    c = api.create(
        "Customer", {"DisplayName": "Conformance Plumbing LLC", "CompanyName": "Conformance Plumbing"}
    )
    assert c["SyncToken"] == "0" and c["Active"] is True
    full = {"Id": c["Id"], "SyncToken": c["SyncToken"], "DisplayName": c["DisplayName"], "Notes": "full"}
    c1 = api.create("Customer", full)
    assert c1["SyncToken"] == "1" and c1["Notes"] == "full" and "CompanyName" not in c1
    c2 = api.create("Customer", {"Id": c["Id"], "SyncToken": "1", "sparse": True, "CompanyName": "CP"})
    assert c2["SyncToken"] == "2" and c2["Notes"] == "full" and c2["CompanyName"] == "CP"
    stale = api.post("customer", {"Id": c["Id"], "SyncToken": "1", "sparse": True, "Notes": "late"})
    assert stale.fault()["code"] == "5010"
    off = api.create("Customer", {"Id": c["Id"], "SyncToken": "2", "sparse": True, "Active": False})
    assert off["Active"] is False
    assert api.query("SELECT * FROM Customer WHERE DisplayName = 'Conformance Plumbing LLC'") == {}


def test_display_name_unique_across_parties_and_names_unique_in_lists(api):
    api.create("Vendor", {"DisplayName": "Twin Name Supply"})
    assert api.post("customer", {"DisplayName": "Twin Name Supply"}).fault()["code"] == "6240"
    api.create("Class", {"Name": "Conformance Class"})
    assert api.post("class", {"Name": "Conformance Class"}).fault()["code"] == "6240"


def test_references_are_checked_and_required_fields(api):
    bad = {"DisplayName": "Ref Checker", "SalesTermRef": {"value": "424242"}}
    assert api.post("customer", bad).fault()["code"] == "2500"
    assert api.post("class", {}).fault()["code"] in ("2020", "6000")
    assert api.post("invoice", {"CustomerRef": {"value": "1"}}).fault()["code"] in ("2020", "6000")


def test_delete_invoice_and_cdc_marks_it_deleted(fresh):
    api = Api(fresh.base_url, fresh.realm_id, fresh.issue_tokens()["access_token"])
    since = (fresh.clock.now() - timedelta(minutes=5)).isoformat()
    item = api.query("SELECT * FROM Item WHERE Type = 'Service' MAXRESULTS 1")["Item"][0]
    line = {
        "Amount": 10,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}},
    }
    inv = api.create("Invoice", {"CustomerRef": {"value": "1"}, "Line": [line]})
    gone = api.ok(api.post("invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="delete"))
    assert gone["Invoice"]["status"] == "Deleted"
    assert api.get("invoice/" + inv["Id"]).fault()["code"] == "610"
    cust = api.create("Customer", {"DisplayName": "CDC Newcomer"})
    cdc = api.ok(api.get("cdc", entities="Invoice,Customer", changedSince=since))
    assert set(cdc) == {"CDCResponse", "time"}
    groups = cdc["CDCResponse"][0]["QueryResponse"]
    found = {k: v for g in groups for k, v in g.items() if isinstance(v, list)}
    assert cust["Id"] in {c["Id"] for c in found["Customer"]}
    tomb = next(i for i in found["Invoice"] if i["Id"] == inv["Id"])
    assert tomb["status"] == "Deleted" and "MetaData" in tomb


def test_void_and_tax_codes_through_the_tax_service(local):
    item = local.query("SELECT * FROM Item WHERE Type = 'Service' MAXRESULTS 1")["Item"][0]
    line = {"Amount": 25, "DetailType": "SalesItemLineDetail"}
    line["SalesItemLineDetail"] = {"ItemRef": {"value": item["Id"]}}
    inv = local.create("Invoice", {"CustomerRef": {"value": "2"}, "Line": [line]})
    voided = local.ok(
        local.post("invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="void")
    )
    assert voided["Invoice"]["TotalAmt"] == 0 and voided["Invoice"]["SyncToken"] != inv["SyncToken"]
    local.post("taxcode", {"Name": "Direct"}).fault()  # read-only endpoint
    agency = local.query("SELECT * FROM TaxAgency")["TaxAgency"][0]
    detail = {"TaxRateName": "Conformance Rate", "RateValue": "2.5", "TaxAgencyId": agency["Id"]}
    made = local.post("taxservice/taxcode", {"TaxCode": "Conformance Tax", "TaxRateDetails": [detail]})
    assert made.status == 200, made.body  # a TaxService reply, without QBO's usual "time"
    made = made.json()
    code = local.ok(local.get("taxcode/" + made["TaxCodeId"]))["TaxCode"]
    assert code["Name"] == "Conformance Tax" and code["SalesTaxRateList"]["TaxRateDetail"]
    rate_id = code["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]["value"]
    assert local.ok(local.get("taxrate/" + rate_id))["TaxRate"]["RateValue"] == 2.5


def test_cdc_takes_an_offset_whose_plus_was_not_url_encoded(emu, local):
    since = (emu.clock.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    path = f"/v3/company/{local.realm}/cdc?entities=Customer&changedSince={since}&minorversion=75"
    r = request(local.base, "GET", path, headers={"Authorization": f"Bearer {local.token}"})
    assert r.status == 200, r.body  # sent raw, the '+' arrives as a space


def test_cdc_window_cap_and_tax_entities(fresh):
    api = Api(fresh.base_url, fresh.realm_id, fresh.issue_tokens()["access_token"])
    now = fresh.clock.now()
    assert api.get("cdc", entities="Customer", changedSince=(now - timedelta(days=31)).isoformat()).fault()
    assert (
        api.get("cdc", entities="Customer", changedSince=(now - timedelta(days=29)).isoformat()).status == 200
    )
    assert api.get("cdc", entities="TaxCode", changedSince=now.isoformat()).status >= 400
    for i in range(1005):
        fresh.store.create(fresh.realm_id, "Class", {"Name": f"CDC class {i}"})
    since = (now - timedelta(minutes=1)).isoformat()
    groups = api.ok(api.get("cdc", entities="Class", changedSince=since))["CDCResponse"][0]["QueryResponse"]
    assert sum(len(g.get("Class", [])) for g in groups) == 1000
    fresh.clock.advance(29 * 86400)
    assert api.get("cdc", entities="Class", changedSince=since).status == 401  # the token expired meanwhile


def test_batch_items_answer_by_bid_with_a_fault_each(api):
    body = {
        "BatchItemRequest": [
            {"bId": "b1", "operation": "create", "Class": {"Name": "Batch Conformance A"}},
            {"bId": "b2", "operation": "create", "Class": {"Name": "Batch Conformance A"}},
            {"bId": "b3", "Query": "SELECT * FROM Term MAXRESULTS 2"},
        ]
    }
    out = api.ok(api.post("batch", body))["BatchItemResponse"]
    by = {i["bId"]: i for i in out}
    assert set(by) == {"b1", "b2", "b3"}
    assert by["b1"]["Class"]["Name"] == "Batch Conformance A"
    assert by["b2"]["Fault"]["Error"][0]["code"] == "6240" and isinstance(by["b2"]["Fault"]["type"], str)
    assert len(by["b3"]["QueryResponse"]["Term"]) == 2
    many = {"BatchItemRequest": [{"bId": str(i), "Query": "SELECT * FROM Term"} for i in range(31)]}
    api.post("batch", many).fault()


def test_requestid_replays_the_first_reply(api):
    rid = "conf-" + str(time.time_ns())
    first = api.post("class", {"Name": "Replay Conformance"}, requestid=rid)
    again = api.post("class", {"Name": "Replay Conformance"}, requestid=rid)
    assert first.status == again.status == 200
    assert first.json()["Class"]["Id"] == again.json()["Class"]["Id"]
    assert api.query("SELECT COUNT(*) FROM Class WHERE Name = 'Replay Conformance'")["totalCount"] == 1


def test_term_type_follows_due_days(local):
    terms = local.query("SELECT * FROM Term")["Term"]
    assert {t["Type"] for t in terms if t.get("DueDays") is not None} == {"Standard"}
    assert {t["Type"] for t in terms if t.get("DueDays") is None} == {"DateDriven"}


def test_entity_fields_follow_the_reference(local):
    def first(entity, where=""):
        return local.query(f"SELECT * FROM {entity} {where}MAXRESULTS 50")[entity]

    classes = {"Asset", "Equity", "Expense", "Liability", "Revenue"}
    assert all(a["Classification"] in classes for a in first("Account"))
    assert all(len(a["Name"]) <= 100 for a in first("Account"))
    assert local.post("account", {"Name": "x" * 101, "AccountType": "Bank"}).fault()["code"]
    assert {m["Type"] for m in first("PaymentMethod")} <= {"CREDIT_CARD", "NON_CREDIT_CARD"}
    rate = first("TaxRate")[0]
    assert {"Name", "RateValue", "AgencyRef"} <= set(rate)
    code = first("TaxCode")[0]
    assert {"Name", "Taxable", "SalesTaxRateList"} <= set(code)
    inventory = first("Item", "WHERE Type = 'Inventory' ")[0]
    assert {"AssetAccountRef", "InvStartDate", "QtyOnHand"} <= set(inventory)
    inv = first("Invoice")[0]
    assert {"DocNumber", "TxnDate", "DueDate", "CustomerRef", "Line", "TotalAmt", "Balance"} <= set(inv)
    assert set(inv["CustomerRef"]) == {"value", "name"} and isinstance(inv["CustomerRef"]["value"], str)
    pay = next(p for p in first("Payment") if p["Line"])
    assert {"CustomerRef", "TotalAmt", "UnappliedAmt", "Line"} <= set(pay)
    linked = pay["Line"][0]["LinkedTxn"][0]
    assert linked["TxnType"] == "Invoice" and local.get("invoice/" + linked["TxnId"]).status == 200


# === DEMO SEED === #


def test_demo_seed_is_a_believable_company(local):
    def rows(entity, where="WHERE Active IN (true, false) "):
        return local.query(f"SELECT * FROM {entity} {where}MAXRESULTS 1000").get(entity, [])

    accounts = rows("Account")
    assert 50 <= len(accounts) <= 80
    assert {a["AccountType"] for a in accounts} >= {
        "Bank",
        "Accounts Receivable",
        "Other Current Asset",
        "Fixed Asset",
        "Accounts Payable",
        "Credit Card",
        "Other Current Liability",
        "Long Term Liability",
        "Equity",
        "Income",
        "Cost of Goods Sold",
        "Expense",
        "Other Income",
        "Other Expense",
    }
    subs = [a for a in accounts if a.get("SubAccount")]
    by_id = {a["Id"]: a for a in accounts}
    assert subs and all(
        a["FullyQualifiedName"] == f"{by_id[a['ParentRef']['value']]['FullyQualifiedName']}:{a['Name']}"
        for a in subs
    )
    assert 0 < len([a for a in accounts if a.get("AcctNum")]) < len(accounts)
    terms = rows("Term")
    assert any(t.get("DayOfMonthDue") for t in terms) and any(t.get("DiscountPercent") for t in terms)
    for entity in ("Class", "Department"):
        assert any(o.get("ParentRef") and ":" in o["FullyQualifiedName"] for o in rows(entity)), entity
    methods = rows("PaymentMethod")
    assert {m["Type"] for m in methods} == {"CREDIT_CARD", "NON_CREDIT_CARD"}
    assert {"cash", "check"} <= {m["Name"].lower() for m in methods}
    assert rows("TaxRate", "") and rows("TaxCode", "")
    assert {i["Type"] for i in rows("Item")} >= {"Service", "Inventory", "NonInventory", "Category"}
    assert len(rows("Customer")) >= 20 and len(rows("Vendor")) >= 20
    payments = rows("Payment", "")
    assert rows("Invoice", "") and any(ln.get("LinkedTxn") for p in payments for ln in p["Line"])
    inactive = sum(len(rows(e, "WHERE Active = false ")) for e in ("Account", "Customer", "Vendor", "Item"))
    assert inactive >= 2


def test_seed_scale_multiplies_the_volume():
    small = Emulator(seed="demo", rate_limits=False)
    big = Emulator(seed="demo", rate_limits=False, seed_scale=3)
    assert len(big.store.all(big.realm_id, "Customer")) >= 2 * len(
        small.store.all(small.realm_id, "Customer")
    )
    empty = Emulator(seed="empty", rate_limits=False)
    assert not empty.store.all(empty.realm_id, "Customer")


# === CONTROLS, WEBHOOKS, LOG === #


def test_injected_failures(fresh):
    api = Api(fresh.base_url, fresh.realm_id, fresh.issue_tokens()["access_token"])
    fresh.slow_seconds = 0.3
    for kind, status in (("500", 500), ("503", 503), ("401", 401), ("429", 429)):
        fresh.inject(kind)
        assert api.get("account/1").status == status, kind
    fresh.inject("slow")
    start = time.monotonic()
    assert api.get("account/1").status == 200 and time.monotonic() - start >= 0.3
    fresh.inject("drop")
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        api.get("account/1")
    assert api.get("account/1").status == 200


@pytest.mark.parametrize("fmt", ["classic", "cloudevents"])
def test_webhooks_are_signed_with_the_verifier_token(fresh, fmt, webhook_sink):
    fresh.set_webhook(webhook_sink.url, fmt, VERIFIER)
    api = Api(fresh.base_url, fresh.realm_id, fresh.issue_tokens()["access_token"])
    cust = api.create("Customer", {"DisplayName": f"Hooked {fmt}"})
    fresh.flush_webhooks(5)
    headers, body = webhook_sink.wait()[0]
    sig = {k.lower(): v for k, v in headers.items()}["intuit-signature"]
    expected = base64.b64encode(hmac.new(VERIFIER.encode(), body, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(sig, expected)
    data = json.loads(body)
    if fmt == "classic":
        note = data["eventNotifications"][0]
        assert note["realmId"] == fresh.realm_id
        ent = note["dataChangeEvent"]["entities"][0]
        assert (ent["name"], ent["id"], ent["operation"]) == ("Customer", cust["Id"], "Create")
        assert ent["lastUpdated"]
    else:
        ev = data[0]
        assert ev["specversion"] == "1.0" and ev["type"] == "qbo.customer.created.v1"
        assert ev["intuitentityid"] == cust["Id"] and ev["intuitaccountid"] == fresh.realm_id
        assert ev["id"] and ev["source"] and ev["time"] and "data" in ev


def test_request_log_and_counters(fresh):
    api = Api(fresh.base_url, fresh.realm_id, fresh.issue_tokens()["access_token"])
    fresh.reset_log()
    api.query("SELECT * FROM Term")
    api.get("account/1")
    assert fresh.counters["GET query"] == 1 and fresh.counters["GET account"] == 1
    entry = fresh.request_log[0]
    assert {"method", "path", "entity", "status", "query", "request_id", "time"} <= set(entry)
    assert entry["status"] == 200 and entry["entity"] == "Term"


# === HOSTILE INPUT: faults, never a 500 or a stuck thread === #


@pytest.mark.parametrize(
    "stmt",
    [
        "SELECT * FROM Account MAXRESULTS " + "9" * 5000,
        "SELECT * FROM Account STARTPOSITION -5",
        "SELECT * FROM Account WHERE Id = '" + "x" * 100000,
        "SELECT * FROM Account MAXRESULTS 0",
        "SELECT * FROM Nothing",
        "",
    ],
)
def test_hostile_queries_are_faults(local, stmt):
    local.call("POST", "query", stmt, headers={"Content-Type": "application/text"}).fault()


def test_a_backtracking_like_pattern_answers_at_once(emu, local):
    emu.store.create(emu.realm_id, "Customer", {"DisplayName": "Long Notes Co", "Notes": "a" * 2000})
    start = time.monotonic()
    found = local.query("SELECT * FROM Customer WHERE Notes LIKE '" + "%a" * 40 + "%b'")
    assert found == {} and time.monotonic() - start < 2
    hit = local.query("SELECT * FROM Customer WHERE Notes LIKE '" + "%a" * 40 + "%'")["Customer"]
    assert [c["DisplayName"] for c in hit] == ["Long Notes Co"]


def test_huge_maxresults_is_served_capped(local):
    r = local.get("query", query="SELECT * FROM Account MAXRESULTS 999999999999")
    assert r.status == 200 and r.json()["QueryResponse"]["maxResults"] <= 1000


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b'{"Name": "\xe9t\xe9"}',
        b"[" * 50000 + b"]" * 50000,
        b"[1, 2]",
        b'{"Name": "Terms", "DueDays": "soon"}',
        b'{"Name": "Terms", "DiscountPercent": {"a": 1}}',
        b'{"Name": "Terms", "DueDays": 1e999}',
        b'{"Name": "Terms", "DueDays": NaN}',
        b'{"Name": "Terms", "DueDays": 1' + b"0" * 400 + b"}",
        b'{"Name": "Terms", "DueDays": 1' + b"0" * 5000 + b"}",
        b'{"Name": "Terms", "DayOfMonthDue": 45}',
    ],
)
def test_hostile_bodies_are_faults(local, body):
    local.call("POST", "term", body, headers={"Content-Type": "application/json"}).fault()


def test_hostile_numbers_in_items_and_tax_codes_are_faults(local):
    local.post("item", {"Name": "Huge price", "Type": "Service", "UnitPrice": 10**400}).fault()
    detail = {"TaxRateName": "Bad rate", "RateValue": "lots", "TaxAgencyId": "1"}
    local.post("taxservice/taxcode", {"TaxCode": "Hostile", "TaxRateDetails": [detail]}).fault()
    local.post("taxservice/taxcode", {"TaxCode": "Hostile", "TaxRateDetails": ["junk"]}).fault()


def test_hostile_batch_and_invoice_bodies_are_faults(local):
    items = [{"bId": "1", "Query": 42}, "junk", {"bId": "3", "operation": 5, "Class": {"Name": "B"}}]
    out = local.ok(local.post("batch", {"BatchItemRequest": items}))
    assert all("Fault" in item for item in out["BatchItemResponse"])
    bad = {"CustomerRef": {"value": "1"}, "Line": [{"DetailType": "SalesItemLineDetail", "Amount": "lots"}]}
    local.post("invoice", bad).fault()
    local.post("invoice", {"CustomerRef": "1", "Line": "x"}).fault()


def test_oversized_and_broken_lengths_are_refused_without_reading(emu, local):
    sock = socket.create_connection(("127.0.0.1", urlsplit(local.base).port), timeout=5)
    try:
        head = (
            f"POST /v3/company/{local.realm}/term HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {local.token}\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n"
        )
        sock.sendall(head.encode() + b"{")
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:  # the unread rest makes some kernels reset rather than close
            pass
        reply = b"".join(chunks).decode("latin-1")
        assert reply.startswith("HTTP/1.1 413"), reply[:200]
        assert '"Fault"' in reply
    finally:
        sock.close()
    for length in ("-5", "abc"):
        r = local.call("POST", "term", None, headers={"Content-Length": length})
        assert r.status == 400 and r.json()["Fault"]["Error"][0]["code"]
    refused = [e["status"] for e in emu.request_log if e["path"].endswith("/term") and e["status"] >= 400]
    assert {413, 400} <= set(refused)  # refused requests are logged and counted too


def test_a_stalled_request_frees_its_thread(fresh):
    fresh.socket_timeout = 0.3
    sock = socket.create_connection(("127.0.0.1", fresh.port), timeout=5)
    try:
        sock.sendall(
            f"POST /v3/company/{fresh.realm_id}/term HTTP/1.1\r\nContent-Length: 100\r\n\r\n{{".encode()
        )
        start = time.monotonic()
        assert sock.recv(1024) == b""  # the server gave up on us and closed the socket
        assert time.monotonic() - start < 3
    finally:
        sock.close()
    assert (
        Api(fresh.base_url, fresh.realm_id, fresh.issue_tokens()["access_token"]).get("account/1").status
        == 200
    )


def test_hostile_oauth_requests_are_refused_cleanly(emu):
    garbage = "Basic " + "\u00ff" * 10
    r = token_call(emu.base_url, {"grant_type": "refresh_token", "refresh_token": "x"}, auth=garbage)
    assert r.status in (400, 401) and "error" in r.json()
    r = request(
        emu.base_url,
        "POST",
        "/oauth2/v1/tokens/bearer",
        b"{" + b'"a":[' * 30000,
        headers={"Authorization": basic(), "Content-Type": "application/json"},
    )
    assert r.status == 400 and r.json()["error"]


# === THROTTLING (last: it leaves the subprocess's window full for a second) === #


def test_over_ten_requests_a_second_is_429_with_xml_3001(api):
    time.sleep(1.1)
    quick = Api(api.base, api.realm, api.token)
    replies = [quick.get("account/1") for _ in range(15)]
    throttled = [r for r in replies if r.status == 429]
    assert throttled and replies[0].status == 200
    body = throttled[0].body.decode()
    assert body.lstrip().startswith("<") and "3001" in body
    assert "xml" in throttled[0].headers["content-type"]
    time.sleep(1.1)
    assert api.get("account/1").status == 200
