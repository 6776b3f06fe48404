"""Raw HTTP to the emulator, for the tier-1 tests of its entities (fixtures in conftest.py)."""

import requests


class Api:
    """Raw HTTP calls for one realm with a fresh bearer token."""

    def __init__(self, emu):
        self.emu = emu
        self.base = f"{emu.base_url}/v3/company/{emu.realm_id}"
        token = emu.issue_tokens()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.http = requests.Session()

    def get(self, path, **params):
        params.setdefault("minorversion", 75)
        return self.http.get(self.base + path, params=params, headers=self.headers, timeout=10)

    def post(self, path, body, **params):
        params.setdefault("minorversion", 75)
        return self.http.post(self.base + path, params=params, json=body, headers=self.headers, timeout=10)

    @staticmethod
    def ok(response):
        assert response.status_code == 200, response.text
        return response.json()

    @staticmethod
    def fault(response, status=400):
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"Fault", "time"}, body
        return body["Fault"]["Error"][0]

    def create(self, entity, body, **params):
        return self.ok(self.post(f"/{entity.lower()}", body, **params))[entity]

    def read(self, entity, obj_id):
        return self.ok(self.get(f"/{entity.lower()}/{obj_id}"))[entity]

    def sparse(self, entity, obj, **changes):
        body = {"Id": obj["Id"], "SyncToken": obj["SyncToken"], "sparse": True, **changes}
        return self.post(f"/{entity.lower()}", body)

    def query(self, statement):
        return self.ok(self.get("/query", query=statement))["QueryResponse"]

    def item(self, item_id):
        return self.read("Item", item_id)
