"""Company seeds: QBO's built-in defaults, and a believable small US field-service company.

Everything is deterministic: the same seed and scale give the same objects in
the same order with the same Ids (only MetaData times follow the clock).
"""

from datetime import timedelta

SEED_AGE_DAYS = 45  # seeded objects look older than the 30-day CDC window

# (Name, AccountType, AccountSubType, AcctNum or None, parent Name or None, opening balance, active)
DEFAULT_ACCOUNTS = [
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", None, None, 0, True),
    ("Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", None, None, 0, True),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds", None, None, 0, True),
    ("Uncategorized Asset", "Other Current Asset", "OtherCurrentAssets", None, None, 0, True),
    ("Opening Balance Equity", "Equity", "OpeningBalanceEquity", None, None, 0, True),
    ("Retained Earnings", "Equity", "RetainedEarnings", None, None, 0, True),
    ("Services", "Income", "ServiceFeeIncome", None, None, 0, True),
    ("Sales of Product Income", "Income", "SalesOfProductIncome", None, None, 0, True),
    ("Uncategorized Income", "Income", "ServiceFeeIncome", None, None, 0, True),
    ("Uncategorized Expense", "Expense", "OtherMiscellaneousServiceCost", None, None, 0, True),
]

DEMO_ACCOUNTS = [
    ("Business Checking", "Bank", "Checking", "1010", None, 24500.00, True),
    ("Operating", "Bank", "Checking", "1011", "Business Checking", 18250.00, True),
    ("Payroll", "Bank", "Checking", "1012", "Business Checking", 6400.00, True),
    ("Savings", "Bank", "Savings", "1020", None, 50000.00, True),
    ("Petty Cash", "Bank", "CashOnHand", None, None, 300.00, True),
    ("Old Savings (closed)", "Bank", "Savings", "1090", None, 0, False),
    ("Inventory Asset", "Other Current Asset", "Inventory", "1400", None, 8200.00, True),
    ("Prepaid Expenses", "Other Current Asset", "PrepaidExpenses", "1350", None, 1200.00, True),
    ("Employee Advances", "Other Current Asset", "EmployeeCashAdvances", None, None, 0, True),
    ("Vehicles", "Fixed Asset", "Vehicles", "1500", None, 0, True),
    ("Vehicles Original Cost", "Fixed Asset", "Vehicles", "1510", "Vehicles", 64000.00, True),
    ("Vehicles Depreciation", "Fixed Asset", "AccumulatedDepreciation", "1520", "Vehicles", -12800.00, True),
    ("Tools and Equipment", "Fixed Asset", "MachineryAndEquipment", "1600", None, 15800.00, True),
    ("Furniture and Fixtures", "Fixed Asset", "FurnitureAndFixtures", None, None, 3200.00, True),
    ("Security Deposits", "Other Asset", "SecurityDeposits", "1800", None, 2500.00, True),
    ("Goodwill", "Other Asset", "Goodwill", None, None, 0, True),
    ("Visa Business Card", "Credit Card", "CreditCard", "2100", None, 1845.32, True),
    ("Amex Corporate Card", "Credit Card", "CreditCard", "2110", None, 920.10, True),
    ("Sales Tax Payable", "Other Current Liability", "SalesTaxPayable", "2200", None, 0, True),
    ("Payroll Liabilities", "Other Current Liability", "PayrollTaxPayable", "2300", None, 3100.00, True),
    ("Customer Deposits", "Other Current Liability", "OtherCurrentLiabilities", "2350", None, 0, True),
    ("Line of Credit", "Other Current Liability", "LineOfCredit", "2400", None, 5000.00, True),
    ("Truck Loan", "Long Term Liability", "NotesPayable", "2700", None, 38000.00, True),
    ("SBA Loan", "Long Term Liability", "NotesPayable", "2710", None, 45000.00, True),
    ("Owner's Investment", "Equity", "PartnerContributions", "3100", None, 0, True),
    ("Owner's Draw", "Equity", "PartnerDistributions", "3200", None, 0, True),
    ("Installation", "Income", "ServiceFeeIncome", "4110", "Services", 0, True),
    ("Repairs", "Income", "ServiceFeeIncome", "4120", "Services", 0, True),
    ("Maintenance Contracts", "Income", "ServiceFeeIncome", "4130", "Services", 0, True),
    ("Discounts Given", "Income", "DiscountsRefundsGiven", "4900", None, 0, True),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "5000", None, 0, True),
    ("Subcontractors", "Cost of Goods Sold", "CostOfLaborCos", "5100", None, 0, True),
    ("Equipment Rental for Jobs", "Cost of Goods Sold", "EquipmentRentalCos", "5200", None, 0, True),
    ("Advertising", "Expense", "AdvertisingPromotional", "6000", None, 0, True),
    ("Automobile", "Expense", "Auto", "6100", None, 0, True),
    ("Fuel", "Expense", "Auto", "6110", "Automobile", 0, True),
    ("Vehicle Repairs", "Expense", "Auto", "6120", "Automobile", 0, True),
    ("Bank Charges", "Expense", "BankCharges", "6200", None, 0, True),
    ("Insurance", "Expense", "Insurance", "6300", None, 0, True),
    ("General Liability Insurance", "Expense", "Insurance", "6310", "Insurance", 0, True),
    ("Workers Compensation", "Expense", "Insurance", "6320", "Insurance", 0, True),
    ("Rent", "Expense", "RentOrLeaseOfBuildings", "6400", None, 0, True),
    ("Utilities", "Expense", "Utilities", "6500", None, 0, True),
    ("Telephone", "Expense", "Utilities", None, None, 0, True),
    ("Office Supplies", "Expense", "OfficeGeneralAdministrativeExpenses", "6600", None, 0, True),
    ("Legal and Professional Fees", "Expense", "LegalProfessionalFees", "6700", None, 0, True),
    ("Meals and Entertainment", "Expense", "EntertainmentMeals", None, None, 0, True),
    ("Travel", "Expense", "Travel", None, None, 0, True),
    ("Payroll Expenses", "Expense", "PayrollExpenses", "6800", None, 0, True),
    ("Wages", "Expense", "PayrollExpenses", "6810", "Payroll Expenses", 0, True),
    ("Payroll Taxes", "Expense", "PayrollExpenses", "6820", "Payroll Expenses", 0, True),
    ("Dues and Subscriptions", "Expense", "DuesSubscriptions", None, None, 0, True),
    ("Yellow Pages Advertising", "Expense", "AdvertisingPromotional", "6090", None, 0, False),
    ("Interest Earned", "Other Income", "InterestEarned", "7000", None, 0, True),
    ("Other Income", "Other Income", "OtherMiscellaneousIncome", "7100", None, 0, True),
    ("Depreciation", "Other Expense", "Depreciation", "8000", None, 0, True),
    ("Penalties and Settlements", "Other Expense", "PenaltiesSettlements", "8100", None, 0, True),
    ("Loan Interest", "Other Expense", "OtherMiscellaneousExpense", "8200", None, 0, True),
]

