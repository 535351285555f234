"""The record types the emulator serves, with their fields (NETSUITE.md §1.2, §2.1, §2.5).

Only what promosync touches is modelled: promotionCode, couponCode, customer, salesOrder (a row
of the `transaction` table), and items. Field names are the 2026.1 REST names [Browser-dump].
"""

from __future__ import annotations

from connector.emulator.fields import FieldSpec as F
from connector.emulator.fields import RecordSpec

_BOOL = "boolean"

USE_TYPES = {"SINGLEUSE": "Single Use", "MULTIPLEUSES": "Multiple Uses"}  # §0, §1.2

PROMOTION = RecordSpec(
    key="promotioncode", name="promotionCode", table="promotioncode", ref_name="name",
    fields=(
        F("externalId", "string", "externalid"),
        F("name", "string", "name"),
        F("code", "string", "code"),
        F("codePattern", "string", "codepattern"),
        F("numberToGenerate", "integer", transient=True),
        F("useType", "enum", "usetype", enum=USE_TYPES),
        F("customForm", "form", "customform"),
        F("description", "string", "description"),
        F("isInactive", _BOOL, "isinactive"),
        F("isPublic", _BOOL, "ispublic"),
        F("startDate", "date", "startdate"),
        F("endDate", "date", "enddate"),
        F("discount", "ref", "discount", ref_type="discountitem"),
        F("discountType", "enum", "discounttype", enum={"F": "F", "T": "T"}),
        F("rate", "number", "rate"),
        F("fixedPrice", "number", "fixedprice"),
        F("applyDiscountTo", "enum", "applydiscountto",
          enum={"FIRSTSALE": "First Sale", "ALLSALES": "All Sales"}),
        F("combinationType", "enum", "combinationtype",
          enum={v: v for v in ("COMBINABLE", "GLOBALEXCLUSIVE", "ITEMLINEEXCLUSIVE",
                               "ORDERTYPEEXCLUSIVE", "SHIPPINGTYPEEXCLUSIVE")}),
        F("applyDiscountToType", "enum",
          enum={v: v for v in ("MOSTEXPENSIVEDISCITEM", "CHEAPESTDISCITEM", "EACHDISCITEM")}),
        F("cannotBeCombined", _BOOL), F("canBeAutoApplied", _BOOL),
        F("whatTheCustomerNeedsToBuy", "enum",
          enum={v: v for v in ("ANYTHING", "MINIMUMORDERAMOUNTORSPECIFICITEMS")}),
        F("minimumOrderAmountCheck", _BOOL), F("minimumOrderAmount", "number"),
        F("specificItemsCheck", _BOOL), F("itemQuantifier", "integer"),
        F("repeatDiscount", _BOOL), F("excludeItems", _BOOL), F("displayLineDiscounts", _BOOL),
        F("itemsSavedSearch", "any"), F("discountedItemsSavedSearch", "any"),
        F("audience", "enum", enum={v: v for v in ("EVERYONE", "SPECIFICCUSTOMERS")}),
        F("customers", "any"), F("customerCategory", "any"), F("customerGroup", "any"),
        F("customerGroupPreference", "enum", enum={v: v for v in ("USECACHED", "RUNEACHTIME")}),
        F("useCachedCustomerGroup", _BOOL),
        F("salesChannels", "enum",
          enum={v: v for v in ("ALL", "SPECIFICLOCATIONS", "SPECIFICWEBSITES")}),
        F("location", "any"), F("website", "any"), F("freeShipMethod", "any"),
        F("implementation", "string"), F("partnerCnt", "integer"),
        # §1.3 sublists: nested collections, links unless expandSubResources=true.
        F("items", "sublist"), F("discountedItems", "sublist"), F("currency", "sublist"),
        F("partners", "sublist"),
        F("lastModifiedDate", "datetime", "lastmodifieddate", readonly=True),
    ),
)

COUPON = RecordSpec(
    key="couponcode", name="couponCode", table="couponcode", ref_name="code",
    fields=(
        F("externalId", "string", "externalid"),
        F("code", "string", "code", required=True),  # SOAP schema: code 1..1 (§2.1)
        F("promotion", "ref", "promotion", ref_type="promotioncode", required=True),
        F("recipient", "ref", "recipient", ref_type="customer"),
        F("dateSent", "date", "datesent"),
        # §2.1: used/useCount have "different functionality through REST"; system-set here.
        F("used", _BOOL, "used", readonly=True),
        F("useCount", "integer", "usecount", readonly=True),
        F("lastModifiedDate", "datetime", "lastmodifieddate", readonly=True),
    ),
)

CUSTOMER = RecordSpec(
    key="customer", name="customer", table="customer", ref_name="entityid",
    fields=(
        F("externalId", "string", "externalid"),
        F("entityId", "string", "entityid"),
        F("companyName", "string", "companyname"),
        F("firstName", "string", "firstname"),
        F("lastName", "string", "lastname"),
        F("email", "string", "email"),
        F("isInactive", _BOOL, "isinactive"),
        F("lastModifiedDate", "datetime", "lastmodifieddate", readonly=True),
    ),
)

ORDER_STATUS = {"A": "Pending Approval", "B": "Pending Fulfillment", "C": "Cancelled",
                "D": "Partially Fulfilled", "E": "Pending Billing/Partially Fulfilled",
                "F": "Pending Billing", "G": "Billed", "H": "Closed"}

SALES_ORDER = RecordSpec(
    key="salesorder", name="salesOrder", table='"transaction"', ref_name="tranid",
    fixed=(("type", "SalesOrd"),),
    fields=(
        F("externalId", "string", "externalid"),
        F("tranId", "string", "tranid"),
        F("entity", "ref", "entity", ref_type="customer"),
        F("tranDate", "date", "trandate"),
        F("orderStatus", "enum", "status", enum=ORDER_STATUS),
        F("memo", "string", "memo"),
        # §2.5 option 2: salesOrder body fields couponCode / promoCode.
        F("couponCode", "ref", "couponcode", ref_type="couponcode"),
        F("promoCode", "ref", "promocode", ref_type="promotioncode"),
        F("lastModifiedDate", "datetime", "lastmodifieddate", readonly=True),
    ),
)


def _item(key: str, name: str, item_type: str) -> RecordSpec:
    return RecordSpec(
        key=key, name=name, table="item", ref_name="itemid", fixed=(("itemtype", item_type),),
        fields=(
            F("externalId", "string", "externalid"),
            F("itemId", "string", "itemid"),
            F("displayName", "string", "displayname"),
            F("isInactive", _BOOL, "isinactive"),
            F("lastModifiedDate", "datetime", "lastmodifieddate", readonly=True),
        ),
    )


INVENTORY_ITEM = _item("inventoryitem", "inventoryItem", "InvtPart")
DISCOUNT_ITEM = _item("discountitem", "discountItem", "Discount")

RECORD_TYPES: dict[str, RecordSpec] = {
    s.key: s for s in (PROMOTION, COUPON, CUSTOMER, SALES_ORDER, INVENTORY_ITEM, DISCOUNT_ITEM)
}


def spec_for(type_name: str) -> RecordSpec | None:
    """Record types are case-insensitive in URLs (§1.1: `promotioncode` / `promotionCode`)."""
    return RECORD_TYPES.get(type_name.lower())
