"""The emulator's customers, vendors and employees behave as QBO's (qbo-reference.md, "Customers and
vendors").

Raw HTTP for the rules and the faults; python-quickbooks' object API (built as qbo-reference.md
says: no auth_client, a requests-oauthlib session with the emulator's token, the API URL pointed
at the emulator, plain http allowed only inside these tests) where a client would use it.
"""

import json
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from quickbooks.batch import batch_create
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.base import Address, EmailAddress
from quickbooks.objects.customer import Customer
from quickbooks.objects.vendor import Vendor

from qbo_emulator import Emulator, Fault

DUPLICATE_DETAIL = (
    "The name supplied already exists. : Another customer, vendor or employee is already using this "
    "name. Please use a different name."
)


def named(emu, entity, name):
    return next(o for o in emu.store.all(emu.realm_id, entity) if o["DisplayName"] == name)


def ref(emu, entity, name):
    field = "DisplayName" if entity in ("Customer", "Vendor", "Employee") else "Name"
    obj = next(o for o in emu.store.all(emu.realm_id, entity) if o[field] == name)
    return {"value": obj["Id"]}


def line(amount, item_id="1"):
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "SalesItemLineDetail": {"ItemRef": {"value": item_id}},
    }


def account_balance(emu, subtype):
    acc = next(a for a in emu.store.all(emu.realm_id, "Account") if a["AccountSubType"] == subtype)
    return acc["CurrentBalance"]


# === THE DEMO COMPANY === #


def test_demo_customers_vendors_and_employees(emu):
    customers = emu.store.all(emu.realm_id, "Customer")
    vendors = emu.store.all(emu.realm_id, "Vendor")
    employees = emu.store.all(emu.realm_id, "Employee")
    assert (len(customers), len(vendors), len(employees)) == (29, 24, 4)
    assert {c["DisplayName"] for c in customers if not c["Active"]} == {
        "Dukes Basketball Camp",
        "Red Rock Diner",
    }
    assert {v["DisplayName"] for v in vendors if not v["Active"]} == {"Fidelity", "Squeaky Kleen Car Wash"}
    jobs = {c["FullyQualifiedName"]: (c["Level"], c["BillWithParent"]) for c in customers if c["Job"]}
    assert jobs == {
        "Weiskopf Consulting:Remodel Phase 2": (1, True),
        "Weiskopf Consulting:Remodel Phase 2:Kitchen Cabinets": (2, True),
        "Pye's Cakes:Bakery Expansion": (1, False),
    }
    assert all(c["Level"] == 0 and c["BillWithParent"] is False for c in customers if not c["Job"])
    assert Counter(c["BillAddr"]["CountrySubDivisionCode"] for c in customers if "BillAddr" in c) == {
        "CA": 25,
        "AZ": 1,
    }
    cool = named(emu, "Customer", "Cool Cars")
    assert cool["ShipAddr"] != cool["BillAddr"] and cool["ShipAddr"]["PostalCode"] == "94019"
    store = named(emu, "Customer", "Sonnenschein Family Store")
    assert (store["TaxExemptionReasonId"], store["ResaleNum"], store["Taxable"]) == (9, "SR-2048-77", False)
    assert all(c["CurrencyRef"] == {"value": "USD", "name": "United States Dollar"} for c in customers)
    assert {v["DisplayName"]: v["TaxIdentifier"] for v in vendors if v["Vendor1099"]} == {
        "Pam Seitz": "XXX-XX-7830",
        "Robertson & Associates": "XX-XXX2650",
    }
    pam = named(emu, "Vendor", "Pam Seitz")
    assert emu.store.tax_identifier(emu.realm_id, pam["Id"]) == "521-44-7830"
    assert named(emu, "Vendor", "Hicks Hardware")["AcctNum"] == "HH-20931"
    assert [(e["DisplayName"], e["Active"]) for e in employees] == [
        ("Emily Platt", True),
        ("John Johnson", True),
        ("Maria Garcia", True),
        ("Kevin Doyle", False),
    ]
    # the demo invoices go to top-level customers only, and some of them owe money
    assert {i["CustomerRef"]["value"] for i in emu.store.all(emu.realm_id, "Invoice")} <= {
        c["Id"] for c in customers if not c["Job"] and c["Active"]
    }
    assert named(emu, "Customer", "Cool Cars")["Balance"] > 0


