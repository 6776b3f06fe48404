"""The emulator's Items behave as QBO's, and python-quickbooks' own object API works against it.

python-quickbooks is built as qbo-reference.md says: no auth_client, a requests-oauthlib
session holding the emulator's token, the API URL pointed at the emulator, and plain http
allowed only inside these tests. What it can't reach (inventory adjustments, sparse updates,
raw batches, the query grammar) is driven over raw HTTP.
"""

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.account import Account
from quickbooks.objects.item import Item

from qbo_emulator import Emulator


def by_name(emu, name):
    return next(i for i in emu.store.all(emu.realm_id, "Item") if i["Name"] == name)


def account_ref(emu, name):
    acc = next(a for a in emu.store.all(emu.realm_id, "Account") if a["Name"] == name)
    return {"value": acc["Id"]}


def service(name, emu, **extra):
    return {"Name": name, "Type": "Service", "IncomeAccountRef": account_ref(emu, "Repairs"), **extra}


def inventory(name, emu, **extra):
    return {
        "Name": name,
        "Type": "Inventory",
        "TrackQtyOnHand": True,
        "QtyOnHand": 3,
        "InvStartDate": "2025-01-01",
        "IncomeAccountRef": account_ref(emu, "Sales of Product Income"),
        "ExpenseAccountRef": account_ref(emu, "Cost of Goods Sold"),
        "AssetAccountRef": account_ref(emu, "Inventory Asset"),
        **extra,
    }


def qb_item(name, item_type="Service", **fields):
    item = Item()
    item.Name = name
    item.Type = item_type
    for key, value in fields.items():
        setattr(item, key, value)
    return item


def error_code(excinfo):
    return int(excinfo.value.error_code)


# === THE DEMO CATALOG === #


def test_demo_catalog_has_every_kind_on_four_levels(emu):
    items = emu.store.all(emu.realm_id, "Item")
    kinds = Counter((i["Type"], i["Active"]) for i in items)
    assert kinds == {
        ("Service", True): 9,
        ("Service", False): 1,
        ("NonInventory", True): 4,
        ("NonInventory", False): 1,
        ("Inventory", True): 5,
        ("Category", True): 4,
    }
    assert Counter(i["Level"] for i in items) == {0: 9, 1: 11, 2: 3, 3: 1}
    categories = {i["FullyQualifiedName"] for i in items if i["Type"] == "Category"}
    assert categories == {"Labor", "Parts", "Parts:Equipment", "Parts:Equipment:Heat Pumps"}
    hp48 = by_name(emu, "Heat Pump HP-48")
    assert hp48["FullyQualifiedName"] == "Parts:Equipment:Heat Pumps:Heat Pump HP-48"
    assert (hp48["Level"], hp48["SubItem"], hp48["Sku"], hp48["QtyOnHand"]) == (3, True, "HP-48", 1.0)
    assert (hp48["UnitPrice"], hp48["PurchaseCost"], hp48["TrackQtyOnHand"]) == (4800.0, 3100.0, True)
    hp36 = by_name(emu, "Heat Pump HP-36")
    for ref in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
        assert hp48[ref] == hp36[ref]
    retired = by_name(emu, "Air Filter 20x20")
    assert (retired["Type"], retired["Active"], retired["Sku"]) == ("NonInventory", False, "FLT-2020")
    assert all(
        not any(k in c for k in ("UnitPrice", "IncomeAccountRef")) for c in items if c["Type"] == "Category"
    )
    # the demo invoices sell neither the one heat pump in stock nor a category
    sold = {
        line["SalesItemLineDetail"]["ItemRef"]["value"]
        for inv in emu.store.all(emu.realm_id, "Invoice")
        for line in inv["Line"]
        if line.get("SalesItemLineDetail")
    }
    assert hp48["Id"] not in sold
    assert not sold & {i["Id"] for i in items if i["Type"] == "Category" or not i["Active"]}


def test_seed_scale_multiplies_the_catalog_with_suffixes():
    emu = Emulator(seed="demo", seed_scale=2)
    items = emu.store.all(emu.realm_id, "Item")
    assert len(items) == 2 + 2 * 22  # the two built-in items once, the demo catalog twice
    hp48 = by_name(emu, "Heat Pump HP-48 002")
    assert hp48["FullyQualifiedName"] == "Parts 002:Equipment 002:Heat Pumps 002:Heat Pump HP-48 002"
    assert (hp48["Sku"], hp48["Level"]) == ("HP-48-002", 3)
    assert by_name(emu, "Air Filter 20x20 002")["Active"] is False