DEFAULT_TERMS = [
    {"Name": "Due on receipt", "DueDays": 0},
    {"Name": "Net 15", "DueDays": 15},
    {"Name": "Net 30", "DueDays": 30},
    {"Name": "Net 60", "DueDays": 60},
]
DEMO_TERMS = [
    {"Name": "Due 15th of next month", "DayOfMonthDue": 15, "DueNextMonthDays": 10},
    {"Name": "2% 10 Net 30", "DueDays": 30, "DiscountPercent": 2, "DiscountDays": 10},
    {"Name": "Net 90", "DueDays": 90, "Active": False},
]

DEFAULT_PAYMENT_METHODS = [
    ("Cash", "NON_CREDIT_CARD", True),
    ("Check", "NON_CREDIT_CARD", True),
    ("Visa", "CREDIT_CARD", True),
    ("MasterCard", "CREDIT_CARD", True),
    ("American Express", "CREDIT_CARD", True),
    ("Discover", "CREDIT_CARD", True),
    ("Diners Club", "CREDIT_CARD", True),
]

CUSTOMERS = [
    # DisplayName, CompanyName, GivenName, FamilyName, city, street
    ("Amy's Bird Sanctuary", "Amy's Bird Sanctuary", "Amy", "Lauterbach", "Bayshore", "4581 Finch St."),
    ("Bill's Windsurf Shop", "Bill's Windsurf Shop", "Bill", "Lucchini", "Half Moon Bay", "12 Ocean Dr."),
    ("Cool Cars", "Cool Cars", "Grace", "Pariente", "Half Moon Bay", "65 Ocean Dr."),
    ("Diego Rodriguez", None, "Diego", "Rodriguez", "Middlefield", "321 Channing"),
    ("Dukes Basketball Camp", "Dukes Basketball Camp", "Peter", "Dukes", "Tucson", "25 Court St."),
    ("Dylan Sollfrank", None, "Dylan", "Sollfrank", "Middlefield", "51 Hill Rd."),
    ("Freeman Sporting Goods", "Freeman Sporting Goods", "Sasha", "Tillou", "Sunnyvale", "370 Easy St."),
    ("Geeta Kalapatapu", None, "Geeta", "Kalapatapu", "Middlefield", "1987 Main St."),
    ("Gevelber Photography", "Gevelber Photography", "Lisa", "Gevelber", "San Mateo", "1103 Cherry Ln."),
    ("Jeff's Jalopies", "Jeff's Jalopies", "Jeff", "Chin", "Middlefield", "12 Willow Rd."),
    ("John Melton", None, "John", "Melton", "Middlefield", "85 Pine St."),
    ("Kate Whelan", None, "Kate", "Whelan", "Menlo Park", "45 First St."),
    ("Kookies by Kathy", "Kookies by Kathy", "Kathy", "Kuplis", "Middlefield", "789 Sugar Lane"),
    ("Mark Cho", None, "Mark", "Cho", "Middlefield", "36 Willow Rd."),
    (
        "Paulsen Medical Supplies",
        "Paulsen Medical Supplies",
        "Kathy",
        "Paulsen",
        "Middlefield",
        "900 Main St.",
    ),
    ("Pye's Cakes", "Pye's Cakes", "Karen", "Pye", "South Orange", "350 Mountain View Dr."),
    ("Rago Travel Agency", "Rago Travel Agency", "Nicola", "Rago", "Bayshore", "753 Cedar Ave."),
    ("Red Rock Diner", "Red Rock Diner", "Stephanie", "Martini", "Bayshore", "500 Red Rock Rd."),
    ("Rondonuwu Fruit and Vegi", "Rondonuwu Fruit and Vegi", "Shara", "Barnett", "Middlefield", "Pine St."),
    ("Shara Barnett", None, "Shara", "Barnett", "Middlefield", "19 Main St."),
    (
        "Sonnenschein Family Store",
        "Sonnenschein Family Store",
        "Russ",
        "Sonnenschein",
        "Middlefield",
        "5647 Cypress Hill Ave.",
    ),
    ("Sushi by Katsuyuki", "Sushi by Katsuyuki", "Katsuyuki", "Yanagawa", "Middlefield", "898 Elm St."),
    ("Travis Waldron", None, "Travis", "Waldron", "Monlo Park", "78 First St."),
    ("Video Games by Dan", "Video Games by Dan", "Dan", "Miller", "Middlefield", "1520 Main St."),
    (
        "Wedding Planning by Whitney",
        "Wedding Planning by Whitney",
        "Whitney",
        "Smith",
        "Middlefield",
        "135 Broadway",
    ),
    ("Weiskopf Consulting", "Weiskopf Consulting", "Nicole", "Weiskopf", "Bayshore", "45612 Main St."),
]

