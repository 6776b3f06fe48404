"""The QBO emulator behaves like QuickBooks Online where the sync depends on it (see qbo-reference.md)."""

import pytest
import requests

# the same client, redirect and 401 body the black-box conformance suite spells out
from test_emulator_conformance import AUTH_401 as AUTH_FAULT
from test_emulator_conformance import CLIENT_ID, CLIENT_SECRET, REDIRECT, SCOPE
from test_emulator_conformance import authorize as consent

from qbo_emulator import Emulator


class Api:
    """A thin caller for one realm with a fresh bearer token."""

    def __init__(self, emu, realm=None):
        self.emu = emu
        self.realm = realm or emu.realm_id
        self.token = emu.issue_tokens(self.realm)["access_token"]
        self.base = f"{emu.base_url}/v3/company/{self.realm}"
        self.http = requests.Session()

    def headers(self):
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def get(self, path, **params):
        params.setdefault("minorversion", 75)
        return self.http.get(self.base + path, params=params, headers=self.headers(), timeout=10)

    def post(self, path, body, **params):
        params.setdefault("minorversion", 75)
        return self.http.post(self.base + path, params=params, json=body, headers=self.headers(), timeout=10)

    def query(self, stmt):
        r = self.get("/query", query=stmt)
        assert r.status_code == 200, r.text
        return r.json()["QueryResponse"]

    def create(self, entity, body):
        r = self.post(f"/{entity.lower()}", body)
        assert r.status_code == 200, r.text
        return r.json()[entity]

    def fault(self, response, status=400):
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"Fault", "time"}
        return body["Fault"]["Error"][0]


@pytest.fixture
def emu():
    emu = Emulator(seed="demo", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limits=False).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def api(emu):
    return Api(emu)


def token_call(emu, data, auth=(CLIENT_ID, CLIENT_SECRET)):
    return requests.post(emu.base_url + "/oauth2/v1/tokens/bearer", data=data, auth=auth, timeout=10)


# === OAUTH === #