# === PYTHON-QUICKBOOKS: READS === #


def test_item_all_returns_the_active_items_with_their_sku(qb, emu):
    emu.reset_log()
    items = Item.all(qb=qb, max_results=1000)
    assert emu.request_log[-1]["query"].startswith("SELECT *, Sku FROM Item")
    active = {i["Id"]: i for i in emu.store.all(emu.realm_id, "Item") if i["Active"]}
    assert sorted(i.Id for i in items) == sorted(active)
    assert all(isinstance(i, Item) for i in items)
    skus = {i.Name: i.Sku for i in items if i.Sku}
    assert skus == {
        "Hourly Labor": "LAB-HR",
        "Installation Service": "INST-STD",
        "Annual Service Plan": "PLAN-YR",
        "Diagnostic Fee": "DIAG",
        "Air Filter 16x25": "FLT-1625",
        "Consumables": "CONS",
        "Thermostat TX-200": "TX-200",
        "Compressor C-5": "C5-COMP",
        "Heat Pump HP-36": "HP-36",
        "Heat Pump HP-48": "HP-48",
    }
    hp48 = next(i for i in items if i.Name == "Heat Pump HP-48")
    assert (hp48.Level, hp48.FullyQualifiedName, hp48.ParentRef.name) == (
        3,
        "Parts:Equipment:Heat Pumps:Heat Pump HP-48",
        "Parts:Equipment:Heat Pumps",
    )


def test_item_filter_and_count(qb):
    stock = Item.filter(Type="Inventory", qb=qb)
    assert sorted(i.Name for i in stock) == [
        "Compressor C-5",
        "Copper Pipe 10ft",
        "Heat Pump HP-36",
        "Heat Pump HP-48",
        "Thermostat TX-200",
    ]
    assert all(i.TrackQtyOnHand is True and i.QtyOnHand >= 1 for i in stock)
    assert [i.Name for i in Item.filter(Sku="HP-48", qb=qb)] == ["Heat Pump HP-48"]
    assert Item.count(qb=qb) == 22
    assert Item.count("Type = 'Category'", qb=qb) == 4
    assert Item.count("Active IN (true, false)", qb=qb) == 24
    assert Item.count("Active = false", qb=qb) == 2


# === PYTHON-QUICKBOOKS: WRITES === #


def test_save_creates_a_service_then_updates_it_and_a_stale_token_is_5010(qb, emu):
    repairs = Account.filter(Name="Repairs", qb=qb)[0]
    item = qb_item("Duct Cleaning", IncomeAccountRef=repairs.to_ref(), UnitPrice=175, Sku="DUCT-CL")
    created = item.save(qb=qb)
    assert created.Id and created.SyncToken == "0"
    assert (created.Type, created.Level, created.FullyQualifiedName, created.Sku) == (
        "Service",
        0,
        "Duct Cleaning",
        "DUCT-CL",
    )
    assert created.IncomeAccountRef.value == repairs.Id
    created.UnitPrice = 185
    updated = created.save(qb=qb)
    assert updated.SyncToken == "1" and updated.UnitPrice == 185
    assert Item.get(created.Id, qb=qb).UnitPrice == 185

    created.UnitPrice = 190  # still SyncToken 0: someone else saved in between
    with pytest.raises(QuickbooksException) as excinfo:
        created.save(qb=qb)
    assert error_code(excinfo) == 5010
    assert emu.store.get(emu.realm_id, "Item", created.Id)["UnitPrice"] == 185


def test_duplicate_names_are_6240_among_all_items_even_inactive_ones(qb, emu, api):
    income = Account.filter(Name="Repairs", qb=qb)[0].to_ref()
    for taken in ("hourly  LABOR", "Legacy Service Contract", "Air Filter 20x20", "Equipment", "Heat Pumps"):
        with pytest.raises(QuickbooksException) as excinfo:
            qb_item(taken, IncomeAccountRef=income).save(qb=qb)
        assert error_code(excinfo) == 6240, taken
        assert "already using this name" in excinfo.value.detail
    err = api.fault(api.post("/item", service("Diagnostic Fee", emu)))
    assert (err["code"], err["Message"]) == ("6240", "Duplicate Name Exists Error")
    assert "Another item is already using this name" in err["Detail"]
    assert f"Id={by_name(emu, 'Diagnostic Fee')['Id']}" in err["Detail"]
    # a rename onto a taken name is refused too, and nothing changes
    fee = by_name(emu, "Emergency Call-out")
    r = api.post(
        "/item", {"Id": fee["Id"], "SyncToken": fee["SyncToken"], "sparse": True, "Name": "Diagnostic fee"}
    )
    assert api.fault(r)["code"] == "6240"
    assert api.item(fee["Id"])["Name"] == "Emergency Call-out"