def test_seed_scale_multiplies_parties_with_suffixes():
    emu = Emulator(seed="demo", seed_scale=3)
    realm = emu.realm_id
    employees = [e["DisplayName"] for e in emu.store.all(realm, "Employee")]
    assert len(employees) == 12 and "Maria Garcia (003)" in employees
    kitchen = named(emu, "Customer", "Kitchen Cabinets (002)")
    assert kitchen["FullyQualifiedName"] == (
        "Weiskopf Consulting (002):Remodel Phase 2 (002):Kitchen Cabinets (002)"
    )
    assert kitchen["Level"] == 2 and len(emu.store.all(realm, "Customer")) == 3 * 29
    assert sum(v["Vendor1099"] for v in emu.store.all(realm, "Vendor")) == 6
    names = [
        n.lower()
        for e in ("Customer", "Vendor", "Employee")
        for n in (o["DisplayName"] for o in emu.store.all(realm, e))
    ]
    assert len(names) == len(set(names))


# === DISPLAY NAMES === #


def test_display_name_is_unique_across_customers_vendors_and_employees_inactive_ones_too(api, emu):
    for entity, taken in (
        ("Customer", "Maria Garcia"),  # an active employee
        ("Customer", "kevin   DOYLE"),  # an inactive employee, other case and spaces
        ("Vendor", "Red Rock Diner"),  # an inactive customer
        ("Employee", "hicks hardware"),  # a vendor
        ("Vendor", "Kitchen Cabinets"),  # a sub-customer
        ("Customer", "Fidelity"),  # an inactive vendor
    ):
        err = api.fault(api.post(f"/{entity.lower()}", {"DisplayName": taken}))
        assert (err["code"], err["Message"], err["element"]) == (
            "6240",
            "Duplicate Name Exists Error",
            "DisplayName",
        )
        assert err["Detail"].startswith(DUPLICATE_DETAIL), err["Detail"]
    # a name put together from its parts collides just the same
    err = api.fault(api.post("/customer", {"GivenName": "Maria", "FamilyName": "Garcia"}))
    assert err["code"] == "6240"
    # the Detail ends with the Id of the record holding the name (see README, Choices)
    assert err["Detail"] == f"{DUPLICATE_DETAIL} Id={named(emu, 'Employee', 'Maria Garcia')['Id']}"
    # renaming onto a taken name is refused and changes nothing
    vendor = named(emu, "Vendor", "Pam Seitz")
    assert api.fault(api.sparse("Vendor", vendor, DisplayName="Emily  Platt"))["code"] == "6240"
    assert api.read("Vendor", vendor["Id"])["DisplayName"] == "Pam Seitz"
    # the one record may keep (or re-case) its own name
    renamed = api.ok(api.sparse("Vendor", vendor, DisplayName="PAM SEITZ"))["Vendor"]
    assert renamed["DisplayName"] == "PAM SEITZ"


def test_display_name_length_and_forbidden_characters(api):
    longest = "N" * 500
    assert api.create("Customer", {"DisplayName": longest})["DisplayName"] == longest
    err = api.fault(api.post("/customer", {"DisplayName": "M" * 501}))
    assert (err["code"], err["element"]) == ("2050", "DisplayName")
    for bad in ("Acme: West", "Acme\tWest", "Acme\nWest", "Acme\r\nWest"):
        err = api.fault(api.post("/vendor", {"DisplayName": bad}))
        assert (err["code"], err["element"]) == ("6000", "DisplayName"), bad
    assert api.fault(api.post("/employee", {"GivenName": "Ann", "DisplayName": "Ann:Lee"}))["code"] == "6000"
    assert api.fault(api.post("/customer", {"DisplayName": 42}))["code"] == "2010"
    # runs of spaces collapse
    assert api.create("Customer", {"DisplayName": "  Spaced   Out  Inc "})["DisplayName"] == "Spaced Out Inc"


def test_display_name_defaults_from_the_name_parts_or_the_company(api):
    person = api.create(
        "Customer",
        {"Title": "Dr.", "GivenName": "Ada", "MiddleName": "B.", "FamilyName": "Lovelace", "Suffix": "Jr."},
    )
    assert person["DisplayName"] == "Dr. Ada B. Lovelace Jr."
    assert person["PrintOnCheckName"] == "Dr. Ada B. Lovelace Jr."
    company = api.create("Vendor", {"CompanyName": "Gridline  Electric"})
    assert company["DisplayName"] == "Gridline Electric"
    both = api.create(
        "Customer", {"GivenName": "Lena", "FamilyName": "Ortiz", "CompanyName": "Ortiz Roofing"}
    )
    assert both["DisplayName"] == "Lena Ortiz"
    assert api.fault(api.post("/customer", {"Notes": "no name"}))["code"] == "2020"
    # employees have no company name to fall back on
    assert api.fault(api.post("/employee", {"CompanyName": "Staffing Co"}))["code"] == "2020"