VENDORS = [
    ("A1 HVAC Supply", "A1 HVAC Supply", "Tom", "Archer"),
    ("Bay Area Plumbing Wholesale", "Bay Area Plumbing Wholesale", "Rita", "Gomez"),
    ("Books by Bessie", "Books by Bessie", "Bessie", "Williams"),
    ("Brosnahan Insurance Agency", "Brosnahan Insurance Agency", "Nick", "Brosnahan"),
    ("Cal Telephone", "Cal Telephone", None, None),
    ("Chin's Gas and Oil", "Chin's Gas and Oil", "Lee", "Chin"),
    ("Cigna Health Care", "Cigna Health Care", None, None),
    ("Computers by Jenni", "Computers by Jenni", "Jenni", "Winslow"),
    ("Diego's Road Warrior Bodyshop", "Diego's Road Warrior Bodyshop", "Diego", "Garcia"),
    ("EDD", "Employment Development Department", None, None),
    ("Ellis Equipment Rental", "Ellis Equipment Rental", "Julie", "Ellis"),
    ("Fidelity", "Fidelity", None, None),
    ("Hall Properties", "Hall Properties", "Melanie", "Hall"),
    ("Hicks Hardware", "Hicks Hardware", "Geoff", "Hicks"),
    ("Lee Advertising", "Lee Advertising", "Sam", "Lee"),
    ("Mahoney Mugs", "Mahoney Mugs", "Sean", "Mahoney"),
    ("Met Life Dental", "Met Life Dental", None, None),
    ("National Eye Care", "National Eye Care", None, None),
    ("Norton Lumber and Building Materials", "Norton Lumber and Building Materials", "Jack", "Norton"),
    ("PG&E", "Pacific Gas and Electric", None, None),
    ("Pam Seitz", None, "Pam", "Seitz"),
    ("Robertson & Associates", "Robertson & Associates", "Ross", "Robertson"),
    ("Squeaky Kleen Car Wash", "Squeaky Kleen Car Wash", None, None),
    ("Tania's Nursery", "Tania's Nursery", "Tania", "Nguyen"),
]