def test_batch_create_of_31_items_goes_in_two_batches(qb, emu):
    income = Account.filter(Name="Repairs", qb=qb)[0].to_ref()
    items = [qb_item(f"Batch Service {n:02d}", IncomeAccountRef=income, UnitPrice=10 + n) for n in range(31)]
    emu.reset_log()
    result = batch_create(items, qb=qb)
    assert len(result.successes) == 31 and result.faults == []
    assert emu.counters["POST batch"] == 2
    assert {i.Name for i in result.successes} == {f"Batch Service {n:02d}" for n in range(31)}
    assert all(i.Id and i.SyncToken == "0" for i in result.successes)
    assert Item.count("Name LIKE 'Batch Service%'", qb=qb) == 31

    again = batch_create(
        [qb_item("Batch Service 00", IncomeAccountRef=income), qb_item("Batch New", IncomeAccountRef=income)],
        qb=qb,
    )
    assert [i.Name for i in again.successes] == ["Batch New"]
    assert [f.Error[0].code for f in again.faults] == ["6240"]


def test_change_data_capture_lists_an_item_changed_through_the_api(qb, emu):
    since = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=2)
    assert not hasattr(change_data_capture([Item], since, qb=qb), "Item")  # seeded 45 days ago
    labor = Item.filter(Name="Hourly Labor", qb=qb)[0]
    labor.UnitPrice = 99
    labor.save(qb=qb)
    changed = list(change_data_capture([Item], since, qb=qb).Item)
    assert [(i.Name, i.UnitPrice, i.SyncToken) for i in changed] == [("Hourly Labor", 99, "1")]


def test_inventory_tracking_can_never_be_turned_off(qb, api, emu):
    tx = Item.filter(Name="Thermostat TX-200", qb=qb)[0]
    tx.TrackQtyOnHand = False
    with pytest.raises(QuickbooksException) as excinfo:
        tx.save(qb=qb)
    assert error_code(excinfo) == 6000 and "TrackQtyOnHand" in excinfo.value.detail

    tx = Item.get(tx.Id, qb=qb)
    tx.Type = "NonInventory"
    with pytest.raises(QuickbooksException) as excinfo:
        tx.save(qb=qb)
    assert error_code(excinfo) == 6000 and "can't be turned off" in excinfo.value.detail

    cur = api.item(tx.Id)
    for change in ({"Type": "Service"}, {"TrackQtyOnHand": False}):
        body = {"Id": cur["Id"], "SyncToken": cur["SyncToken"], "sparse": True, **change}
        assert api.fault(api.post("/item", body))["code"] == "6000"
    assert api.item(tx.Id)["SyncToken"] == cur["SyncToken"] == "0"
    # a sparse update that does not mention Type keeps the item an inventory item
    body = {"Id": cur["Id"], "SyncToken": "0", "sparse": True, "UnitPrice": 199}
    kept = api.ok(api.post("/item", body))["Item"]
    assert (kept["Type"], kept["TrackQtyOnHand"], kept["QtyOnHand"], kept["UnitPrice"]) == (
        "Inventory",
        True,
        25.0,
        199.0,
    )
    # a full update without Type keeps it too
    full = {k: v for k, v in kept.items() if k != "Type"}
    assert api.ok(api.post("/item", full))["Item"]["Type"] == "Inventory"