def test_python_quickbooks_lists_saves_and_filters_customers(qb, emu):
    active = {c["Id"] for c in emu.store.all(emu.realm_id, "Customer") if c["Active"]}
    assert sorted(c.Id for c in Customer.all(qb=qb, max_results=1000)) == sorted(active)
    customer = Customer()
    customer.DisplayName = "Harbor View HOA"
    customer.PrimaryEmailAddr = EmailAddress()
    customer.PrimaryEmailAddr.Address = "board@harborview.example"
    customer.BillAddr = Address()
    customer.BillAddr.Line1, customer.BillAddr.City = "9 Quay St.", "Sausalito"
    customer.BillAddr.CountrySubDivisionCode, customer.BillAddr.PostalCode = "CA", "94965"
    saved = customer.save(qb=qb)
    # python-quickbooks sends Balance 0, Level 0, Job false, OpenBalanceDate "": none of them sticks
    assert (saved.Balance, saved.Level, saved.Job, saved.FullyQualifiedName) == (
        0,
        0,
        False,
        "Harbor View HOA",
    )
    assert not saved.OpenBalanceDate
    found = Customer.filter(DisplayName="Harbor View HOA", qb=qb)
    assert [c.Id for c in found] == [saved.Id] and found[0].BillAddr.CountrySubDivisionCode == "CA"
    job = Customer()
    job.DisplayName = "Dock Repairs"
    job.Job = True
    job.ParentRef = saved.to_ref()
    job.BillWithParent = True
    job = job.save(qb=qb)
    assert (job.Job, job.Level, job.BillWithParent) == (True, 1, True)
    assert job.FullyQualifiedName == "Harbor View HOA:Dock Repairs"
    # a read object saved again (a full update) keeps what it was
    again = Customer.get(job.Id, qb=qb)
    again.Notes = "pilings"
    again = again.save(qb=qb)
    assert (again.Job, again.ParentRef.value, again.Level, again.SyncToken) == (True, saved.Id, 1, "1")
    duplicate = Customer()
    duplicate.DisplayName = "maria garcia"
    with pytest.raises(QuickbooksException) as excinfo:
        duplicate.save(qb=qb)
    assert int(excinfo.value.error_code) == 6240
    assert excinfo.value.detail.startswith(DUPLICATE_DETAIL)


# === SUB-CUSTOMERS === #


def test_sub_customers_nest_four_levels_with_read_only_level_and_full_name(api):
    top = api.create("Customer", {"DisplayName": "Oak Estates", "Level": 2, "FullyQualifiedName": "X:Y"})
    assert (top["Level"], top["Job"], top["FullyQualifiedName"], top["BillWithParent"]) == (
        0,
        False,
        "Oak Estates",
        False,
    )
    parent, chain = top, []
    for level, name in enumerate(("Building A", "Unit 4", "Kitchen"), start=1):
        parent = api.create(
            "Customer",
            {"DisplayName": name, "Job": True, "ParentRef": {"value": parent["Id"]}, "BillWithParent": True},
        )
        chain.append(parent)
        assert (parent["Level"], parent["Job"], parent["BillWithParent"]) == (level, True, True)
    assert parent["FullyQualifiedName"] == "Oak Estates:Building A:Unit 4:Kitchen"
    assert parent["ParentRef"] == {"value": chain[1]["Id"], "name": "Oak Estates:Building A:Unit 4"}
    err = api.fault(api.post("/customer", {"DisplayName": "Pantry", "ParentRef": {"value": parent["Id"]}}))
    assert (err["code"], err["element"]) == ("6000", "ParentRef")
    assert "4 levels" in err["Detail"]
    # moving a two-level tree under a level-2 customer would make five levels: refused
    other = api.create("Customer", {"DisplayName": "Pine Court"})
    a = api.create("Customer", {"DisplayName": "Pine A", "ParentRef": {"value": other["Id"]}})
    err = api.fault(api.sparse("Customer", other, ParentRef={"value": chain[1]["Id"]}))
    assert err["code"] == "6000"
    assert api.read("Customer", a["Id"])["Level"] == 1
    # BillWithParent means nothing on a top-level customer; Job true needs a parent
    assert api.create("Customer", {"DisplayName": "Lone", "BillWithParent": True})["BillWithParent"] is False
    err = api.fault(api.post("/customer", {"DisplayName": "Orphan", "Job": True}))
    assert (err["code"], err["element"]) == ("2020", "ParentRef")
    err = api.fault(api.post("/customer", {"DisplayName": "Orphan", "ParentRef": {"value": "99999"}}))
    assert err["code"] == "2500"
    # a customer can't sit below itself
    assert api.fault(api.sparse("Customer", top, ParentRef={"value": chain[0]["Id"]}))["code"] == "6000"