RETIRED_CUSTOMERS = (4, 17)  # positions in CUSTOMERS made inactive
RETIRED_VENDORS = (11, 22)
# customers that are more than a name and an address (keyed by DisplayName)
CUSTOMER_EXTRAS = {
    # a second state code: the camp is in Arizona
    "Dukes Basketball Camp": {
        "BillAddr": ("25 Court St.", "Tucson", "AZ", "85701"),
        "ShipAddr": ("25 Court St.", "Tucson", "AZ", "85701"),
    },
    # ships to a yard that is not its billing address
    "Cool Cars": {"ShipAddr": ("1 Harbor Yard Rd.", "Half Moon Bay", "CA", "94019")},
    # buys for resale: tax-exempt with a resale certificate
    "Sonnenschein Family Store": {"TaxExemptionReasonId": 9, "ResaleNum": "SR-2048-77"},
}
# jobs below the top-level customers: (DisplayName, parent DisplayName, BillWithParent, street).
# The first is seeded with each copy of the customers; the others after every copy, so that the
# Ids of the customers (and of the invoices' CustomerRef) stay as they were before they existed.
JOBS = [
    ("Remodel Phase 2", "Weiskopf Consulting", True, None),
    ("Kitchen Cabinets", "Remodel Phase 2", True, None),
    ("Bakery Expansion", "Pye's Cakes", False, "352 Mountain View Dr."),
]
# vendors that report on a 1099, with their tax id (stored in full, read back masked), and accounts
# the company holds with some vendors
VENDOR_EXTRAS = {
    "Pam Seitz": {"Vendor1099": True, "TaxIdentifier": "521-44-7830"},
    "Robertson & Associates": {"Vendor1099": True, "TaxIdentifier": "94-3172650", "AcctNum": "RA-1101"},
    "Hicks Hardware": {"AcctNum": "HH-20931"},
    "Norton Lumber and Building Materials": {"AcctNum": "NL-0457"},
}
# (GivenName, FamilyName, Active, EmployeeNumber, HiredDate, ReleasedDate): names an Odoo
# contact may well carry too, so that QBO's one name space for customers, vendors and employees bites
EMPLOYEES = [
    ("Emily", "Platt", True, None, None, None),
    ("John", "Johnson", True, None, None, None),
    ("Maria", "Garcia", True, "E-103", "2021-04-12", None),
    ("Kevin", "Doyle", False, "E-087", "2019-06-03", "2023-11-30"),
]


def _slug(text):
    return "".join(c for c in text.lower() if c.isalnum())[:20] or "info"


def _addr(street, city, state="CA", postal="94303"):
    return {
        "Line1": street,
        "City": city,
        "CountrySubDivisionCode": state,
        "PostalCode": postal,
        "Country": "USA",
    }