def test_a_fifth_level_is_refused(qb, emu):
    heat_pumps = Item.filter(Name="Heat Pumps", qb=qb)[0]
    assert heat_pumps.Level == 2
    ducted = qb_item("Ducted", "Category", SubItem=True, ParentRef=heat_pumps.to_ref()).save(qb=qb)
    assert (ducted.Level, ducted.FullyQualifiedName) == (3, "Parts:Equipment:Heat Pumps:Ducted")
    income = Account.filter(Name="Repairs", qb=qb)[0].to_ref()
    for deeper in (
        qb_item("Too Deep", "Category", SubItem=True, ParentRef=ducted.to_ref()),
        qb_item("Too Deep Service", SubItem=True, ParentRef=ducted.to_ref(), IncomeAccountRef=income),
    ):
        with pytest.raises(QuickbooksException) as excinfo:
            deeper.save(qb=qb)
        assert error_code(excinfo) == 6000 and "4 levels" in excinfo.value.detail
    assert Item.count("Name LIKE 'Too Deep%'", qb=qb) == 0

    # moving Parts (three levels below it) under Labor would make a fifth level
    parts = Item.filter(Name="Parts", qb=qb)[0]
    parts.SubItem = True
    parts.ParentRef = Item.filter(Name="Labor", qb=qb)[0].to_ref()
    with pytest.raises(QuickbooksException) as excinfo:
        parts.save(qb=qb)
    assert error_code(excinfo) == 6000
    assert by_name(emu, "Heat Pump HP-48")["Level"] == 3


def test_a_category_drops_price_and_accounts_and_stays_active(qb, emu, api):
    income = Account.filter(Name="Repairs", qb=qb)[0].to_ref()
    cat = qb_item(
        "Filters", "Category", IncomeAccountRef=income, ExpenseAccountRef=income, UnitPrice=50, Sku="CAT-F"
    )
    saved = cat.save(qb=qb)
    assert saved.Type == "Category" and saved.IncomeAccountRef is None and saved.ExpenseAccountRef is None
    stored = emu.store.get(emu.realm_id, "Item", saved.Id)
    assert not {"UnitPrice", "IncomeAccountRef", "ExpenseAccountRef", "Sku", "TrackQtyOnHand"} & set(stored)
    assert (stored["Level"], stored["Active"]) == (0, True)

    saved.Active = False
    with pytest.raises(QuickbooksException) as excinfo:
        saved.save(qb=qb)
    assert error_code(excinfo) == 6000 and "inactive" in excinfo.value.detail
    labor = by_name(emu, "Labor")
    body = {"Id": labor["Id"], "SyncToken": labor["SyncToken"], "sparse": True, "Active": False}
    assert api.fault(api.post("/item", body))["code"] == "6000"
    assert (
        api.fault(api.post("/item", {"Id": labor["Id"], "SyncToken": "0"}, operation="delete"))["code"]
        == "6000"
    )
    assert api.item(labor["Id"])["Active"] is True
    # a category is never sold
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 10,
        "SalesItemLineDetail": {"ItemRef": {"value": labor["Id"]}},
    }
    customer = emu.store.all(emu.realm_id, "Customer", include_inactive=False)[0]
    invoice = {"CustomerRef": {"value": customer["Id"]}, "Line": [line]}
    assert api.fault(api.post("/invoice", invoice))["code"] == "6000"


# === RAW HTTP: RULES === #


def test_renaming_a_category_renames_what_is_in_it(api, emu):
    equipment = by_name(emu, "Equipment")
    body = {
        "Id": equipment["Id"],
        "SyncToken": equipment["SyncToken"],
        "sparse": True,
        "Name": "Big Equipment",
    }
    assert api.ok(api.post("/item", body))["Item"]["FullyQualifiedName"] == "Parts:Big Equipment"
    hp48 = api.item(by_name(emu, "Heat Pump HP-48")["Id"])
    assert hp48["FullyQualifiedName"] == "Parts:Big Equipment:Heat Pumps:Heat Pump HP-48"
    assert hp48["ParentRef"]["name"] == "Parts:Big Equipment:Heat Pumps" and hp48["Level"] == 3
    assert (
        api.item(by_name(emu, "Compressor C-5")["Id"])["FullyQualifiedName"]
        == "Parts:Big Equipment:Compressor C-5"
    )
    # a category moved up: Levels follow
    pumps = by_name(emu, "Heat Pumps")
    body = {"Id": pumps["Id"], "SyncToken": pumps["SyncToken"], "sparse": True, "SubItem": False}
    moved = api.ok(api.post("/item", body))["Item"]
    assert (moved["FullyQualifiedName"], moved["Level"], moved["SubItem"]) == ("Heat Pumps", 0, False)
    assert "ParentRef" not in moved
    hp48 = api.item(hp48["Id"])
    assert (hp48["FullyQualifiedName"], hp48["Level"]) == ("Heat Pumps:Heat Pump HP-48", 1)