def test_a_sub_customer_moves_by_parent_ref_and_leaves_with_job_false(api, emu):
    lone = api.create("Customer", {"DisplayName": "Solo Project"})
    moved = api.ok(api.sparse("Customer", lone, ParentRef=ref(emu, "Customer", "Weiskopf Consulting")))[
        "Customer"
    ]
    assert (moved["Job"], moved["Level"], moved["FullyQualifiedName"]) == (
        True,
        1,
        "Weiskopf Consulting:Solo Project",
    )
    out = api.ok(api.sparse("Customer", moved, Job=False))["Customer"]
    assert (out["Job"], out["Level"], out["FullyQualifiedName"]) == (False, 0, "Solo Project")
    assert "ParentRef" not in out
    # the same rule for items: a ParentRef alone moves an item into a category
    item = next(i for i in emu.store.all(emu.realm_id, "Item") if i["Name"] == "Maintenance Visit")
    labor = ref(emu, "Item", "Labor")
    body = {"Id": item["Id"], "SyncToken": item["SyncToken"], "sparse": True, "ParentRef": labor}
    moved_item = api.ok(api.post("/item", body))["Item"]
    assert (moved_item["SubItem"], moved_item["FullyQualifiedName"]) == (True, "Labor:Maintenance Visit")


def test_renaming_a_parent_renames_its_descendants(api, emu):
    parent = named(emu, "Customer", "Weiskopf Consulting")
    api.ok(api.sparse("Customer", parent, DisplayName="Weiskopf Group"))
    phase = api.read("Customer", named(emu, "Customer", "Remodel Phase 2")["Id"])
    kitchen = api.read("Customer", named(emu, "Customer", "Kitchen Cabinets")["Id"])
    assert phase["FullyQualifiedName"] == "Weiskopf Group:Remodel Phase 2"
    assert phase["ParentRef"]["name"] == "Weiskopf Group"
    assert kitchen["FullyQualifiedName"] == "Weiskopf Group:Remodel Phase 2:Kitchen Cabinets"
    assert kitchen["ParentRef"]["name"] == "Weiskopf Group:Remodel Phase 2"
    got = api.query(
        "select * from Customer where FullyQualifiedName = 'Weiskopf Group:Remodel Phase 2:Kitchen Cabinets'"
    )
    assert [c["Id"] for c in got["Customer"]] == [kitchen["Id"]]
    # the old name is free again
    assert (
        api.create("Vendor", {"DisplayName": "Weiskopf Consulting"})["DisplayName"] == "Weiskopf Consulting"
    )


# === CONTACT DETAILS, TERMS, TAX === #


def test_customer_addresses_contacts_terms_and_tax_exemption_round_trip(api, emu):
    addr = {
        "Line1": "Suite 400",
        "Line2": "1 Market St.",
        "Line3": "Attn: AP",
        "Line4": "Floor 4",
        "Line5": "Dock B",
        "City": "San Francisco",
        "CountrySubDivisionCode": "CA",
        "PostalCode": "94105",
        "Country": "USA",
    }
    ship = dict(addr, Line1="Loading dock", PostalCode="94107")
    body = {
        "DisplayName": "Market Street Dental",
        "CompanyName": "Market Street Dental LLC",
        "BillAddr": addr,
        "ShipAddr": ship,
        "PrimaryEmailAddr": {"Address": "ap@msdental.example"},
        "PrimaryPhone": {"FreeFormNumber": "(415) 555-0101"},
        "Mobile": {"FreeFormNumber": "(415) 555-0102"},
        "WebAddr": {"URI": "https://msdental.example"},
        "SalesTermRef": ref(emu, "Term", "Net 15"),
        "DefaultTaxCodeRef": ref(emu, "TaxCode", "California"),
        "TaxExemptionReasonId": "8",
        "ResaleNum": "R-77",
        "Notes": "front desk",
    }
    created = api.create("Customer", body)
    read = api.read("Customer", created["Id"])
    for field in ("BillAddr", "ShipAddr", "PrimaryEmailAddr", "PrimaryPhone", "Mobile", "WebAddr", "Notes"):
        assert read[field] == body[field], field
    assert read["SalesTermRef"]["name"] == "Net 15"
    assert read["DefaultTaxCodeRef"]["name"] == "California"
    # an exemption reason makes the customer tax-exempt
    assert (read["TaxExemptionReasonId"], read["ResaleNum"], read["Taxable"]) == (8, "R-77", False)
    assert api.create("Customer", {"DisplayName": "Plain Taxable", "Taxable": True})["Taxable"] is True
    for bad, code in (
        ({"BillAddr": "1 Main St."}, "2010"),
        ({"BillAddr": {"Line1": ["x"]}}, "2010"),
        ({"PrimaryPhone": "555-0100"}, "2010"),
        ({"WebAddr": {"URI": 7}}, "2010"),
        ({"PrimaryEmailAddr": {"Address": "not-an-address"}}, "6000"),
        ({"SalesTermRef": {"value": "999"}}, "2500"),
        ({"SalesTermRef": ref(emu, "Term", "Net 90")}, "610"),  # an inactive term
        ({"TaxExemptionReasonId": 99}, "2010"),
        ({"Taxable": "sometimes"}, "2010"),
    ):
        err = api.fault(api.post("/customer", {"DisplayName": "Bad Fields", **bad}))
        assert err["code"] == code, (bad, err)


