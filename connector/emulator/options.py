"""Emulator settings: credentials it accepts and the NetSuite behaviours it can play.

Every behaviour public evidence leaves UNCONFIRMED is a field of `EmulatorOptions`, so that a
user with a sandbox can set the emulator to whatever their account really does. Two sets of
defaults: `EVIDENCE` (the account as public evidence shows it, December 2026:
`evidence_default()`) and `LEGACY` (the emulator's defaults before that evidence: every column
queryable, UTC text dates, no body checks). `EVIDENCE_IS_DEFAULT` chooses which one
`EmulatorOptions()` plays (both sets live in `account_defaults.py`). `profiles.py` names the
other plausible accounts (`VARIANTS`, among them "legacy") and reads account profile files;
`from_profile` plays a profile object (read by `profile_format.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.emulator.account_defaults import EVIDENCE, LEGACY, PROMOTION_FORMS
from connector.emulator.dates import zone
from connector.emulator.profile_format import profile_overrides

DEFAULT_ACCOUNT = "1234567_SB1"


def host_for_account(account_id: str) -> str:
    """Account `1234567_SB1` -> host `1234567-sb1.suitetalk.api.netsuite.com` (Oracle,
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1546938065.html;
    the lower-case, dashed sandbox host as public clients build it)."""
    return f"{account_id.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


@dataclass(frozen=True)
class Credentials:
    """What the emulator accepts: TBA keys and an OAuth 2.0 M2M client (Oracle
    section_1534941295, section_162755359851).

    Secrets never appear in repr(); `hint()` is what may be printed.
    """

    account_id: str = DEFAULT_ACCOUNT
    consumer_key: str = "ck-test"
    # Published test values (printed by `emulator serve`), not anyone's secrets.
    consumer_secret: str = field(default="cs-test-secret", repr=False)
    token_id: str = "tk-test"  # noqa: S105 - a published test value, not a secret
    token_secret: str = field(default="ts-test-secret", repr=False)
    oauth2_client_id: str = "oauth2-client-test"
    # PEM public key that verifies client assertions; None = accept any structurally valid JWT
    # whose `iss` is `oauth2_client_id` (test mode).
    oauth2_public_key_pem: bytes | None = field(default=None, repr=False)

    def hint(self) -> str:
        """Account id and consumer key only: safe to print."""
        return f"account {self.account_id}, consumer key {self.consumer_key}"

    def secret_values(self) -> tuple[str, ...]:
        """Values a recorder must scrub from anything it writes."""
        return (self.consumer_secret, self.token_secret)


TEST_CREDENTIALS = Credentials()



EVIDENCE_IS_DEFAULT = True  # EmulatorOptions() plays the account as public evidence shows it
_D = EVIDENCE if EVIDENCE_IS_DEFAULT else LEGACY


def _fresh(value: Any) -> Any:
    """A copy of a default that callers could mutate (dicts)."""
    return dict(value) if isinstance(value, dict) else value


@dataclass
class EmulatorOptions:
    """Behaviour switches. Fields marked UNCONFIRMED choose among plausible NetSuite behaviours."""

    credentials: Credentials = TEST_CREDENTIALS
    # Public evidence, "500,000 codes per promotion" (Oracle's guidance via a third-party summary).
    max_codes_per_promotion: int = 500_000
    # Create answers 204 + Location (Oracle section_1545141395); 200 with the record body is
    # UNCONFIRMED (the 2026.1 metadata lists 200 and 202 too).
    create_status: int = 204
    # Public evidence, "Code generation through REST": codePattern + numberToGenerate generate codes
    # on create (Oracle's REST sample); on update / upsert UNCONFIRMED.
    generate_on_create: bool = True
    # Public evidence, "Which transactions used a code": tranPromotion through REST SuiteQL is
    # UNCONFIRMED. False answers "Search error occurred: Record 'tranpromotion' was not found."
    tranpromotion_queryable: bool = _D["tranpromotion_queryable"]
    # Public evidence, "couponcode columns": couponcode.used / usecount in SuiteQL UNCONFIRMED.
    couponcode_used_in_suiteql: bool = _D["couponcode_used_in_suiteql"]
    # Public evidence, "promotioncode.customform in SuiteQL" and "couponcode columns":
    # "table.column" names SuiteQL does not know (a query naming one gets "Field 'x' was not
    # found.").
    suiteql_hidden_columns: frozenset[str] = _D["suiteql_hidden_columns"]
    # Tables SuiteQL does not know at all (an account profile can say so).
    suiteql_hidden_tables: frozenset[str] = frozenset()
    # Public evidence, "Dates in SuiteQL output": raw date columns come back as the date alone
    # in the user's date format (tokens YYYY MM M DD D Mon MONTH); None = the stored text
    # 'YYYY-MM-DD HH:MM:SS' as it is.
    date_format: str | None = _D["date_format"]
    # Same evidence: the account's time zone (IANA). Stored and stamped times are its wall time.
    timezone: str = _D["timezone"]
    # Public evidence, "discountType values" (conflicting evidence; F = percent is one weak hint):
    # promosync meaning ("percent", "amount") -> the value NetSuite stores.
    discount_type_values: dict[str, str] = field(
        default_factory=lambda: dict(_D["discount_type_values"]))
    # Same evidence: the refName NetSuite shows for each meaning; None = the value itself.
    discount_type_labels: dict[str, str] | None = field(
        default_factory=lambda: _fresh(_D["discount_type_labels"]))
    # Public evidence, "Metadata catalog": whether the JSON Schema carries enum labels
    # (as "x-ns-enum-labels" on a select field's id schema) - UNCONFIRMED.
    discount_labels_in_metadata: bool = False
    # Select options (Accept: ...; type=select-options) answered with labels - UNCONFIRMED;
    # False answers 400 INVALID_PARAMETER (not supported).
    select_options_offered: bool = False
    # Metadata catalog answers this late (users report it slow: airbytehq/airbyte#55191).
    metadata_catalog_delay_seconds: float = 0.0
    # Metadata catalog answers this 5xx status instead (None = answers normally).
    metadata_catalog_error_status: int | None = None
    # Collection-level batch writes (Prefer: respond-async) offered - UNCONFIRMED per account;
    # when not, they are absent from the OpenAPI paths and answered with the status below
    # (UNCONFIRMED: 405 INVALID_METHOD chosen as NetSuite's answer to an unoffered method).
    async_batch_offered: bool = True
    async_batch_refused_status: int = 405
    # Public evidence, "Async batch size": Oracle article_0127092747, at most 100 records per batch.
    async_batch_max_items: int = _D["async_batch_max_items"]
    # Public evidence, "Metadata catalog" / request bodies: an unknown body field of promotionCode,
    # couponCode or salesOrder is a 400 (NONEXISTENT_FIELD) whatever the validation header.
    strict_body_fields: bool = _D["strict_body_fields"]
    # Public evidence, "External ids" (Oracle section_156334828635): letters, digits, _ and - only.
    strict_external_ids: bool = _D["strict_external_ids"]
    # Public evidence, "Code generation through REST": whether codes are readable as soon as the
    # write returns is UNCONFIRMED; they appear this many seconds after it.
    generation_delay_seconds: float = 0.0
    # Same evidence: a generating write answers this many seconds per 100,000 codes after it was
    # applied (for client time-out tests; Oracle: a REST request times out after 15 minutes).
    generation_seconds_per_100k: float = 0.0
    # Public evidence, "Pushing a local redemption": a salesOrder needs entity and item lines
    # (Oracle section_159795372138).
    sales_order_requires_lines: bool = _D["sales_order_requires_lines"]
    # Same evidence: whether a coupon code set on a salesOrder consumes it - UNCONFIRMED.
    sales_order_consumes_code: bool = True
    # Retry-After with a 429: UNCONFIRMED (no source shows NetSuite sending it).
    send_retry_after: bool = True
    retry_after_seconds: int = 1
    # Error code when deleting a promotion used by a transaction: UNCONFIRMED; None lets the
    # delete succeed.
    delete_used_promotion_error: str | None = "USER_ERROR"
    # The form ids of the promotion types (confirmed by Oracle section_76112913770).
    allowed_custom_forms: frozenset[int] = PROMOTION_FORMS
    # customForm required on create: UNCONFIRMED (SuiteScript says so; REST unknown).
    require_custom_form: bool = False
    # useType / customForm cannot change in place (Oracle section_76112913770: "Do not use
    # customForm to try to change the promotion type"); the exact error is UNCONFIRMED.
    immutable_use_type_and_form: bool = True
    # Error code for a duplicate code inside one promotion: UNCONFIRMED; None allows it.
    duplicate_code_error: str | None = "USER_ERROR"
    # couponCode records only for SINGLEUSE promotions: UNCONFIRMED.
    coupon_requires_single_use: bool = True
    # Writing used/useCount ("different functionality through REST", Oracle
    # section_19112846600) is rejected (True) or silently ignored (False): UNCONFIRMED.
    readonly_field_error: bool = True
    # How many job GETs report "pending" before the job completes (tests polling).
    async_pending_polls: int = 0
    # governanceLimits figures (Oracle section_1525253248: standard tier + 1 SC+ = 15).
    account_concurrency_limit: int = 15
    unallocated_concurrency_limit: int = 10
    # Stale OAuth 1.0 timestamps (seconds) rejected; nonces remembered for this long.
    oauth_timestamp_window: int = 300
    # OAuth 2.0 bearer token life (Oracle article_0907013045: about an hour).
    oauth2_token_seconds: int = 3600
    # Accepted JWT algorithms (Oracle section_162790605110; RS256 is UNCONFIRMED/legacy).
    oauth2_algorithms: tuple[str, ...] = ("PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                                           "RS256")
    # Offset must be a multiple of limit: UNCONFIRMED (user report, ehmad11/netsuite-rest#25).
    offset_multiple_of_limit: bool = False
    # SuiteQL queries stop after this long (Oracle: any REST request times out at 15 min).
    suiteql_timeout_seconds: float = 60.0
    # governanceLimits: a limit allocated to this integration (None = accountLimit type).
    integration_concurrency_limit: int | None = None
    # Seed of the random source used for fault decisions (deterministic tests).
    seed: int = 0
    # Faults at start: fixed latency, random extra latency, error and drop rates.
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_drop: float = 0.0
    concurrency_limit: int | None = None
    # Fixtures directory with the response templates; None = the repository's fixtures/netsuite.
    fixtures_dir: str | None = None

    def __post_init__(self) -> None:
        zone(self.timezone)  # ValueError now, not on the first request
        values = self.discount_type_values
        if set(values) != {"percent", "amount"} or values["percent"] == values["amount"]:
            raise ValueError("discount_type_values maps 'percent' and 'amount' to two "
                             f"different values, not {values!r}")
        for name in self.suiteql_hidden_columns:
            if name.count(".") != 1:
                raise ValueError(f"suiteql_hidden_columns holds 'table.column' names: {name!r}")

    @classmethod
    def evidence_default(cls, **overrides: Any) -> EmulatorOptions:
        """The account as public evidence shows it, with `overrides` on top."""
        values = {k: _fresh(v) for k, v in EVIDENCE.items()}
        values.update(overrides)
        return cls(**values)

    @classmethod
    def from_profile(cls, data: Any, **overrides: Any) -> EmulatorOptions:
        """The account an account-profile object describes (see `profiles.py`); what it does
        not know plays the evidence default. ValueError (one line) when it is not a profile."""
        return cls.evidence_default(**{**profile_overrides(data), **overrides})

    def discount_value_meanings(self) -> dict[str, str]:
        """NetSuite discountType value -> "percent" | "amount"."""
        return {v: k for k, v in self.discount_type_values.items()}

    def discount_label(self, value: str) -> str:
        """The refName NetSuite shows for a discountType value."""
        meaning = self.discount_value_meanings().get(value)
        labels = self.discount_type_labels
        if labels is None or meaning is None:
            return value
        return labels.get(meaning, value)

    def column_hidden(self, table: str, column: str) -> bool:
        """Whether SuiteQL does not know `table.column` (both lower case)."""
        if table == "couponcode" and column in ("used", "usecount") and \
                not self.couponcode_used_in_suiteql:
            return True
        return f"{table}.{column}" in self.suiteql_hidden_columns

    def table_hidden(self, table: str) -> bool:
        return table in self.suiteql_hidden_tables or (
            table == "tranpromotion" and not self.tranpromotion_queryable)