def company_info(name, demo):
    addr = _addr("123 Sierra Way", "San Pablo", "CA", "87999")
    return {
        "CompanyName": name,
        "LegalName": name + (" LLC" if demo else ""),
        "CompanyAddr": addr,
        "CustomerCommunicationAddr": addr,
        "LegalAddr": addr,
        "PrimaryPhone": {"FreeFormNumber": "(650) 555-0142"},
        "Email": {"Address": "office@werx-demo.example" if demo else "owner@example.com"},
        "WebAddr": {"URI": "https://werx-demo.example"} if demo else {},
        "CompanyStartDate": "2019-03-01",
        "FiscalYearStartMonth": "January",
        "Country": "US",
        "SupportedLanguages": "en",
        "DefaultTimeZone": "America/Los_Angeles",
        "NameValue": [
            {"Name": "NeoEnabled", "Value": "true"},
            {"Name": "IndustryType", "Value": "Construction Trades (Plumber, Electrician, HVAC, etc.)"},
            {"Name": "CompanyType", "Value": "SingleMemberLLC"},
            {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
            {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
            {"Name": "PayrollFeature", "Value": "false"},
            {"Name": "ItemCategoriesFeature", "Value": "true"},
        ],
    }


def preferences(demo):
    return {
        "AccountingInfoPrefs": {
            "TrackDepartments": demo,
            "DepartmentTerminology": "Location",
            "ClassTrackingPerTxn": False,
            "ClassTrackingPerTxnLine": demo,
            "CustomerTerminology": "Customers",
            "UseAccountNumbers": demo,
            "BookCloseDate": None,
        },
        "ProductAndServicesPrefs": {
            "ForSales": True,
            "ForPurchase": True,
            "QuantityWithPriceAndRate": True,
            "QuantityOnHand": True,
        },
        "SalesFormsPrefs": {
            "CustomTxnNumbers": False,
            "AllowDiscount": True,
            "AllowDeposit": True,
            "AllowShipping": False,
            "DefaultTerms": None,
            "ETransactionEnabledStatus": "NotApplicable",
        },
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": True},
        "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
        "TimeTrackingPrefs": {"UseServices": True, "WorkWeekStartDate": "Monday"},
        "OtherPrefs": {"NameValue": [{"Name": "SalesFormsPrefs.DefaultCustomerMessage", "Value": ""}]},
    }


class _Seeder:
    def __init__(self, store, realm_id):
        self.store = store
        self.realm = realm_id
        self.co = store.company(realm_id)
        self.ids = {}
        self.not_invoiced = set()  # item Ids the seeded invoices leave out

    def add(self, entity, data, key=None):
        obj = self.store._create(self.co, entity, data)
        self.ids[(entity, key or data.get("Name") or data.get("DisplayName"))] = obj["Id"]
        return obj

    def ref(self, entity, key):
        return {"value": self.ids[(entity, key)]}

    def accounts(self, rows):
        for name, atype, sub, num, parent, balance, active in rows:
            data = {"Name": name, "AccountType": atype, "AccountSubType": sub, "Active": active}
            if num:
                data["AcctNum"] = num
            if parent:
                data["ParentRef"] = self.ref("Account", parent)
            if balance:
                data["OpeningBalance"] = balance
            self.add("Account", data)


def seed_company(store, realm_id, name, seed="demo", scale=1):
    """Fill a fresh company; runs under the store lock with seed-time stamps."""
    with store.lock:
        saved = store.fixed_time
        base = store.clock.time() - SEED_AGE_DAYS * 86400
        store.fixed_time = base
        store.defer_balances = True
        try:
            s = _Seeder(store, realm_id)
            demo = seed == "demo"
            _seed_defaults(s, name, demo)
            if demo:
                _seed_demo(s, max(int(scale or 1), 1))
        finally:
            store.fixed_time = saved
            store.defer_balances = False
        store._recompute_balances(s.co)


def _seed_defaults(s, name, demo):
    s.add("CompanyInfo", company_info(name, demo), "CompanyInfo")
    s.add("Preferences", preferences(demo), "Preferences")
    s.accounts(DEFAULT_ACCOUNTS)
    s.add(
        "TaxCode",
        {
            "Id": "TAX",
            "Name": "TAX",
            "Description": "TAX",
            "Taxable": True,
            "TaxGroup": False,
            "SalesTaxRateList": {"TaxRateDetail": []},
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        },
    )
    s.add(
        "TaxCode",
        {
            "Id": "NON",
            "Name": "NON",
            "Description": "NON",
            "Taxable": False,
            "TaxGroup": False,
            "SalesTaxRateList": {"TaxRateDetail": []},
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        },
    )
    for term in DEFAULT_TERMS:
        s.add("Term", dict(term))
    for pm_name, ptype, _active in DEFAULT_PAYMENT_METHODS:
        s.add("PaymentMethod", {"Name": pm_name, "Type": ptype})
    s.add("Item", {"Name": "Services", "Type": "Service", "IncomeAccountRef": s.ref("Account", "Services")})
    s.add("Item", {"Name": "Hours", "Type": "Service", "IncomeAccountRef": s.ref("Account", "Services")})


def _tick(s, seconds=1):
    s.store.fixed_time += seconds


def _seed_demo(s, scale):
    store = s.store
    s.accounts(DEMO_ACCOUNTS)
    for i in range(2, scale + 1):
        _scaled_accounts(s, i)
    for term in DEMO_TERMS:
        s.add("Term", dict(term))
    for pm_name in ("Discover", "Diners Club"):
        s.co.objects["PaymentMethod"][s.ids[("PaymentMethod", pm_name)]]["Active"] = (
            False  # built-ins, retired
        )

    # classes and locations: a parent, its child, and one retired
    for i in range(1, scale + 1):
        sfx = "" if i == 1 else f" {i:03d}"
        s.add("Class", {"Name": "Residential" + sfx})
        s.add("Class", {"Name": "Commercial" + sfx})
        s.add("Class", {"Name": "Retail" + sfx, "ParentRef": s.ref("Class", "Commercial" + sfx)})
        s.add("Class", {"Name": "Industrial" + sfx, "ParentRef": s.ref("Class", "Commercial" + sfx)})
        s.add("Class", {"Name": "Government" + sfx, "Active": False})
        s.add("Department", {"Name": "North Region" + sfx})
        s.add(
            "Department", {"Name": "Downtown" + sfx, "ParentRef": s.ref("Department", "North Region" + sfx)}
        )
        s.add("Department", {"Name": "South Region" + sfx})
        s.add("Department", {"Name": "Harbor" + sfx, "ParentRef": s.ref("Department", "South Region" + sfx)})
        s.add("Department", {"Name": "Old Warehouse" + sfx, "Active": False})

    # sales tax
    s.add(
        "TaxAgency",
        {
            "DisplayName": "California Department of Tax and Fee Administration",
            "TaxTrackedOnSales": True,
            "TaxTrackedOnPurchases": False,
        },
    )
    agency = {"value": s.ids[("TaxAgency", "California Department of Tax and Fee Administration")]}
    for rate_name, value in (
        ("California State", 7.25),
        ("San Francisco City", 1.375),
        ("Alameda County", 1.5),
        ("Out of State", 0.0),
    ):
        s.add(
            "TaxRate",
            {
                "Name": rate_name,
                "Description": rate_name,
                "RateValue": value,
                "AgencyRef": agency,
                "SpecialTaxType": "NONE",
                "DisplayType": "ReadOnly",
                "EffectiveTaxRate": [{"RateValue": value, "EffectiveDate": "2019-01-01T00:00:00-08:00"}],
            },
        )

    def code(code_name, rates, taxable=True):
        details = [
            {"TaxRateRef": s.ref("TaxRate", r), "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}
            for r in rates
        ]
        s.add(
            "TaxCode",
            {
                "Name": code_name,
                "Description": code_name,
                "Taxable": taxable,
                "TaxGroup": len(rates) > 1,
                "SalesTaxRateList": {"TaxRateDetail": details},
                "PurchaseTaxRateList": {"TaxRateDetail": []},
            },
        )

    code("California", ["California State"])
    code("Combined: State + City", ["California State", "San Francisco City"])
    code("Alameda", ["California State", "Alameda County"])
    code("Out of State", ["Out of State"])

    # items of every kind; some in categories, some with SKUs
    income = {
        n: s.ref("Account", n)
        for n in ("Installation", "Repairs", "Maintenance Contracts", "Sales of Product Income")
    }
    cogs = s.ref("Account", "Cost of Goods Sold")
    asset = s.ref("Account", "Inventory Asset")
    inv_start = (store.today() - timedelta(days=400)).isoformat()
    for i in range(1, scale + 1):
        sfx = "" if i == 1 else f" {i:03d}"
        sku = "" if i == 1 else f"-{i:03d}"
        s.add("Item", {"Name": "Labor" + sfx, "Type": "Category"})
        s.add("Item", {"Name": "Parts" + sfx, "Type": "Category"})
        s.add(
            "Item", {"Name": "Equipment" + sfx, "Type": "Category", "ParentRef": s.ref("Item", "Parts" + sfx)}
        )
        for n, price, acct, parent, item_sku in (
            ("Hourly Labor", 95, "Repairs", "Labor", "LAB-HR"),
            ("Overtime Labor", 142.5, "Repairs", "Labor", None),
            ("Installation Service", 450, "Installation", "Labor", "INST-STD"),
            ("Maintenance Visit", 129, "Maintenance Contracts", None, None),
            ("Annual Service Plan", 399, "Maintenance Contracts", None, "PLAN-YR"),
            ("Emergency Call-out", 195, "Repairs", None, None),
            ("Diagnostic Fee", 89, "Repairs", None, "DIAG"),
        ):
            data = {
                "Name": n + sfx,
                "Type": "Service",
                "UnitPrice": price,
                "IncomeAccountRef": income[acct],
                "Description": n,
                "Taxable": False,
            }
            if parent:
                data["ParentRef"] = s.ref("Item", parent + sfx)
            if item_sku:
                data["Sku"] = item_sku + sku
            s.add("Item", data)
        for n, price, cost, item_sku in (
            ("Air Filter 16x25", 24, 9.5, "FLT-1625"),
            ("Refrigerant R-410A (lb)", 65, 22, None),
            ("Permit Fee", 150, 150, None),
            ("Consumables", 15, 6, "CONS"),
        ):
            data = {
                "Name": n + sfx,
                "Type": "NonInventory",
                "UnitPrice": price,
                "PurchaseCost": cost,
                "IncomeAccountRef": income["Sales of Product Income"],
                "ExpenseAccountRef": cogs,
                "Description": n,
                "Taxable": True,
                "ParentRef": s.ref("Item", "Parts" + sfx),
            }
            if item_sku:
                data["Sku"] = item_sku + sku
            s.add("Item", data)
        for n, price, cost, qty, item_sku in (
            ("Thermostat TX-200", 189, 82, 25, "TX-200"),
            ("Compressor C-5", 1450, 780, 4, "C5-COMP"),
            ("Copper Pipe 10ft", 42, 18, 120, None),
            ("Heat Pump HP-36", 3900, 2450, 2, "HP-36"),
        ):
            data = {
                "Name": n + sfx,
                "Type": "Inventory",
                "UnitPrice": price,
                "PurchaseCost": cost,
                "IncomeAccountRef": income["Sales of Product Income"],
                "ExpenseAccountRef": cogs,
                "AssetAccountRef": asset,
                "TrackQtyOnHand": True,
                "InvStartDate": inv_start,
                "QtyOnHand": qty,
                "Description": n,
                "Taxable": True,
                "ParentRef": s.ref("Item", ("Equipment" if price > 1000 else "Parts") + sfx),
            }
            if item_sku:
                data["Sku"] = item_sku + sku
            s.add("Item", data)
        s.add(
            "Item",
            {
                "Name": "Legacy Service Contract" + sfx,
                "Type": "Service",
                "UnitPrice": 59,
                "IncomeAccountRef": income["Maintenance Contracts"],
                "Active": False,
            },
        )
        # a third level of categories (Parts:Equipment:Heat Pumps) with an item on the fourth
        s.add(
            "Item",
            {"Name": "Heat Pumps" + sfx, "Type": "Category", "ParentRef": s.ref("Item", "Equipment" + sfx)},
        )
        hp48 = s.add(
            "Item",
            {
                "Name": "Heat Pump HP-48" + sfx,
                "Type": "Inventory",
                "Sku": "HP-48" + sku,
                "UnitPrice": 4800,
                "PurchaseCost": 3100,
                "IncomeAccountRef": income["Sales of Product Income"],
                "ExpenseAccountRef": cogs,
                "AssetAccountRef": asset,
                "TrackQtyOnHand": True,
                "InvStartDate": inv_start,
                "QtyOnHand": 1,
                "Description": "Heat Pump HP-48",
                "Taxable": True,
                "ParentRef": s.ref("Item", "Heat Pumps" + sfx),
            },
        )
        s.not_invoiced.add(hp48["Id"])  # one in stock: not sold on the routine demo invoices
        s.add(
            "Item",
            {
                "Name": "Air Filter 20x20" + sfx,
                "Type": "NonInventory",
                "Sku": "FLT-2020" + sku,
                "UnitPrice": 28,
                "PurchaseCost": 11,
                "IncomeAccountRef": income["Sales of Product Income"],
                "ExpenseAccountRef": cogs,
                "Description": "Air Filter 20x20 (size discontinued)",
                "Taxable": True,
                "ParentRef": s.ref("Item", "Parts" + sfx),
                "Active": False,
            },
        )

    # customers and vendors
    term_cycle = ["Net 30", "Net 15", "Due on receipt", "2% 10 Net 30", "Due 15th of next month", "Net 60"]
    for i in range(1, scale + 1):
        sfx = "" if i == 1 else f" ({i:03d})"
        for n, (display, company, given, family, city, street) in enumerate(CUSTOMERS):
            data = {
                "DisplayName": display + sfx,
                "GivenName": given,
                "FamilyName": family,
                "PrimaryEmailAddr": {"Address": f"{_slug(display)}{'' if i == 1 else i}@example.com"},
                "PrimaryPhone": {"FreeFormNumber": f"(650) 555-{1000 + n + i * 37:04d}"},
                "BillAddr": _addr(street, city),
                "ShipAddr": _addr(street, city),
                "SalesTermRef": s.ref("Term", term_cycle[n % len(term_cycle)]),
                "Active": n not in RETIRED_CUSTOMERS,
            }
            if company:
                data["CompanyName"] = company + sfx
                if n % 2 == 0:
                    data["WebAddr"] = {"URI": f"https://www.{_slug(display)}.example"}
            else:
                data["Mobile"] = {"FreeFormNumber": f"(650) 555-{3000 + n + i * 37:04d}"}
            if n % 3 == 0:
                data["DefaultTaxCodeRef"] = s.ref("TaxCode", "California")
            extras = dict(CUSTOMER_EXTRAS.get(display, {}))
            for field in ("BillAddr", "ShipAddr"):
                if field in extras:
                    data[field] = _addr(*extras.pop(field))
            data.update(extras)
            s.add("Customer", data)
        _add_job(s, JOBS[0], sfx)
        for n, (display, company, given, family) in enumerate(VENDORS):
            data = {
                "DisplayName": display + sfx,
                "PrimaryEmailAddr": {"Address": f"ap@{_slug(display)}{'' if i == 1 else i}.example.com"},
                "PrimaryPhone": {"FreeFormNumber": f"(415) 555-{2000 + n + i * 41:04d}"},
                "BillAddr": _addr(f"{100 + n * 7} Commerce Way", "San Francisco", "CA", "94107"),
                "TermRef": s.ref("Term", "Net 30" if n % 2 else "Net 15"),
                "APAccountRef": s.ref("Account", "Accounts Payable (A/P)"),
                "Active": n not in RETIRED_VENDORS,
            }
            if company:
                data["CompanyName"] = company + sfx
            if given:
                data["GivenName"], data["FamilyName"] = given, family
            data.update(VENDOR_EXTRAS.get(display, {}))
            s.add("Vendor", data)
        for given, family, active, number, hired, released in EMPLOYEES:
            data = {"GivenName": given, "FamilyName": family, "Active": active}
            if i > 1:
                data["DisplayName"] = f"{given} {family}{sfx}"
            if given == "Emily" or number:
                mail = f"{given.lower()}{'' if i == 1 else i}@werx-demo.example"
                data["PrimaryEmailAddr"] = {"Address": mail}
            if number:
                data["EmployeeNumber"] = number if i == 1 else f"{number}-{i:03d}"
                data["HiredDate"] = hired
            if released:
                data["ReleasedDate"] = released
            s.add("Employee", data)
    for i in range(1, scale + 1):
        for job in JOBS[1:]:
            _add_job(s, job, "" if i == 1 else f" ({i:03d})")

    _seed_transactions(s, scale)


def _add_job(s, job, sfx):
    display, parent, with_parent, street = job
    parent_obj = s.co.objects["Customer"][s.ids[("Customer", parent + sfx)]]
    data = {
        "DisplayName": display + sfx,
        "CompanyName": parent_obj.get("CompanyName") or parent_obj["DisplayName"],
        "ParentRef": s.ref("Customer", parent + sfx),
        "BillWithParent": with_parent,
    }
    if street:
        data["ShipAddr"] = _addr(street, parent_obj["BillAddr"]["City"])
    s.add("Customer", data)


def _scaled_accounts(s, i):
    """Extra, uniquely named accounts that look like a larger company's job-costing chart."""
    sfx = f" {i:03d}"
    parent_rows = [
        ("Job Costs" + sfx, "Cost of Goods Sold", "SuppliesMaterialsCogs", f"5{i:03d}0"),
        ("Branch Expenses" + sfx, "Expense", "OtherMiscellaneousServiceCost", f"6{i:03d}0"),
        ("Branch Revenue" + sfx, "Income", "ServiceFeeIncome", f"4{i:03d}0"),
    ]
    rows = []
    for name, atype, sub, num in parent_rows:
        rows.append((name, atype, sub, num, None, 0, True))
    children = [
        "Materials",
        "Subcontract",
        "Equipment",
        "Permits",
        "Travel",
        "Supplies",
        "Fuel",
        "Meals",
        "Tools",
        "Training",
        "Phones",
        "Software",
        "Uniforms",
        "Disposal",
        "Rentals",
        "Freight",
        "Warranty",
        "Inspections",
        "Marketing",
        "Misc",
    ]
    for k in range(57 - len(parent_rows)):
        pname, atype, sub, num = parent_rows[k % len(parent_rows)]
        child = f"{children[k % len(children)]} {k // len(children) + 1}"
        acct_num = f"{num[:-1]}{k + 1:02d}" if k % 4 else None
        rows.append((child, atype, sub, acct_num, pname, 0, k % 19 != 7))
    s.accounts(rows)


def _seed_transactions(s, scale):
    store = s.store
    today = store.clock.today()  # invoices are recent even though their records were seeded "long ago"
    customers = [c for c in s.co.objects["Customer"].values() if c.get("Active") and not c.get("Job")]
    items = [
        it
        for it in s.co.objects["Item"].values()
        if it.get("Active")
        and it["Type"] in ("Service", "NonInventory", "Inventory")
        and it["Id"] not in s.not_invoiced
    ]
    methods = ["Check", "Visa", "Cash", "MasterCard", "American Express", "Check"]
    deposit = s.ref("Account", "Business Checking")
    invoices = []
    count = 15 * scale
    for n in range(count):
        cust = customers[(n * 7) % len(customers)]
        txn_date = today - timedelta(days=60 - (n * 53) // max(count, 1))
        lines = []
        for k in range(1 + n % 3):
            item = items[(n * 5 + k * 3) % len(items)]
            qty = 1 + (n + k) % 4
            price = item.get("UnitPrice") or 100
            lines.append(
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": round(qty * price, 2),
                    "Description": item.get("Description") or item["Name"],
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item["Id"]},
                        "Qty": qty,
                        "UnitPrice": price,
                        "TaxCodeRef": {"value": "TAX" if item.get("Taxable") else "NON"},
                    },
                }
            )
        data = {
            "CustomerRef": {"value": cust["Id"]},
            "TxnDate": txn_date.isoformat(),
            "Line": lines,
            "BillEmail": cust.get("PrimaryEmailAddr"),
        }
        if any(ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "TAX" for ln in lines):
            data["TxnTaxDetail"] = {
                "TxnTaxCodeRef": s.ref("TaxCode", "Combined: State + City" if n % 2 else "California")
            }
        if n % 4 == 1:
            data["DepartmentRef"] = s.ref("Department", "Downtown")
        invoices.append(store._create(s.co, "Invoice", data))
        _tick(s, 60)
    # payments: several paid in full, a partial one, one with unapplied credit
    for n, inv in enumerate(invoices):
        if n % 3 == 2:
            continue
        current = s.co.objects["Invoice"][inv["Id"]]
        amount = current["Balance"] if n % 5 else round(current["Balance"] / 2, 2)
        extra = 50.0 if n == 4 else 0.0
        data = {
            "CustomerRef": dict(current["CustomerRef"]),
            "TotalAmt": round(amount + extra, 2),
            "TxnDate": current["TxnDate"],
            "PaymentRefNum": f"{5000 + n}",
            "PaymentMethodRef": s.ref("PaymentMethod", methods[n % len(methods)]),
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        }
        if n % 2:
            data["DepositToAccountRef"] = deposit  # the rest waits in Undeposited Funds
        store._create(s.co, "Payment", data)
        _tick(s, 60)
        if n >= 9 * scale:
            break