def test_vendor_terms_1099_account_number_and_masked_tax_identifier(api, emu, qb):
    body = {
        "DisplayName": "Rivera Drywall",
        "GivenName": "Luis",
        "FamilyName": "Rivera",
        "TermRef": ref(emu, "Term", "Net 30"),
        "Vendor1099": True,
        "TaxIdentifier": "123-45-6789",
        "AcctNum": "RD-55",
        "BillAddr": {"Line1": "8 Mill Rd.", "City": "Oakland", "CountrySubDivisionCode": "CA"},
    }
    created = api.create("Vendor", body)
    assert created["TaxIdentifier"] == "XXX-XX-6789"
    assert (created["Vendor1099"], created["AcctNum"], created["TermRef"]["name"]) == (
        True,
        "RD-55",
        "Net 30",
    )
    assert api.read("Vendor", created["Id"])["TaxIdentifier"] == "XXX-XX-6789"
    listed = api.query("select * from Vendor where DisplayName = 'Rivera Drywall'")["Vendor"][0]
    assert listed["TaxIdentifier"] == "XXX-XX-6789"
    since = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    cdc = api.ok(api.get("/cdc", entities="Vendor", changedSince=since))
    changed = cdc["CDCResponse"][0]["QueryResponse"][0]["Vendor"]
    assert [v["TaxIdentifier"] for v in changed if v["Id"] == created["Id"]] == ["XXX-XX-6789"]
    assert "123-45-6789" not in json.dumps(emu.store.all(emu.realm_id, "Vendor"))
    assert emu.store.tax_identifier(emu.realm_id, created["Id"]) == "123-45-6789"
    # python-quickbooks reads the masked value and sends it back on save: the real one stays
    vendor = Vendor.get(created["Id"], qb=qb)
    vendor.AcctNum = "RD-56"
    vendor = vendor.save(qb=qb)
    assert (vendor.TaxIdentifier, vendor.AcctNum) == ("XXX-XX-6789", "RD-56")
    assert emu.store.tax_identifier(emu.realm_id, created["Id"]) == "123-45-6789"
    # a new value replaces it; an EIN keeps its shape
    current = api.read("Vendor", created["Id"])
    changed = api.ok(api.sparse("Vendor", current, TaxIdentifier="98-7654321"))["Vendor"]
    assert changed["TaxIdentifier"] == "XX-XXX4321"
    assert emu.store.tax_identifier(emu.realm_id, created["Id"]) == "98-7654321"
    assert api.fault(api.sparse("Vendor", changed, TaxIdentifier="1" * 21))["code"] == "2050"
    cleared = api.ok(api.sparse("Vendor", changed, TaxIdentifier=""))["Vendor"]
    assert "TaxIdentifier" not in cleared and emu.store.tax_identifier(emu.realm_id, created["Id"]) is None
    assert api.create("Vendor", {"DisplayName": "Not 1099"})["Vendor1099"] is False


# === CURRENCY AND BALANCE === #


def test_currency_defaults_to_home_and_never_changes(api, emu):
    cust = api.create("Customer", {"DisplayName": "Home Currency Co"})
    assert cust["CurrencyRef"] == {"value": "USD", "name": "United States Dollar"}
    err = api.fault(api.sparse("Customer", cust, CurrencyRef={"value": "CAD"}))
    assert (err["code"], err["element"]) == ("6000", "CurrencyRef")
    assert "can't be changed" in err["Detail"]
    # a full update without CurrencyRef keeps it; the same currency sent again is fine
    full = api.create(
        "Customer", {"Id": cust["Id"], "SyncToken": cust["SyncToken"], "DisplayName": "Home Currency Co"}
    )
    assert full["CurrencyRef"]["value"] == "USD"
    same = api.ok(api.sparse("Customer", full, CurrencyRef={"value": "usd"}))["Customer"]
    assert same["CurrencyRef"]["value"] == "USD"
    # multicurrency is off in the demo company: nothing but USD
    err = api.fault(api.post("/vendor", {"DisplayName": "Euro Parts", "CurrencyRef": {"value": "EUR"}}))
    assert (err["code"], err["element"]) == ("6000", "CurrencyRef")
    prefs = emu.store.get(emu.realm_id, "Preferences", "1")
    emu.store.update(
        emu.realm_id,
        "Preferences",
        "1",
        {"CurrencyPrefs": dict(prefs["CurrencyPrefs"], MultiCurrencyEnabled=True)},
    )
    euro = api.create("Vendor", {"DisplayName": "Euro Parts", "CurrencyRef": {"value": "EUR"}})
    assert euro["CurrencyRef"] == {"value": "EUR", "name": "Euro"}
    assert api.fault(api.sparse("Vendor", euro, CurrencyRef={"value": "USD"}))["code"] == "6000"