def test_item_names_and_texts_have_qbo_limits(api, emu):
    for bad in ("Filter: large", "Filter\tlarge", "Filter\nlarge"):
        err = api.fault(api.post("/item", service(bad, emu)))
        assert err["code"] == "6000" and err["element"] == "Name", bad
    assert api.fault(api.post("/item", service("x" * 101, emu)))["code"] == "2050"
    assert api.fault(api.post("/item", {"Type": "Service"}))["code"] == "2020"
    assert api.ok(api.post("/item", service("y" * 100, emu)))["Item"]["Name"] == "y" * 100
    err = api.fault(api.post("/item", service("Long SKU", emu, Sku="S" * 101)))
    assert (err["code"], err["element"]) == ("2050", "Sku")
    assert err["Message"] == "String length is either shorter or longer than supported by specification"
    err = api.fault(api.post("/item", service("Long text", emu, Description="d" * 4001)))
    assert (err["code"], err["element"]) == ("2050", "Description")
    ok = api.ok(api.post("/item", service("Long text", emu, Description="d" * 4000, Sku="S" * 100)))["Item"]
    assert len(ok["Description"]) == 4000 and len(ok["Sku"]) == 100


def test_accounts_and_stock_fields_each_type_needs(api, emu):
    for itype in ("Service", "NonInventory"):
        err = api.fault(api.post("/item", {"Name": f"No income {itype}", "Type": itype}))
        assert (err["code"], err["element"]) == ("6000", "IncomeAccountRef")
    for missing in (
        "TrackQtyOnHand",
        "QtyOnHand",
        "InvStartDate",
        "IncomeAccountRef",
        "ExpenseAccountRef",
        "AssetAccountRef",
    ):
        body = inventory("Widget", emu)
        del body[missing]
        err = api.fault(api.post("/item", body))
        assert (err["code"], err["element"]) == ("6000", missing), missing
    assert api.fault(api.post("/item", inventory("Widget", emu, TrackQtyOnHand=False)))["code"] == "6000"
    assert api.fault(api.post("/item", inventory("Widget", emu, InvStartDate="soon")))["code"] == "2010"
    made = api.ok(api.post("/item", inventory("Widget", emu)))["Item"]
    assert (made["QtyOnHand"], made["TrackQtyOnHand"], made["InvStartDate"]) == (3.0, True, "2025-01-01")
    plain = api.ok(api.post("/item", service("Plain", emu, TrackQtyOnHand=True, QtyOnHand=5)))["Item"]
    assert plain["TrackQtyOnHand"] is False and "QtyOnHand" not in plain
    # the store's UI helper: an inventory item made in QBO's UI always tracks its stock
    ui = inventory("UI Widget", emu)
    del ui["TrackQtyOnHand"]
    assert emu.store.create(emu.realm_id, "Item", ui)["TrackQtyOnHand"] is True


def test_only_categories_are_parents_and_types_change_only_as_qbo_allows(api, emu):
    labor = by_name(emu, "Hourly Labor")
    err = api.fault(api.post("/item", service("Under a service", emu, ParentRef={"value": labor["Id"]})))
    assert (err["code"], err["element"]) == ("6000", "ParentRef")
    err = api.fault(api.post("/item", service("Orphan", emu, SubItem=True)))
    assert (err["code"], err["element"]) == ("2020", "ParentRef")
    assert (
        api.fault(api.post("/item", service("Nowhere", emu, ParentRef={"value": "9999"})))["code"] == "2500"
    )
    # SubItem false in a sparse update takes an item out of its category
    body = {"Id": labor["Id"], "SyncToken": labor["SyncToken"], "sparse": True, "SubItem": False}
    out = api.ok(api.post("/item", body))["Item"]
    assert (out["FullyQualifiedName"], out["Level"], out["SubItem"], "ParentRef" in out) == (
        "Hourly Labor",
        0,
        False,
        False,
    )
    # categories and products never turn into one another
    cat = by_name(emu, "Labor")
    body = {"Id": cat["Id"], "SyncToken": cat["SyncToken"], "sparse": True, "Type": "Service"}
    assert api.fault(api.post("/item", {**body, **service("Labor", emu)}))["code"] == "6000"
    fee = by_name(emu, "Diagnostic Fee")
    body = {"Id": fee["Id"], "SyncToken": fee["SyncToken"], "sparse": True, "Type": "Category"}
    assert api.fault(api.post("/item", body))["code"] == "6000"
    # a service may become an inventory item, with everything inventory needs
    stock = inventory("Diagnostic Fee", emu, QtyOnHand=7)
    converted = api.ok(
        api.post("/item", {**stock, "Id": fee["Id"], "SyncToken": fee["SyncToken"], "sparse": True})
    )
    assert (converted["Item"]["Type"], converted["Item"]["QtyOnHand"]) == ("Inventory", 7.0)
    # group items (bundles) are read-only through the API
    err = api.fault(api.post("/item", {"Name": "Bundle", "Type": "Group"}))
    assert (err["code"], err["element"]) == ("2010", "Type")
    assert api.fault(api.post("/item", service("Bogus type", emu, Type="Gadget")))["code"] == "2010"


