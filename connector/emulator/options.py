"""Emulator settings: credentials it accepts and the UNCONFIRMED NetSuite behaviours it can play.

Every behaviour that /work/shared/NETSUITE.md marks UNCONFIRMED is a field of `EmulatorOptions`
so that a user with a sandbox can set the emulator to whatever their account really does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_ACCOUNT = "1234567_SB1"


def host_for_account(account_id: str) -> str:
    """NETSUITE.md §3.1: account `1234567_SB1` -> host `1234567-sb1.suitetalk.api.netsuite.com`."""
    return f"{account_id.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


@dataclass(frozen=True)
class Credentials:
    """What the emulator accepts: TBA keys (§6.1) and an OAuth 2.0 M2M client (§6.2).

    Secrets never appear in repr(); `hint()` is what may be printed.
    """

    account_id: str = DEFAULT_ACCOUNT
    consumer_key: str = "ck-test"
    # Published test values (CONTRACTS.md), not anyone's secrets.
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


@dataclass
class EmulatorOptions:
    """Behaviour switches. Fields marked UNCONFIRMED choose among plausible NetSuite behaviours."""

    credentials: Credentials = TEST_CREDENTIALS
    # §2.3: keep single-use codes per promotion under 500,000 (3rd-party summary of Oracle).
    max_codes_per_promotion: int = 500_000
    # §3.2: create answers 204 + Location; 200 with the record body is UNCONFIRMED.
    create_status: int = 204
    # §2.2 UNCONFIRMED: codePattern + numberToGenerate generate codes on REST create/update.
    generate_on_create: bool = True
    # §2.5 UNCONFIRMED: tranPromotion queryable through REST SuiteQL.
    tranpromotion_queryable: bool = True
    # §2.4 UNCONFIRMED: couponCode.used / usecount readable through SuiteQL.
    couponcode_used_in_suiteql: bool = True
    # §5.3 UNCONFIRMED: NetSuite sending Retry-After with a 429.
    send_retry_after: bool = True
    retry_after_seconds: int = 1
    # §1.6 UNCONFIRMED: error code when deleting a promotion used by a transaction;
    # None lets the delete succeed.
    delete_used_promotion_error: str | None = "USER_ERROR"
    # §1.4 UNCONFIRMED: the form ids of the promotion types.
    allowed_custom_forms: frozenset[int] = frozenset({-10501, -10502, -10503, -10504, -10507})
    # §1.2 UNCONFIRMED: customForm required on create (SuiteScript says so; REST unknown).
    require_custom_form: bool = False
    # §1.4 UNCONFIRMED: useType / customForm cannot change in place.
    immutable_use_type_and_form: bool = True
    # §2.2 UNCONFIRMED: error code for a duplicate code inside one promotion; None allows it.
    duplicate_code_error: str | None = "USER_ERROR"
    # §2.1 UNCONFIRMED: couponCode records only for SINGLEUSE promotions.
    coupon_requires_single_use: bool = True
    # §2.1 UNCONFIRMED: writing used/useCount is rejected (True) or silently ignored (False).
    readonly_field_error: bool = True
    # §3.2/§3.6: batch writes are async jobs; the per-job item cap is UNCONFIRMED.
    async_batch_max_items: int = 1000
    # How many job GETs report "pending" before the job completes (tests polling).
    async_pending_polls: int = 0
    # §5.3: governanceLimits figures (Oracle example: standard tier + 1 SC+ = 15).
    account_concurrency_limit: int = 15
    unallocated_concurrency_limit: int = 10
    # §6.1: stale timestamps (seconds) rejected; nonces remembered for this long.
    oauth_timestamp_window: int = 300
    # §6.2: bearer token life.
    oauth2_token_seconds: int = 3600
    # §6.2: accepted JWT algorithms (RS256 is UNCONFIRMED/legacy, accepted for old clients).
    oauth2_algorithms: tuple[str, ...] = ("PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                                           "RS256")
    # §3.3 UNCONFIRMED (user report): offset must be a multiple of limit.
    offset_multiple_of_limit: bool = False
    # SuiteQL queries stop after this long (Oracle: any REST request times out at 15 min).
    suiteql_timeout_seconds: float = 60.0
    # §5.3 governanceLimits: a limit allocated to this integration (None = accountLimit type).
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