def test_balance_is_read_only_but_opens_on_create(api, emu):
    receivable = account_balance(emu, "AccountsReceivable")
    payable = account_balance(emu, "AccountsPayable")
    cust = api.create(
        "Customer", {"DisplayName": "Opening Owes", "Balance": 250, "OpenBalanceDate": "2025-01-31"}
    )
    assert (cust["Balance"], cust["BalanceWithJobs"], cust["OpenBalanceDate"]) == (250, 250, "2025-01-31")
    assert account_balance(emu, "AccountsReceivable") == pytest.approx(receivable + 250)
    # an update can't change it, nor the date
    after = api.ok(
        api.sparse("Customer", cust, Balance=999, BalanceWithJobs=999, OpenBalanceDate="2020-01-01")
    )
    assert (after["Customer"]["Balance"], after["Customer"]["OpenBalanceDate"]) == (250, "2025-01-31")
    # invoices add to it
    api.create("Invoice", {"CustomerRef": {"value": cust["Id"]}, "Line": [line(80)]})
    assert api.read("Customer", cust["Id"])["Balance"] == 330
    # a job's opening balance rolls up into its parent's BalanceWithJobs
    job = api.create(
        "Customer", {"DisplayName": "Opening Job", "ParentRef": {"value": cust["Id"]}, "Balance": 20}
    )
    assert job["OpenBalanceDate"] == emu.clock.today().isoformat()
    parent = api.read("Customer", cust["Id"])
    assert (parent["Balance"], parent["BalanceWithJobs"]) == (330, 350)
    vendor = api.create("Vendor", {"DisplayName": "Opening Payable", "Balance": "125.50"})
    assert vendor["Balance"] == 125.5 and account_balance(emu, "AccountsPayable") == pytest.approx(
        payable + 125.5
    )
    vendor = api.ok(api.sparse("Vendor", vendor, Balance=0))["Vendor"]
    assert vendor["Balance"] == 125.5
    assert (
        api.fault(api.post("/customer", {"DisplayName": "Bad Balance", "Balance": "lots"}))["code"] == "2010"
    )
    err = api.fault(
        api.post("/customer", {"DisplayName": "Bad Date", "Balance": 5, "OpenBalanceDate": "soon"})
    )
    assert err["code"] == "2010"
    plain = api.create("Customer", {"DisplayName": "No Opening", "OpenBalanceDate": ""})
    assert plain["Balance"] == 0 and "OpenBalanceDate" not in plain


def test_inactivating_a_customer_with_an_open_balance_is_refused(api, emu):
    cool = named(emu, "Customer", "Cool Cars")
    assert cool["Balance"] == 890
    err = api.fault(api.sparse("Customer", cool, Active=False))
    assert (err["code"], err["element"]) == ("6000", "Active")
    assert "Cool Cars has an open balance of 890.00" in err["Detail"]
    assert "can't be made inactive" in err["Detail"]
    assert api.read("Customer", cool["Id"])["Active"] is True
    # a credit balance is an open balance too
    dylan = named(emu, "Customer", "Dylan Sollfrank")
    assert (
        dylan["Balance"] == -50 and api.fault(api.sparse("Customer", dylan, Active=False))["code"] == "6000"
    )
    # nothing owed: fine
    settled = named(emu, "Customer", "Bill's Windsurf Shop")
    assert api.ok(api.sparse("Customer", settled, Active=False))["Customer"]["Active"] is False
    # a parent whose sub-customer owes money
    parent = api.create("Customer", {"DisplayName": "Parent Of Debtor"})
    api.create("Customer", {"DisplayName": "Debtor Job", "ParentRef": {"value": parent["Id"]}, "Balance": 40})
    parent = api.read("Customer", parent["Id"])
    assert (parent["Balance"], parent["BalanceWithJobs"]) == (0, 40)
    assert api.fault(api.sparse("Customer", parent, Active=False))["code"] == "6000"
    # created inactive with an opening balance: the same refusal
    err = api.fault(api.post("/customer", {"DisplayName": "Born Retired", "Active": False, "Balance": 10}))
    assert err["code"] == "6000"