def test_items_are_never_hard_deleted_only_made_inactive(api, emu):
    fee = by_name(emu, "Emergency Call-out")
    err = api.fault(api.post("/item", {"Id": fee["Id"], "SyncToken": fee["SyncToken"]}, operation="delete"))
    assert err["code"] == "6000" and "inactive" in err["Detail"]
    assert api.item(fee["Id"])["Active"] is True
    body = {"Id": fee["Id"], "SyncToken": fee["SyncToken"], "sparse": True, "Active": False}
    assert api.ok(api.post("/item", body))["Item"]["Active"] is False
    assert api.query(f"SELECT * FROM Item WHERE Id = '{fee['Id']}'") == {}
    hidden = api.query(f"SELECT * FROM Item WHERE Id = '{fee['Id']}' AND Active IN (true, false)")["Item"]
    assert [i["Active"] for i in hidden] == [False]
    names = {i["Name"] for i in api.query("SELECT * FROM Item WHERE Active = false")["Item"]}
    assert names == {"Legacy Service Contract", "Air Filter 20x20", "Emergency Call-out"}
    assert api.fault(api.post("/item", service("Emergency Call-out", emu)))["code"] == "6240"


# === INVENTORY ADJUSTMENTS === #


def adjustment(item_id, qty_diff, **extra):
    line = {
        "DetailType": "ItemAdjustmentLineDetail",
        "ItemAdjustmentLineDetail": {"ItemRef": {"value": item_id}, "QtyDiff": qty_diff},
    }
    return {"Line": [line], **extra}


def test_an_inventory_adjustment_raises_qty_on_hand(api, qb, emu):
    hp48 = by_name(emu, "Heat Pump HP-48")
    since = datetime.now(timezone.utc) - timedelta(seconds=2)
    today = emu.clock.today().isoformat()
    made = api.ok(api.post("/inventoryadjustment", adjustment(hp48["Id"], 3, AdjustDate=today)))
    adj = made["InventoryAdjustment"]
    assert adj["Id"] and adj["SyncToken"] == "0" and set(adj["MetaData"]) == {"CreateTime", "LastUpdatedTime"}
    assert adj["TxnDate"] == today and adj["AdjustAccountRef"]["name"] == "Inventory Shrinkage"
    detail = adj["Line"][0]["ItemAdjustmentLineDetail"]
    assert (
        detail["ItemRef"] == {"value": hp48["Id"], "name": hp48["FullyQualifiedName"]}
        and detail["QtyDiff"] == 3
    )
    shrinkage = [a for a in emu.store.all(emu.realm_id, "Account") if a["Name"] == "Inventory Shrinkage"]
    assert [a["AccountType"] for a in shrinkage] == ["Cost of Goods Sold"]

    after = api.item(hp48["Id"])
    assert (after["QtyOnHand"], after["SyncToken"]) == (4.0, "1")
    assert after["MetaData"]["LastUpdatedTime"] != hp48["MetaData"]["LastUpdatedTime"]
    assert Item.get(hp48["Id"], qb=qb).QtyOnHand == 4
    assert api.ok(api.get(f"/inventoryadjustment/{adj['Id']}"))["InventoryAdjustment"] == adj
    assert [a["Id"] for a in api.query("SELECT * FROM InventoryAdjustment")["InventoryAdjustment"]] == [
        adj["Id"]
    ]
    cdc = api.ok(api.get("/cdc", entities="Item", changedSince=since.isoformat()))
    assert [i["Id"] for i in cdc["CDCResponse"][0]["QueryResponse"][0]["Item"]] == [hp48["Id"]]
    assert [i.Name for i in change_data_capture([Item], since.replace(tzinfo=None), qb=qb).Item] == [
        "Heat Pump HP-48"
    ]

    # down again, to an account of one's choosing; the same item on two lines adds up
    cogs = account_ref(emu, "Cost of Goods Sold")
    body = adjustment(hp48["Id"], -1, AdjustAccountRef=cogs)
    body["Line"].append(adjustment(hp48["Id"], -2)["Line"][0])
    adj2 = api.ok(api.post("/inventoryadjustment", body))["InventoryAdjustment"]
    assert adj2["AdjustAccountRef"]["value"] == cogs["value"]
    assert (api.item(hp48["Id"])["QtyOnHand"], api.item(hp48["Id"])["SyncToken"]) == (1.0, "2")
    assert len([a for a in emu.store.all(emu.realm_id, "Account") if a["Name"] == "Inventory Shrinkage"]) == 1


