"""The record types the emulator serves, with their fields.

Only what promosync touches is modelled: promotionCode, couponCode, customer, salesOrder (a row
of the `transaction` table, with a subset of its 236 body fields), and items. Field names and
enum values are the 2026.1 REST metadata as public REST API Browser dumps show it (GitHub
wsjmnh/netsuite-record-rest-docs, docs/schemas/*.md); Oracle's pages: promotionCode
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_76112913770.html,
couponCode .../section_19112846600.html.
"""

from __future__ import annotations

from connector.emulator.fields import FieldSpec as F
from connector.emulator.fields import RecordSpec

_BOOL = "boolean"

USE_TYPES = {"SINGLEUSE": "Single Use", "MULTIPLEUSES": "Multiple Uses"}  # not MULTIUSE
IMPLEMENTATIONS = ("default", "CUSTOMSCRIPT_ADVPROMO_BUYX_GETY",
                   "CUSTOMSCRIPT_ADVPROMO_ORDER_SPECIFIC", "CUSTOMSCRIPT_ADVPROMO_ITEM_SPECIFIC")

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
        # Values and labels per account: EmulatorOptions.discount_type_values / _labels.
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
        F("implementation", "enum", enum={v: v for v in IMPLEMENTATIONS}),
        F("partnerCnt", "integer"),
        # Sublists: nested collections, links unless expandSubResources=true.
        F("items", "sublist", line_fields=("item",)),
        F("discountedItems", "sublist", line_fields=("discountedItem",)),
        F("currency", "sublist", line_fields=("currency", "minimumOrderAmount")),
        F("partners", "sublist", line_fields=("partner",)),
        F("lastModifiedDate", "datetime", "lastmodifieddate", readonly=True),
    ),
)

COUPON = RecordSpec(
    key="couponcode", name="couponCode", table="couponcode", ref_name="code",
    fields=(
        F("externalId", "string", "externalid"),
        F("code", "string", "code", required=True),  # SOAP schema: code 1..1
        F("promotion", "ref", "promotion", ref_type="promotioncode", required=True),
        F("recipient", "ref", "recipient", ref_type="customer"),
        F("dateSent", "date", "datesent"),
        # used/useCount have "different functionality through REST" (Oracle); system-set here.
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

# A subset of salesOrder-itemElement (159 fields in the 2026.1 metadata).
ORDER_LINE_FIELDS = ("item", "quantity", "rate", "amount", "description", "price", "units",
                     "taxCode", "isClosed", "line", "location", "department", "class")

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
        # salesOrder body fields couponCode / promoCode and the promotions sublist.
        F("couponCode", "ref", "couponcode", ref_type="couponcode"),
        F("promoCode", "ref", "promocode", ref_type="promotioncode"),
        F("item", "sublist", line_fields=ORDER_LINE_FIELDS),
        F("promotions", "sublist", line_fields=("couponCode", "promoCode")),
        F("customForm", "any"), F("otherRefNum", "string"), F("email", "string"),
        F("location", "any"), F("department", "any"), F("class", "any"),
        F("subsidiary", "any"), F("currency", "any"), F("discountItem", "any"),
        F("discountRate", "number"), F("shipDate", "date"), F("shipMethod", "any"),
        F("startDate", "date"), F("endDate", "date"),
        F("createdDate", "datetime", "createddate", readonly=True),
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
    """Record types are case-insensitive in URLs (Oracle: `promotioncode`; the REST API
    Browser: `promotionCode`)."""
    return RECORD_TYPES.get(type_name.lower())
