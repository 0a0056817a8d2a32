"""getFilters, getVouchers and getBalance: the built-in catalogue and its documented errors."""

from __future__ import annotations

from decimal import Decimal

from bot.simulators.plum_sandbox import SandboxServer
from bot.simulators.plum_sandbox.catalogue import PRODUCTS
from tests.sandbox.conftest import Api


def vouchers(api: Api, **data: object) -> list[dict]:
    r = api.data("getVouchers", {"limit": 100, **data})
    assert r.status_code == 200, r.text
    return r.json()["data"]["getVouchers"]["data"]


def test_catalogue_is_large_and_varied() -> None:
    assert len(PRODUCTS) >= 20
    assert len({p.currency for p in PRODUCTS}) >= 5
    assert len({p.country_code for p in PRODUCTS}) >= 5
    assert any(p.open_value for p in PRODUCTS) and any(not p.open_value for p in PRODUCTS)
    assert any(not p.in_stock for p in PRODUCTS) and any(not p.activated for p in PRODUCTS)


def test_get_vouchers_pages_through_everything(api: Api) -> None:
    first = vouchers(api, limit=10, page=1)
    second = vouchers(api, limit="10", page="2")  # loose types are accepted
    assert len(first) == 10 and len(second) == 10
    assert not {v["productId"] for v in first} & {v["productId"] for v in second}
    assert len(vouchers(api)) == len(PRODUCTS)


def test_fixed_and_open_value_products_are_described(api: Api) -> None:
    by_id = {v["productId"]: v for v in vouchers(api)}
    starbucks = by_id[10004]
    assert starbucks["valueType"] == "fixed_denomination"
    assert starbucks["valueDenominations"] == "10,25,50"
    assert (starbucks["minValue"], starbucks["maxValue"]) == (10, 50)
    amazon = by_id[10002]
    assert amazon["valueType"] == "open_value"
    assert (amazon["minValue"], amazon["maxValue"], amazon["currencyCode"]) == (1, 2000, "USD")


def test_filters_sort_and_product_lists(api: Api) -> None:
    india = vouchers(api, filters=[{"key": "country", "value": "India"}])
    assert india and {v["countryCode"] for v in india} == {"IN"}
    eur = vouchers(api, filters=[{"key": "currencyCode", "value": "EUR"}])
    assert {v["countryCode"] for v in eur} == {"DE", "FR"}
    named = vouchers(api, filters=[{"key": "productName", "value": "starbucks"}])
    assert {v["productId"] for v in named} == {10004, 10005}
    cheap = vouchers(api, filters=[{"key": "maxPrice", "value": "5"}])
    assert all(v["minValue"] <= 5 for v in cheap)
    by_name = vouchers(api, sort={"field": "name", "order": "DESC"})
    names = [v["name"].lower() for v in by_name]
    assert names == sorted(names, reverse=True)
    picked = vouchers(api, includeProducts="10004,10005", excludeProducts=[10005])
    assert [v["productId"] for v in picked] == [10004]


def test_exchange_rate_is_offered_on_request(api: Api) -> None:
    usd = vouchers(api, includeProducts="10004", exchangeRate=1)[0]
    assert usd["exchangeRate"] == 83  # fixed rate, USD -> INR account


def test_get_vouchers_errors(api: Api) -> None:
    none = api.data("getVouchers", {"filters": [{"key": "productName", "value": "zzz"}]})
    assert none.status_code == 404
    assert none.json()["errorId"] == "PLE10030"
    assert none.json()["code"] == "404"
    bad_key = api.data("getVouchers", {"filters": [{"key": "colour", "value": "red"}]})
    assert (bad_key.status_code, bad_key.json()["errorId"]) == (400, "PLE10033")
    bad_value = api.data("getVouchers", {"filters": [{"key": "minPrice", "value": "cheap"}]})
    assert (bad_value.status_code, bad_value.json()["errorId"]) == (400, "PLE10031")
    bad_limit = api.data("getVouchers", {"limit": "ten"})
    assert bad_limit.json()["errorId"] == "PLE10033"


def test_loose_vouchers_variant_sends_strings_and_nulls(api: Api, server: SandboxServer) -> None:
    server.faults.set_variant("vouchers", "loose")
    item = vouchers(api, includeProducts="10004")[0]
    assert item["minValue"] == "10" and item["tatInDays"] == "0"
    assert item["orderQuantityLimit"] is None


def test_get_filters(api: Api) -> None:
    r = api.data("getFilters", {"filterGroupCode": "country"})
    groups = r.json()["data"]["getFilters"]["data"]
    assert [g["filterGroupCode"] for g in groups] == ["country"]
    iso = {f["isoCode"] for f in groups[0]["filters"]}
    assert {"IN", "US", "GB", "DE", "FR", "AE", "SG"} <= iso
    everything = api.data("getFilters").json()["data"]["getFilters"]["data"]
    codes = {g["filterGroupCode"] for g in everything}
    assert codes == {"country", "price", "voucher_category", "product_category", "currency"}
    only = api.data("getFilters", {"filterGroupCode": "currency", "includeFilters": "USD,EUR"})
    values = [f["filterValue"] for f in only.json()["data"]["getFilters"]["data"][0]["filters"]]
    assert values == ["EUR", "USD"]
    unknown = api.data("getFilters", {"filterGroupCode": "colour"})
    assert (unknown.status_code, unknown.json()["errorId"]) == (404, "PLE10029")
    bad = api.data("getFilters", {"includeFilters": {"a": 1}})
    assert bad.json()["errorId"] == "PLE10003"


def test_get_balance(api: Api, server: SandboxServer) -> None:
    body = api.data("getBalance").json()["data"]["getBalance"]
    assert body == {"status": 1, "data": {"value": 100000, "currency": "INR"}}
    server.state.set_balance(Decimal("1234.5"))
    assert api.data("getBalance").json()["data"]["getBalance"]["data"]["value"] == 1234.5


def test_wrong_tag_or_unknown_query_is_a_clear_400(api: Api) -> None:
    wrong_tag = api.post(
        "/v1/oauth/api",
        {"query": "storesAdmin.mutation.sendBalance", "tag": "plumProAPI", "variables": {}},
    )
    assert wrong_tag.status_code == 400
    assert "storeAdmin" in wrong_tag.json()["errorInfo"]
    unknown = api.post("/v1/oauth/api", {"query": "plumProAPI.mutation.nope", "tag": "x"})
    assert unknown.status_code == 400
    assert "nope" in unknown.json()["errorInfo"]
    not_json = api.http.post(
        "/v1/oauth/api", content=b"{", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert not_json.status_code == 400