def test_bad_inventory_adjustments_change_nothing(api, emu):
    hp48 = by_name(emu, "Heat Pump HP-48")
    fee = by_name(emu, "Diagnostic Fee")
    assert api.fault(api.post("/inventoryadjustment", {}))["code"] == "2020"
    assert api.fault(api.post("/inventoryadjustment", adjustment(fee["Id"], 1)))["code"] == "6000"
    assert api.fault(api.post("/inventoryadjustment", adjustment("9999", 1)))["code"] == "2500"
    assert api.fault(api.post("/inventoryadjustment", adjustment(hp48["Id"], None)))["code"] == "2020"
    assert api.fault(api.post("/inventoryadjustment", adjustment(hp48["Id"], True)))["code"] == "2010"
    wrong = adjustment(hp48["Id"], 1)
    wrong["Line"][0]["DetailType"] = "SalesItemLineDetail"
    assert api.fault(api.post("/inventoryadjustment", wrong))["code"] == "2010"
    half = adjustment(hp48["Id"], 5)
    half["Line"].append(adjustment(fee["Id"], 5)["Line"][0])
    assert api.fault(api.post("/inventoryadjustment", half))["code"] == "6000"
    assert api.item(hp48["Id"])["QtyOnHand"] == 1.0 and api.item(hp48["Id"])["SyncToken"] == "0"
    assert api.query("SELECT * FROM InventoryAdjustment") == {}
    made = api.ok(api.post("/inventoryadjustment", adjustment(hp48["Id"], 1)))["InventoryAdjustment"]
    change = {"Id": made["Id"], "SyncToken": "0", **adjustment(hp48["Id"], 9)}
    assert api.fault(api.post("/inventoryadjustment", change))["code"] == "500"
    assert api.fault(api.post("/inventoryadjustment", change, operation="delete"))["code"] == "500"
    assert api.item(hp48["Id"])["QtyOnHand"] == 2.0


def test_qty_on_hand_sent_in_an_item_update_is_ignored(qb, emu):
    hp36 = Item.filter(Name="Heat Pump HP-36", qb=qb)[0]
    hp36.QtyOnHand = 99
    hp36.UnitPrice = 3950
    saved = hp36.save(qb=qb)
    assert (saved.QtyOnHand, saved.UnitPrice, saved.SyncToken) == (2, 3950, "1")
    # the store's UI-edit helper adjusts stock as QBO's "Adjust quantity" does: with an adjustment
    after = emu.store.update(emu.realm_id, "Item", saved.Id, {"QtyOnHand": 7})
    assert after["QtyOnHand"] == 7.0 and after["SyncToken"] == "2"
    [adj] = emu.store.all(emu.realm_id, "InventoryAdjustment")
    assert adj["Line"][0]["ItemAdjustmentLineDetail"]["QtyDiff"] == 5.0


# === QUERIES AND BATCH === #