def test_code_flow_gives_intuit_shaped_tokens_and_code_is_single_use(emu):
    cb = consent(emu.base_url)
    assert cb["state"] == "st-42" and cb["realmId"] == emu.realm_id and cb["code"]
    r = token_call(emu, {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT})
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 3600
    assert tok["x_refresh_token_expires_in"] == 8726400 and tok["x_refresh_token_hard_expires_in"] > 8726400
    assert tok["access_token"] and tok["refresh_token"]
    again = token_call(
        emu, {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT}
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_code_is_bound_to_redirect_uri_and_expires_after_ten_minutes(emu):
    cb = consent(emu.base_url)
    r = token_call(
        emu, {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT + "x"}
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    cb = consent(emu.base_url)
    emu.clock.advance(601)
    r = token_call(emu, {"grant_type": "authorization_code", "code": cb["code"], "redirect_uri": REDIRECT})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_refresh_rotates_and_the_spent_refresh_token_is_invalid_grant(emu):
    first = emu.issue_tokens()
    r = token_call(emu, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    spent = token_call(emu, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert spent.status_code == 400 and spent.json()["error"] == "invalid_grant"
    assert token_call(emu, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}).ok


def test_wrong_client_secret_is_invalid_client(emu):
    first = emu.issue_tokens()
    r = token_call(
        emu,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(CLIENT_ID, "nope"),
    )
    assert r.status_code == 401 and r.json() == {"error": "invalid_client"}


def test_revoke_kills_the_whole_token_family(emu):
    tok = emu.issue_tokens()
    api = Api(emu)
    api.token = tok["access_token"]
    assert api.get("/account/1").status_code == 200
    r = requests.post(
        emu.base_url + "/oauth2/v1/tokens/revoke",
        json={"token": tok["refresh_token"]},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert r.status_code == 200
    assert api.get("/account/1").json() == AUTH_FAULT
    r = token_call(emu, {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_denied_consent_and_unknown_client(emu):
    emu.deny_consent = True
    cb = consent(emu.base_url)
    assert cb == {"error": "access_denied", "state": "st-42"}
    emu.deny_consent = False
    assert consent(emu.base_url, simulate="deny")["error"] == "access_denied"
    params = {"client_id": "someone-else", "redirect_uri": REDIRECT, "response_type": "code", "scope": SCOPE}
    r = requests.get(emu.base_url + "/oauth2/authorize", params=params, allow_redirects=False, timeout=10)
    assert r.status_code == 400


def test_consent_picks_the_chosen_company(emu):
    second = emu.add_company(seed="empty", name="Second Co")
    emu.consent_realm = second
    assert consent(emu.base_url)["realmId"] == second


# === AUTH ON THE API === #


def test_api_answers_401_with_intuit_body_for_missing_bad_expired_and_foreign_tokens(emu, api):
    assert api.get("/account/1").status_code == 200
    plain = requests.get(api.base + "/account/1", timeout=10)
    assert plain.status_code == 401 and plain.json() == AUTH_FAULT
    bad = requests.get(api.base + "/account/1", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert bad.status_code == 401 and bad.json() == AUTH_FAULT
    other = emu.add_company(seed="empty")
    foreign = Api(emu, other)
    foreign.base = api.base
    assert foreign.get("/account/1").status_code == 401
    emu.clock.advance(3600)
    r = api.get("/account/1")
    assert r.status_code == 401 and r.json() == AUTH_FAULT


def test_access_token_ttl_is_configurable():
    emu = Emulator(
        seed="empty", client_id="a", client_secret="b", access_token_ttl=60, rate_limits=False
    ).start()
    try:
        api = Api(emu)
        assert emu.issue_tokens()["expires_in"] == 60
        emu.clock.advance(59)
        assert api.get("/companyinfo/" + emu.realm_id).status_code == 200
        emu.clock.advance(2)
        assert api.get("/companyinfo/" + emu.realm_id).status_code == 401
    finally:
        emu.stop()


def test_retired_minor_version_is_served_as_75(api):
    # Intuit, 2025-01-21: a minorversion below 75 "will be ignored" and the reply is minor version 75
    assert api.get("/account/1", minorversion=65).json()["Account"]["Id"] == "1"
    assert api.get("/account/1", minorversion=75).status_code == 200
    r = requests.get(api.base + "/account/1", headers=api.headers(), timeout=10)  # absent = 75
    assert r.status_code == 200


# === QUERY === #


def test_query_pages_with_startposition_and_maxresults(api):
    total = api.query("select count(*) from Account")["totalCount"]
    assert total > 50
    ids = []
    start = 1
    while True:
        resp = api.query(f"SELECT * FROM Account ORDERBY Id STARTPOSITION {start} MAXRESULTS 20")
        if "Account" not in resp:
            assert resp == {}
            break
        assert resp["startPosition"] == start and resp["maxResults"] == len(resp["Account"])
        ids += [a["Id"] for a in resp["Account"]]
        start += 20
    assert len(ids) == len(set(ids)) == total
    last = api.query(f"select * from Account startposition {total} maxresults 20")
    assert last["maxResults"] == 1
    assert api.query("select * from Account")["maxResults"] == min(total, 100)


def test_maxresults_over_1000_is_clamped():
    emu = Emulator(seed="demo", seed_scale=20, client_id="a", client_secret="b", rate_limits=False).start()
    try:
        api = Api(emu)
        assert api.query("select count(*) from Account")["totalCount"] > 1000
        assert len(api.query("select * from Account maxresults 5000")["Account"]) == 1000
    finally:
        emu.stop()


def test_query_operators_like_in_orderby_and_dotted_fields(api):
    names = [
        a["Name"] for a in api.query("select * from Account where Name like 'Bus%' orderby Name")["Account"]
    ]
    assert names == ["Business Checking"]
    subs = api.query("select * from Account where FullyQualifiedName LIKE 'Business Checking:%'")["Account"]
    assert {a["Name"] for a in subs} == {"Operating", "Payroll"}
    got = api.query("select * from Term where Name in ('Net 15', 'Net 30', 'Nope')")["Term"]
    assert sorted(t["Name"] for t in got) == ["Net 15", "Net 30"]
    desc = api.query("select * from Customer orderby DisplayName desc maxresults 3")["Customer"]
    assert [c["DisplayName"] for c in desc] == sorted((c["DisplayName"] for c in desc), reverse=True)
    quoted = api.query("select * from Customer where DisplayName = 'Amy\\'s Bird Sanctuary'")["Customer"]
    assert len(quoted) == 1
    r = api.http.post(
        api.base + "/query",
        data="Select Count(*) From Vendor Where Active = true",
        headers=dict(api.headers(), **{"Content-Type": "application/text"}),
        timeout=10,
    )
    assert r.json()["QueryResponse"]["totalCount"] == 22
    recent = api.query("select * from Account where MetaData.LastUpdatedTime > '2000-01-01T00:00:00Z'")
    assert recent["maxResults"] > 0
    none = api.query("select * from Account where MetaData.LastUpdatedTime > '2999-01-01T00:00:00-07:00'")
    assert none == {}
    assert api.query("select * from Invoice where CustomerRef = '1'") is not None


def test_inactive_list_records_only_when_asked(api):
    active = api.query("select count(*) from Customer")["totalCount"]
    both = api.query("select count(*) from Customer where Active in (true, false)")["totalCount"]
    inactive = api.query("select * from Customer where Active = false")["Customer"]
    assert both == active + len(inactive) and len(inactive) == 2
    assert all(c["Active"] is False for c in inactive)


def test_bad_query_is_parser_error_4000(api):
    for stmt in (
        "select * from",
        "select * from Account where Name ~ 'x'",
        "select * from Nope",
        "select * from Account where Name = 'x' or Name = 'y'",
        "delete from Account",
    ):
        err = api.fault(api.get("/query", query=stmt))
        assert err["code"] == "4000" and "QueryParserError" in err["Detail"], stmt


def test_company_info_and_preferences_are_readable_and_queryable(api):
    info = api.get(f"/companyinfo/{api.realm}").json()["CompanyInfo"]
    assert info["CompanyName"] and info["Country"] == "US"
    prefs = api.get("/preferences").json()["Preferences"]
    assert prefs["AccountingInfoPrefs"]["TrackDepartments"] is True
    assert api.query("select * from CompanyInfo")["CompanyInfo"][0]["Id"] == info["Id"]
    assert api.query("select * from Preferences")["maxResults"] == 1


# === WRITES AND FAULTS === #


def test_create_computes_server_fields(api):
    parent = api.query("select * from Account where Name = 'Business Checking'")["Account"][0]
    acc = api.create(
        "Account", {"Name": "Reserve", "AccountType": "Bank", "ParentRef": {"value": parent["Id"]}}
    )
    assert acc["SyncToken"] == "0" and int(acc["Id"]) > int(parent["Id"])
    assert acc["FullyQualifiedName"] == "Business Checking:Reserve" and acc["SubAccount"] is True
    assert acc["Classification"] == "Asset" and acc["CurrentBalance"] == 0
    assert acc["MetaData"]["CreateTime"][-6] in "+-"
    term = api.create("Term", {"Name": "Due 10th", "DayOfMonthDue": 10})
    assert term["Type"] == "DateDriven"
    cls = api.create("Class", {"Name": "Solar", "ParentRef": {"value": "1"}})
    assert cls["SubClass"] is True and cls["FullyQualifiedName"].endswith(":Solar")


def test_update_needs_current_synctoken_else_5010(api):
    term = api.create("Term", {"Name": "Net 45", "DueDays": 45})
    r = api.post("/term", {"Id": term["Id"], "SyncToken": "0", "sparse": True, "DueDays": 40})
    assert r.status_code == 200 and r.json()["Term"]["SyncToken"] == "1"
    assert r.json()["Term"]["Name"] == "Net 45"  # sparse keeps what was not sent
    err = api.fault(api.post("/term", {"Id": term["Id"], "SyncToken": "0", "sparse": True, "DueDays": 20}))
    assert err["code"] == "5010"
    full = api.post("/term", {"Id": term["Id"], "SyncToken": "1", "Name": "Net 44", "DueDays": 44}).json()[
        "Term"
    ]
    assert full["SyncToken"] == "2" and full["Name"] == "Net 44"


def test_display_name_is_unique_across_customers_and_vendors_6240(api):
    vendor = api.query("select * from Vendor where DisplayName = 'Hicks Hardware'")["Vendor"][0]
    err = api.fault(api.post("/customer", {"DisplayName": "hicks  hardware"}))
    assert err["code"] == "6240" and err["Message"] == "Duplicate Name Exists Error"
    assert api.fault(api.post("/term", {"Name": "net 30"}))["code"] == "6240"
    # same leaf name under another parent is fine for accounts
    api.create("Account", {"Name": "Fuel", "AccountType": "Expense"})
    assert api.fault(api.post("/account", {"Name": "Fuel", "AccountType": "Expense"}))["code"] == "6240"
    assert vendor["Active"] is True


def test_bad_reference_is_2500_and_unknown_id_is_610(api):
    err = api.fault(
        api.post("/account", {"Name": "Child", "AccountType": "Bank", "ParentRef": {"value": "9999"}})
    )
    assert err["code"] == "2500" and err["Message"] == "Invalid Reference Id"
    err = api.fault(
        api.post(
            "/invoice",
            {
                "CustomerRef": {"value": "1"},
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": 10,
                        "SalesItemLineDetail": {"ItemRef": {"value": "999"}},
                    }
                ],
            },
        )
    )
    assert err["code"] == "2500"
    assert api.fault(api.get("/customer/99999"))["code"] == "610"
    assert (
        api.fault(api.post("/customer", {"Id": "99999", "SyncToken": "0", "DisplayName": "X"}))["code"]
        == "610"
    )


def test_missing_required_fields_2020_and_inventory_rules_6000(api):
    assert api.fault(api.post("/account", {"AccountType": "Bank"}))["code"] == "2020"
    assert api.fault(api.post("/account", {"Name": "No type"}))["code"] == "2020"
    assert api.fault(api.post("/customer", {"Notes": "nameless"}))["code"] == "2020"
    assert (
        api.create("Customer", {"GivenName": "Ada", "FamilyName": "Lovelace"})["DisplayName"]
        == "Ada Lovelace"
    )
    assert api.fault(api.post("/invoice", {"CustomerRef": {"value": "1"}}))["code"] == "2020"
    assert api.fault(api.post("/invoice", {"Line": []}))["code"] == "2020"
    assert api.fault(api.post("/payment", {"CustomerRef": {"value": "1"}}))["code"] == "2020"
    err = api.fault(
        api.post("/item", {"Name": "Widget", "Type": "Inventory", "IncomeAccountRef": {"value": "7"}})
    )
    assert err["code"] == "6000"


def test_list_records_are_deactivated_not_deleted(api):
    cls = api.create("Class", {"Name": "Temp"})
    err = api.fault(api.post("/class", {"Id": cls["Id"], "SyncToken": cls["SyncToken"]}, operation="delete"))
    assert err["code"] == "6000"
    r = api.post("/class", {"Id": cls["Id"], "SyncToken": cls["SyncToken"], "sparse": True, "Active": False})
    assert r.json()["Class"]["Active"] is False
    assert api.query(f"select * from Class where Id = '{cls['Id']}'") == {}


def test_tax_codes_are_read_only_except_through_the_tax_service(api):
    assert api.post("/taxcode", {"Name": "Mine"}).status_code == 400
    codes = api.query("select * from TaxCode")["TaxCode"]
    combined = next(c for c in codes if c["Name"] == "Combined: State + City")
    assert len(combined["SalesTaxRateList"]["TaxRateDetail"]) == 2
    assert {"TAX", "NON"} <= {c["Id"] for c in codes}
    agency = api.query("select * from TaxAgency")["TaxAgency"][0]
    r = api.post(
        "/taxservice/taxcode",
        {
            "TaxCode": "Oakland",
            "TaxRateDetails": [
                {
                    "TaxRateName": "Oakland City",
                    "RateValue": "1.5",
                    "TaxAgencyId": agency["Id"],
                    "TaxApplicableOn": "Sales",
                }
            ],
        },
    )
    assert r.status_code == 200, r.text
    assert api.get(f"/taxcode/{r.json()['TaxCodeId']}").json()["TaxCode"]["Name"] == "Oakland"


def test_invoice_totals_and_payments_reduce_the_balance(api):
    item = api.query("select * from Item where Name = 'Hourly Labor'")["Item"][0]
    inv = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": "3"},
            "SalesTermRef": {"value": "3"},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 190,
                    "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 2, "UnitPrice": 95},
                },
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 10.5,
                    "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 10.5},
                },
            ],
        },
    )
    assert inv["TotalAmt"] == 200.5 and inv["Balance"] == 200.5 and inv["DocNumber"]
    pay = api.create(
        "Payment",
        {
            "CustomerRef": {"value": "3"},
            "TotalAmt": 250,
            "Line": [{"Amount": 150, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert pay["UnappliedAmt"] == 100
    after = api.get(f"/invoice/{inv['Id']}").json()["Invoice"]
    assert after["Balance"] == 50.5 and after["SyncToken"] == "1"
    assert {"TxnId": pay["Id"], "TxnType": "Payment"} in after["LinkedTxn"]
    too_much = api.post(
        "/payment",
        {
            "CustomerRef": {"value": "3"},
            "TotalAmt": 60,
            "Line": [{"Amount": 60, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert api.fault(too_much)["code"] == "6000"
    r = api.post("/payment", {"Id": pay["Id"], "SyncToken": pay["SyncToken"]}, operation="delete")
    assert r.json()["Payment"]["status"] == "Deleted"
    assert api.get(f"/invoice/{inv['Id']}").json()["Invoice"]["Balance"] == 200.5


# === BATCH, CDC, REQUESTID === #


def test_batch_answers_each_item_and_faults_only_the_bad_one(api):
    body = {
        "BatchItemRequest": [
            {"bId": "1", "operation": "create", "Class": {"Name": "Batch A"}},
            {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Hicks Hardware"}},
            {"bId": "3", "Query": "select * from Term where Name = 'Net 30'"},
        ]
    }
    r = api.post("/batch", body)
    assert r.status_code == 200, r.text
    items = {i["bId"]: i for i in r.json()["BatchItemResponse"]}
    assert items["1"]["Class"]["Name"] == "Batch A"
    assert items["2"]["Fault"]["Error"][0]["code"] == "6240"
    assert items["3"]["QueryResponse"]["Term"][0]["Name"] == "Net 30"
    too_many = {
        "BatchItemRequest": [
            {"bId": str(i), "operation": "create", "Class": {"Name": f"C{i}"}} for i in range(31)
        ]
    }
    r = api.post("/batch", too_many)
    assert r.status_code == 400 and "Fault" in r.json()
    assert api.query("select count(*) from Class where Name = 'C0'")["totalCount"] == 0


def test_cdc_returns_changes_and_deletions_since_a_time(emu, api):
    since = emu.clock.now().isoformat()
    emu.clock.advance(1)
    cls = api.create("Class", {"Name": "CDC class"})
    inv = api.query("select * from Invoice maxresults 1")["Invoice"][0]
    api.post("/invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="delete")
    r = api.get("/cdc", entities="Class,Invoice,Account", changedSince=since)
    assert r.status_code == 200, r.text
    groups = r.json()["CDCResponse"][0]["QueryResponse"]
    assert len(groups) == 3
    assert [c["Id"] for c in groups[0]["Class"]] == [cls["Id"]]
    deleted = groups[1]["Invoice"][0]
    assert deleted["Id"] == inv["Id"] and deleted["status"] == "Deleted" and "MetaData" in deleted
    assert "Account" not in groups[2]


def test_cdc_refuses_more_than_30_days_and_tax_entities(emu, api):
    old = emu.clock.now().timestamp() - 31 * 86400
    from datetime import datetime, timezone

    since = datetime.fromtimestamp(old, timezone.utc).isoformat()
    assert api.get("/cdc", entities="Account", changedSince=since).status_code == 400
    recent = emu.clock.now().isoformat()
    assert api.get("/cdc", entities="TaxCode", changedSince=recent).status_code == 400
    assert api.get("/cdc", entities="Account", changedSince=recent).status_code == 200


def test_repeated_requestid_replays_the_first_reply_even_after_a_lost_answer(emu, api):
    before = api.query("select count(*) from Customer")["totalCount"]
    emu.inject("drop", path_contains="/customer")
    with pytest.raises(requests.ConnectionError):
        api.post("/customer", {"DisplayName": "Lost Reply Ltd"}, requestid="rq-1")
    assert api.query("select count(*) from Customer")["totalCount"] == before + 1
    again = api.post("/customer", {"DisplayName": "Lost Reply Ltd"}, requestid="rq-1")
    assert again.status_code == 200 and again.json()["Customer"]["DisplayName"] == "Lost Reply Ltd"
    assert api.query("select count(*) from Customer")["totalCount"] == before + 1


# === LIMITS AND INJECTED FAILURES === #


def test_eleventh_request_in_a_second_is_throttled_with_xml(emu, api):
    emu.rate_limits = True
    statuses = [api.get("/account/1") for _ in range(11)]
    assert [r.status_code for r in statuses[:10]] == [200] * 10
    throttled = statuses[10]
    assert throttled.status_code == 429 and throttled.headers["Content-Type"].startswith("text/xml")
    assert 'code="3001"' in throttled.text and "ThrottleExceeded" in throttled.text
    emu.clock.advance(1.5)
    assert api.get("/account/1").status_code == 200


def test_injected_failures_look_like_intuit_outages(emu, api):
    emu.inject("500")
    r = api.get("/account/1")
    assert r.status_code == 500 and r.json()["Fault"]["type"] == "SystemFault"
    emu.inject("503")
    assert api.get("/account/1").status_code == 503
    emu.inject("nonjson")
    r = api.get("/account/1")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    emu.inject("401", path_contains="/query")
    assert api.get("/account/1").status_code == 200
    assert api.get("/query", query="select * from Term").status_code == 401
    emu.inject("429", count=2)
    assert [api.get("/account/1").status_code for _ in range(3)] == [429, 429, 200]
    emu.slow_seconds = 0.2
    emu.inject("slow")
    assert api.get("/account/1").status_code == 200


def test_request_log_and_counters(emu, api):
    emu.reset_log()
    api.query("select * from Term")
    api.create("Class", {"Name": "Counted"})
    assert emu.counters["GET query"] == 1 and emu.counters["POST class"] == 1
    assert emu.request_log[0]["entity"] == "Term" and emu.request_log[1]["status"] == 200


# === SEEDS === #


def test_demo_seed_is_a_believable_small_company(emu):
    realm = emu.realm_id
    accounts = emu.store.all(realm, "Account")
    assert 55 <= len(accounts) <= 75
    assert len({a["AccountType"] for a in accounts}) == 15
    by_name = {a["FullyQualifiedName"]: a for a in accounts}
    assert by_name["Undeposited Funds"]["AccountSubType"] == "UndepositedFunds"
    assert by_name["Retained Earnings"]["AccountSubType"] == "RetainedEarnings"
    assert "Business Checking:Operating" in by_name and "Opening Balance Equity" in by_name
    with_num = [a for a in accounts if a.get("AcctNum")]
    assert 0 < len(with_num) < len(accounts)
    terms = {t["Name"]: t for t in emu.store.all(realm, "Term")}
    assert terms["Due 15th of next month"]["Type"] == "DateDriven"
    assert terms["2% 10 Net 30"]["DiscountPercent"] == 2
    assert {"Cash", "Check", "Visa", "MasterCard", "American Express"} <= {
        p["Name"] for p in emu.store.all(realm, "PaymentMethod")
    }
    assert {i["Type"] for i in emu.store.all(realm, "Item")} >= {
        "Category",
        "Service",
        "NonInventory",
        "Inventory",
    }
    assert any(i.get("Sku") for i in emu.store.all(realm, "Item"))
    assert len(emu.store.all(realm, "Customer")) >= 20 and len(emu.store.all(realm, "Vendor")) >= 20
    invoices = emu.store.all(realm, "Invoice")
    assert len(invoices) >= 15 and any(i["Balance"] < i["TotalAmt"] for i in invoices)
    assert len(emu.store.all(realm, "Payment")) >= 5
    for entity in ("Account", "Customer", "Vendor", "Class", "Department", "Term", "Item"):
        assert any(o["Active"] is False for o in emu.store.all(realm, entity)), entity
    again = Emulator(seed="demo")
    assert [a["Name"] for a in again.store.all(again.realm_id, "Account")] == [a["Name"] for a in accounts]


def test_empty_seed_has_only_quickbooks_defaults():
    emu = Emulator(seed="empty")
    assert emu.store.all(emu.realm_id, "Customer") == [] and emu.store.all(emu.realm_id, "Invoice") == []
    names = {a["Name"] for a in emu.store.all(emu.realm_id, "Account")}
    assert {"Undeposited Funds", "Retained Earnings", "Opening Balance Equity"} <= names
    assert emu.store.all(emu.realm_id, "CompanyInfo")


def test_seed_scale_multiplies_the_books_with_unique_names():
    emu = Emulator(seed="demo", seed_scale=50)
    realm = emu.realm_id
    accounts = emu.store.all(realm, "Account")
    assert len(accounts) > 2500
    assert len(emu.store.all(realm, "Class")) >= 200 and len(emu.store.all(realm, "Department")) >= 200
    fqns = [a["FullyQualifiedName"].lower() for a in accounts]
    assert len(fqns) == len(set(fqns))
    parties = [
        o["DisplayName"].lower() for e in ("Customer", "Vendor", "Employee") for o in emu.store.all(realm, e)
    ]
    assert len(parties) == len(set(parties)) > 2000


# === MORE EDGES === #


def test_customer_balance_follows_invoices_and_survives_an_update(api):
    cust = api.create("Customer", {"DisplayName": "Balance Keeper"})
    assert cust["Balance"] == 0
    api.create(
        "Invoice",
        {
            "CustomerRef": {"value": cust["Id"]},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 80,
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
    )
    cust = api.get(f"/customer/{cust['Id']}").json()["Customer"]
    assert cust["Balance"] == 80
    r = api.post(
        "/customer", {"Id": cust["Id"], "SyncToken": cust["SyncToken"], "sparse": True, "Notes": "vip"}
    )
    assert r.json()["Customer"]["Balance"] == 80


def test_batch_updates_deletes_and_voids(api):
    inv = api.query("select * from Invoice where Balance > '0' maxresults 2")["Invoice"]
    paid = [i for i in api.query("select * from Invoice maxresults 100")["Invoice"] if i["Balance"] == 0][0]
    term = api.query("select * from Term where Name = 'Net 60'")["Term"][0]
    body = {
        "BatchItemRequest": [
            {
                "bId": "u",
                "operation": "update",
                "Term": {"Id": term["Id"], "SyncToken": term["SyncToken"], "sparse": True, "DueDays": 61},
            },
            {
                "bId": "s",
                "operation": "update",
                "Term": {"Id": term["Id"], "SyncToken": term["SyncToken"], "sparse": True, "DueDays": 62},
            },
            {
                "bId": "d",
                "operation": "delete",
                "Invoice": {"Id": inv[0]["Id"], "SyncToken": inv[0]["SyncToken"]},
            },
            {"bId": "v", "operation": "void", "Invoice": {"Id": paid["Id"], "SyncToken": paid["SyncToken"]}},
        ]
    }
    items = {i["bId"]: i for i in api.post("/batch", body).json()["BatchItemResponse"]}
    assert items["u"]["Term"]["DueDays"] == 61
    assert items["s"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["d"]["Invoice"]["status"] == "Deleted"
    assert items["v"]["Fault"]["Error"][0]["code"] == "6000"  # it has a payment applied
    assert api.fault(api.get(f"/invoice/{inv[0]['Id']}"))["code"] == "610"


def test_cdc_lists_at_most_1000_objects_oldest_first(emu, api):
    since = emu.clock.now().isoformat()
    emu.clock.advance(1)
    for i in range(1005):
        emu.store.create(emu.realm_id, "Class", {"Name": f"Bulk {i:04d}"})
        if i == 0:
            emu.clock.advance(1)
    groups = api.get("/cdc", entities="Class", changedSince=since).json()["CDCResponse"][0]["QueryResponse"]
    rows = groups[0]["Class"]
    assert len(rows) == 1000 and rows[0]["Name"] == "Bulk 0000"


def test_five_hundred_requests_a_minute_are_allowed_then_throttled(emu, api):
    emu.rate_limits = True
    for i in range(500):
        if i and i % 10 == 0:
            emu.clock.advance(1.01)
        assert api.get("/account/1").status_code == 200, i
    emu.clock.advance(1.01)
    assert api.get("/account/1").status_code == 429
    emu.clock.advance(60)
    assert api.get("/account/1").status_code == 200


def test_command_line_starts_a_server(tmp_path):
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qbo_emulator",
            "--port",
            "0",
            "--seed",
            "empty",
            "--client-id",
            "cli",
            "--client-secret",
            "sec",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        base = line.split()[3]
        assert base.startswith("http://127.0.0.1:")
        assert requests.get(base + "/", timeout=5).json()["emulator"] == "QuickBooks Online"
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_refresh_token_lapses_after_100_idle_days(emu):
    tok = emu.issue_tokens()
    emu.clock.advance(8726400 + 1)
    r = token_call(emu, {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_customers_filter_by_email(api):
    got = api.query("select * from Customer where PrimaryEmailAddr = 'amysbirdsanctuary@example.com'")
    assert [c["DisplayName"] for c in got["Customer"]] == ["Amy's Bird Sanctuary"]


def test_full_update_replaces_and_renaming_a_parent_renames_its_children(api):
    parent = api.query("select * from Account where Name = 'Business Checking'")["Account"][0]
    full = {k: v for k, v in parent.items() if k in ("Id", "SyncToken", "AccountType", "AcctNum")}
    renamed = api.post("/account", dict(full, Name="Main Checking")).json()["Account"]
    assert renamed["FullyQualifiedName"] == "Main Checking" and "AccountSubType" in renamed
    kids = api.query("select * from Account where FullyQualifiedName like 'Main Checking:%'")["Account"]
    assert {k["Name"] for k in kids} == {"Operating", "Payroll"}
    assert all(k["ParentRef"]["value"] == parent["Id"] for k in kids)
    cust = api.create("Customer", {"DisplayName": "Notes Co", "Notes": "keep?"})
    replaced = api.post(
        "/customer", {"Id": cust["Id"], "SyncToken": cust["SyncToken"], "DisplayName": "Notes Co"}
    )
    assert "Notes" not in replaced.json()["Customer"]


def test_void_zeroes_an_unpaid_invoice(api):
    inv = api.create(
        "Invoice",
        {
            "CustomerRef": {"value": "2"},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 42,
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
    )
    r = api.post("/invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="void")
    voided = r.json()["Invoice"]
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["SyncToken"] == "1"


def test_requestid_is_remembered_per_company(emu, api):
    other = Api(emu, emu.add_company(seed="empty"))
    first = api.post("/class", {"Name": "Per Realm"}, requestid="same-id").json()["Class"]
    second = other.post("/class", {"Name": "Per Realm"}, requestid="same-id").json()["Class"]
    assert api.query("select count(*) from Class where Name = 'Per Realm'")["totalCount"] == 1
    assert other.query("select count(*) from Class where Name = 'Per Realm'")["totalCount"] == 1
    assert first["Name"] == second["Name"]
    replay = api.post("/class", {"Name": "Something else"}, requestid="same-id").json()["Class"]
    assert replay == first