# === MERGE === #


def test_merge_moves_transactions_and_deletes_the_merged_customer(api, emu):
    realm = emu.realm_id
    gone = named(emu, "Customer", "Gevelber Photography")  # an invoice and a payment
    survivor = named(emu, "Customer", "Jeff's Jalopies")
    gone_invoices = [
        i["Id"] for i in emu.store.all(realm, "Invoice") if i["CustomerRef"]["value"] == gone["Id"]
    ]
    gone_payments = [
        p["Id"] for p in emu.store.all(realm, "Payment") if p["CustomerRef"]["value"] == gone["Id"]
    ]
    assert gone_invoices and gone_payments
    job = api.create("Customer", {"DisplayName": "Gevelber Studio", "ParentRef": {"value": gone["Id"]}})
    since = (emu.clock.now() - timedelta(seconds=2)).isoformat()
    result = emu.store.merge(realm, "Customer", gone["Id"], survivor["Id"])
    assert result["Id"] == survivor["Id"] and int(result["SyncToken"]) == int(survivor["SyncToken"]) + 1
    assert result["Balance"] == pytest.approx(gone["Balance"] + survivor["Balance"])
    err = api.fault(api.get(f"/customer/{gone['Id']}"))
    assert err["code"] == "610"
    for inv_id in gone_invoices:
        inv = api.read("Invoice", inv_id)
        assert inv["CustomerRef"] == {"value": survivor["Id"], "name": "Jeff's Jalopies"}
        assert int(inv["SyncToken"]) >= 1
    for pay_id in gone_payments:
        assert api.read("Payment", pay_id)["CustomerRef"]["value"] == survivor["Id"]
    moved = api.read("Customer", job["Id"])
    assert moved["FullyQualifiedName"] == "Jeff's Jalopies:Gevelber Studio"
    assert moved["ParentRef"]["value"] == survivor["Id"]
    cdc = api.ok(api.get("/cdc", entities="Customer,Invoice", changedSince=since))["CDCResponse"][0]
    customers = cdc["QueryResponse"][0].get("Customer", [])
    invoices = cdc["QueryResponse"][1].get("Invoice", [])
    deleted = [c for c in customers if c["Id"] == gone["Id"]]
    assert deleted and deleted[0]["status"] == "Deleted" and "DisplayName" not in deleted[0]
    assert survivor["Id"] in {c["Id"] for c in customers if "status" not in c}
    assert set(gone_invoices) <= {i["Id"] for i in invoices}
    assert emu.store.company(realm).merges[-1]["from_id"] == gone["Id"]
    # the merged name is free; the merged one is gone from queries
    assert api.query("select * from Customer where DisplayName = 'Gevelber Photography'") == {}
    assert api.create("Customer", {"DisplayName": "Gevelber Photography"})["Id"] != gone["Id"]


def test_merge_vendors_and_employees_and_what_is_refused(api, emu):
    realm = emu.realm_id
    gone, survivor = named(emu, "Vendor", "Books by Bessie"), named(emu, "Vendor", "Hicks Hardware")
    item = api.create(
        "Item",
        {
            "Name": "Drywall Screws",
            "Type": "NonInventory",
            "IncomeAccountRef": ref(emu, "Account", "Sales of Product Income"),
            "PrefVendorRef": {"value": gone["Id"]},
        },
    )
    emu.store.merge(realm, "Vendor", gone["Id"], survivor["Id"])
    assert api.read("Item", item["Id"])["PrefVendorRef"] == {
        "value": survivor["Id"],
        "name": "Hicks Hardware",
    }
    assert api.fault(api.get(f"/vendor/{gone['Id']}"))["code"] == "610"
    john, emily = named(emu, "Employee", "John Johnson"), named(emu, "Employee", "Emily Platt")
    emu.store.merge(realm, "Employee", john["Id"], emily["Id"])
    assert emu.store.get(realm, "Employee", john["Id"]) is None
    kitchen, phase = named(emu, "Customer", "Kitchen Cabinets"), named(emu, "Customer", "Remodel Phase 2")
    for args, code in (
        (("Customer", phase["Id"], phase["Id"]), "6000"),  # into itself
        (("Customer", phase["Id"], kitchen["Id"]), "6000"),  # into its own sub-customer
        (("Customer", "99999", phase["Id"]), "610"),
        (("Item", "1", "2"), "6000"),
    ):
        with pytest.raises(Fault) as excinfo:
            emu.store.merge(realm, *args)
        assert excinfo.value.code == code, args
    # a sub-tree merged under a deep customer must still fit in four levels
    deep = api.create("Customer", {"DisplayName": "Deep Two", "ParentRef": {"value": kitchen["Id"]}})
    top = api.create("Customer", {"DisplayName": "Shallow Top"})
    api.create("Customer", {"DisplayName": "Shallow Child", "ParentRef": {"value": top["Id"]}})
    with pytest.raises(Fault) as excinfo:
        emu.store.merge(realm, "Customer", top["Id"], deep["Id"])
    assert excinfo.value.code == "6000"