def test_item_queries(api):
    def names(rows):
        return [i["Name"] for i in rows.get("Item", [])]

    everything = api.query("SELECT * FROM Item MAXRESULTS 1000")
    assert api.query("SELECT *, Sku FROM Item MAXRESULTS 1000") == everything
    assert len(everything["Item"]) == 22
    assert names(api.query("SELECT * FROM Item WHERE Sku = 'HP-48'")) == ["Heat Pump HP-48"]
    assert sorted(names(api.query("SELECT * FROM Item WHERE Name LIKE 'heat pump%'"))) == [
        "Heat Pump HP-36",
        "Heat Pump HP-48",
        "Heat Pumps",
    ]
    assert len(names(api.query("SELECT * FROM Item WHERE Type IN ('Inventory', 'NonInventory')"))) == 9
    assert len(names(api.query("SELECT * FROM Item WHERE Active IN (true, false) MAXRESULTS 1000"))) == 24
    assert api.query("SELECT count(*) FROM Item") == {"totalCount": 22}
    assert api.query("SELECT COUNT(*) FROM Item WHERE Type = 'Category'") == {"totalCount": 4}
    ordered = names(api.query("SELECT * FROM Item ORDERBY Name DESC MAXRESULTS 1000"))
    assert ordered == sorted(ordered, key=str.casefold, reverse=True) and len(ordered) == 22
    pages = [
        names(api.query(f"SELECT * FROM Item ORDERBY Name STARTPOSITION {s} MAXRESULTS 10"))
        for s in (1, 11, 21)
    ]
    assert [len(p) for p in pages] == [10, 10, 2]
    assert sum(pages, []) == sorted(ordered, key=str.casefold)
    picked = api.query("SELECT Id, Sku FROM Item WHERE Sku = 'DIAG'")["Item"][0]
    assert picked["Sku"] == "DIAG" and "UnitPrice" not in picked


def test_raw_batch_of_items_faults_per_item_and_a_requestid_replays(api, emu):
    hp36 = by_name(emu, "Heat Pump HP-36")
    tx = by_name(emu, "Thermostat TX-200")
    body = {
        "BatchItemRequest": [
            {"bId": "new", "operation": "create", "Item": service("Batch Widget Service", emu)},
            {"bId": "dup", "operation": "create", "Item": service("Hourly Labor", emu)},
            {
                "bId": "upd",
                "operation": "update",
                "Item": {"Id": hp36["Id"], "SyncToken": "0", "sparse": True, "UnitPrice": 4000},
            },
            {
                "bId": "stale",
                "operation": "update",
                "Item": {"Id": hp36["Id"], "SyncToken": "0", "sparse": True, "UnitPrice": 1},
            },
            {
                "bId": "off",
                "operation": "update",
                "Item": {"Id": tx["Id"], "SyncToken": "0", "sparse": True, "TrackQtyOnHand": False},
            },
            {"bId": "del", "operation": "delete", "Item": {"Id": tx["Id"], "SyncToken": "0"}},
            {"bId": "q", "Query": "SELECT * FROM Item WHERE Sku = 'HP-36'"},
        ]
    }
    first = api.post("/batch", body, requestid="catalog-batch-1")
    out = {i["bId"]: i for i in api.ok(first)["BatchItemResponse"]}
    assert out["new"]["Item"]["Name"] == "Batch Widget Service"
    assert out["dup"]["Fault"]["Error"][0]["code"] == "6240"
    assert out["upd"]["Item"]["UnitPrice"] == 4000 and out["upd"]["Item"]["SyncToken"] == "1"
    assert out["stale"]["Fault"]["Error"][0]["code"] == "5010"
    assert out["off"]["Fault"]["Error"][0]["code"] == "6000"
    assert out["del"]["Fault"]["Error"][0]["code"] == "6000"
    assert out["q"]["QueryResponse"]["Item"][0]["UnitPrice"] == 4000
    count = api.query("SELECT COUNT(*) FROM Item")["totalCount"]
    again = api.post("/batch", body, requestid="catalog-batch-1")
    assert again.status_code == 200 and again.content == first.content
    assert api.query("SELECT COUNT(*) FROM Item")["totalCount"] == count
    assert api.item(hp36["Id"])["SyncToken"] == "1"
    many = {
        "BatchItemRequest": [
            {"bId": str(n), "operation": "create", "Item": service(f"Many {n}", emu)} for n in range(31)
        ]
    }
    assert api.fault(api.post("/batch", many))["code"] == "1040"
    assert api.query("SELECT * FROM Item WHERE Name LIKE 'Many %'") == {}