@pytest.mark.parametrize("fmt", ["classic", "cloudevents"])
def test_a_merge_sends_a_merge_webhook_naming_the_deleted_id(emu, fmt, webhook_sink):
    emu.set_webhook(webhook_sink.url, fmt, "verifier")
    gone, survivor = named(emu, "Customer", "Mark Cho"), named(emu, "Customer", "John Melton")
    emu.store.merge(emu.realm_id, "Customer", gone["Id"], survivor["Id"])
    emu.store.create(emu.realm_id, "Employee", {"GivenName": "Hook", "FamilyName": "Tester"})
    assert emu.flush_webhooks(5)
    deliveries = [json.loads(body) for _headers, body in webhook_sink.wait()]
    if fmt == "classic":
        events = [
            e for d in deliveries for n in d["eventNotifications"] for e in n["dataChangeEvent"]["entities"]
        ]
        merges = [e for e in events if e["operation"] == "Merge"]
        assert [(e["name"], e["id"], e["deletedId"]) for e in merges] == [
            ("Customer", survivor["Id"], gone["Id"])
        ]
        assert all("deletedId" not in e for e in events if e["operation"] != "Merge")
        assert ("Employee", "Create") in {(e["name"], e["operation"]) for e in events}
    else:
        events = [e for d in deliveries for e in d]
        merges = [e for e in events if e["type"] == "qbo.customer.merged.v1"]
        assert [(e["intuitentityid"], e["data"]) for e in merges] == [
            (survivor["Id"], {"deletedid": gone["Id"]})
        ]
        assert all(e["data"] == {} for e in events if e not in merges)
        assert "qbo.employee.created.v1" in {e["type"] for e in events}
    # the moved invoices changed too
    assert any(
        e.get("name", e.get("type", "")).lower().startswith(("invoice", "qbo.invoice")) for e in events
    )


# === BATCH AND REQUESTID === #


def test_batch_customer_creates_fault_per_item_with_6240(api, qb):
    body = {
        "BatchItemRequest": [
            {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch Newcomer"}},
            {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Maria Garcia"}},
            {"bId": "3", "operation": "create", "Customer": {"DisplayName": "batch  newcomer"}},
            {"bId": "4", "operation": "create", "Vendor": {"DisplayName": "Kevin Doyle"}},
        ]
    }
    items = {i["bId"]: i for i in api.ok(api.post("/batch", body))["BatchItemResponse"]}
    assert items["1"]["Customer"]["DisplayName"] == "Batch Newcomer"
    for bid in ("2", "3", "4"):
        error = items[bid]["Fault"]["Error"][0]
        assert (error["code"], error["Message"]) == ("6240", "Duplicate Name Exists Error"), bid
        assert error["Detail"].startswith(DUPLICATE_DETAIL)
    fresh, taken = Customer(), Customer()
    fresh.DisplayName, taken.DisplayName = "Batch Via Library", "Emily Platt"
    result = batch_create([fresh, taken], qb=qb)
    assert [c.DisplayName for c in result.successes] == ["Batch Via Library"]
    assert [int(f.Error[0].code) for f in result.faults] == [6240]


def test_requestid_replays_a_customer_create(api, emu):
    body = {"DisplayName": "Replayed Roofing", "PrimaryEmailAddr": {"Address": "ops@replayed.example"}}
    first = api.post("/customer", body, requestid="cust-create-0001")
    again = api.post("/customer", body, requestid="cust-create-0001")
    assert first.status_code == again.status_code == 200
    assert again.json()["Customer"] == first.json()["Customer"]
    same = [c for c in emu.store.all(emu.realm_id, "Customer") if c["DisplayName"] == "Replayed Roofing"]
    assert len(same) == 1
    # a new requestid does the work again, and QBO's name rule refuses it
    err = api.fault(api.post("/customer", body, requestid="cust-create-0002"))
    assert err["code"] == "6240"
    # a refusal replays as the same refusal
    replay = api.fault(api.post("/customer", body, requestid="cust-create-0002"))
    assert replay == err


def test_job_flag_and_ref_types_are_checked(api):
    assert api.fault(api.post("/customer", {"DisplayName": "Odd Job", "Job": "maybe"}))["code"] == "2010"
    got = api.create("Customer", {"DisplayName": "Stringy", "Job": "false", "BillWithParent": "true"})
    assert (got["Job"], got["BillWithParent"]) == (False, False)
