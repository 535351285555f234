-- promosync: scan and payment on the PostgreSQL server (schema versions 2, 5 and 6). Called by
-- connector/redeem/server_functions.py; promosync_scan and promosync_refusal repeat
-- connector/redeem/checks.py's R13 checks in the order of connector/redeem/rules.py's table
-- (tests/redeem/test_rule_order.py reads this file to hold them to it), promosync_stacked
-- discount.py's arithmetic, and promosync_pay commit.py's counters. A scan and a payment are one call each, where the Python path takes
-- five round trips and eleven statements: with 16 registers on two cores the costs of each
-- statement and round trip, not the statements' own work, set the rate.
--
-- A function returns what Python needs to finish, or {"slow": why} for a case the Python path
-- handles (an unknown or closed transaction, holds whose time ran out, a custom code format,
-- discounts only Python can work out): nothing has been written then. Refusals come back as
-- {"rule": a key of rules.py's table, "state": ..., "code_id": ...}; Python turns them into
-- the R13/R14 errors, messages and details, so no message text lives here. The kinds of the
-- history lines written here are models.EventKind's (a test checks each against it).

-- A transaction's holds are found by ix_sale_codes_sale. Their state tests are written
-- "(...) IS TRUE" so that no plan reads them through ix_sale_codes_hold (state, expires_at)
-- instead: before the first ANALYZE of a busy store, a plan that did read every held code of
-- every register, at each call.
--
-- Every statement a function runs costs its executor's start and end, so each one reads a
-- code's facts once (promosync_code_facts, passed on as a row) and keeps its work in few
-- statements.

-- A code with its promotion's terms and dates: the names of checks.CODE_COLUMNS. Its group's
-- dates and limits (g_*) are NULL here and filled by promosync_grouped when the code has a
-- group: most codes have none, and two more joins in every read cost more than this.
CREATE OR REPLACE VIEW promosync_code_facts AS
SELECT codes.id, codes.code, codes.customer_id, codes.amount, codes.starts_on, codes.expires_on,
       codes.max_uses, codes.max_uses_per_customer, codes.use_count, codes.state,
       codes.group_id, codes.promotion_id, p.name AS promotion, p.kind, p.discount_type,
       p.rate, p.min_order, p.items, p.discount_item, p.start_date AS p_start,
       p.end_date AS p_end, p.deleted_at, p.use_type, p.audience,
       NULL::date AS g_start, NULL::date AS g_end, NULL::integer AS g_max,
       NULL::integer AS g_max_pc, NULL::integer AS g_count
  FROM codes
  LEFT JOIN promotions p ON p.id = codes.promotion_id;

-- The code's facts with its group's dates and usage limits (checks.CODE_COLUMNS' g_*).
CREATE OR REPLACE FUNCTION promosync_grouped(c promosync_code_facts)
RETURNS promosync_code_facts LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT g.start_date, g.end_date, gl.max_uses, gl.max_uses_per_customer, gl.use_count
      INTO c.g_start, c.g_end, c.g_max, c.g_max_pc, c.g_count
      FROM coupon_groups g LEFT JOIN group_limits gl ON gl.group_id = g.id
     WHERE g.id = c.group_id;
    RETURN c;
END $$;

-- The R13 checks after "unknown code", in their order: R19, promotion, already scanned (scan
-- only: p_scan_sale), dates, used, customer. NULL when the code may be used.
CREATE OR REPLACE FUNCTION promosync_refusal(
    c promosync_code_facts, p_customer bigint, p_today date, p_single_use boolean,
    p_scan_sale text
) RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    c_uses integer;
    gc_uses integer;
    g_listed boolean;
    g_allows boolean;
    p_listed boolean;
    p_allows boolean;
BEGIN
    -- checks.check_promotion
    IF NOT p_single_use AND (c.use_type = 'single_use' OR c.max_uses = 1) THEN
        RETURN json_build_object('rule', 'single_use_off', 'code_id', c.id);
    END IF;
    IF c.promotion IS NULL OR c.deleted_at IS NOT NULL THEN
        RETURN json_build_object('rule', 'promotion', 'code_id', c.id);
    END IF;
    -- Register._scan: already on this transaction
    IF p_scan_sale IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM sale_codes
                    WHERE sale_id = p_scan_sale AND code_id = c.id
                      AND (state IN ('held', 'expired')) IS TRUE) THEN
            RETURN json_build_object('rule', 'scanned', 'code_id', c.id);
        END IF;
    END IF;
    -- checks.check_dates: a code's own dates replace its group's; the promotion's apply too
    IF p_today > COALESCE(c.expires_on, c.g_end) OR p_today > c.p_end THEN
        RETURN json_build_object('rule', 'expired', 'code_id', c.id);
    END IF;
    IF p_today < COALESCE(c.starts_on, c.g_start) OR p_today < c.p_start THEN
        RETURN json_build_object('rule', 'not_yet_valid', 'code_id', c.id);
    END IF;
    -- checks.customer_facts: read only when a check needs them
    IF c.max_uses_per_customer IS NOT NULL OR c.g_max_pc IS NOT NULL
       OR c.group_id IS NOT NULL OR c.audience = 'specific' THEN
        SELECT (SELECT uses FROM code_customer_uses
                 WHERE code_id = c.id AND customer_id = p_customer),
               (SELECT uses FROM group_customer_uses
                 WHERE group_id = c.group_id AND customer_id = p_customer),
               EXISTS (SELECT 1 FROM group_customers WHERE group_id = c.group_id),
               EXISTS (SELECT 1 FROM group_customers
                        WHERE group_id = c.group_id AND customer_id = p_customer),
               EXISTS (SELECT 1 FROM promotion_customers WHERE promotion_id = c.promotion_id),
               EXISTS (SELECT 1 FROM promotion_customers
                        WHERE promotion_id = c.promotion_id AND customer_id = p_customer)
          INTO c_uses, gc_uses, g_listed, g_allows, p_listed, p_allows;
    END IF;
    -- checks.check_used
    IF c.state <> 'active' OR (c.max_uses IS NOT NULL AND c.use_count >= c.max_uses) THEN
        RETURN json_build_object('rule', 'used', 'code_id', c.id, 'state', c.state);
    END IF;
    IF c.g_max IS NOT NULL AND COALESCE(c.g_count, 0) >= c.g_max THEN
        RETURN json_build_object('rule', 'group_limit', 'code_id', c.id);
    END IF;
    IF p_customer IS NOT NULL THEN
        IF c.max_uses_per_customer IS NOT NULL
           AND COALESCE(c_uses, 0) >= c.max_uses_per_customer THEN
            RETURN json_build_object('rule', 'customer_limit', 'code_id', c.id);
        END IF;
        IF c.g_max_pc IS NOT NULL AND COALESCE(gc_uses, 0) >= c.g_max_pc THEN
            RETURN json_build_object('rule', 'group_customer_limit', 'code_id', c.id);
        END IF;
    END IF;
    -- checks.check_customer
    IF c.customer_id IS NOT NULL THEN
        IF p_customer IS DISTINCT FROM c.customer_id THEN
            RETURN json_build_object('rule', 'other_customer', 'code_id', c.id);
        END IF;
        RETURN NULL;
    END IF;
    IF (c.max_uses_per_customer IS NOT NULL OR c.g_max_pc IS NOT NULL) AND p_customer IS NULL THEN
        RETURN json_build_object('rule', 'needs_customer', 'code_id', c.id);
    END IF;
    IF c.group_id IS NOT NULL AND g_listed AND NOT g_allows THEN
        RETURN json_build_object('rule', 'group_customers', 'code_id', c.id);
    END IF;
    IF c.audience = 'specific' AND p_listed AND NOT p_allows THEN
        RETURN json_build_object('rule', 'promotion_customers', 'code_id', c.id);
    END IF;
    RETURN NULL;
END $$;

-- A code's terms as promosync_stacked and Python's checks.terms_of read them, and what the
-- register shows of it (sales.held_code).
CREATE OR REPLACE FUNCTION promosync_terms(c promosync_code_facts) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id, 'code', c.code, 'amount', c.amount, 'expires_on', c.expires_on,
        'g_end', c.g_end, 'promotion', c.promotion, 'kind', c.kind,
        'discount_type', c.discount_type, 'rate', c.rate, 'min_order', c.min_order,
        'items', c.items, 'discount_item', c.discount_item)
$$;

-- What each code of a transaction gives, in scan order, stacked (discount.stacked, R15/R16):
-- p_terms as promosync_terms gives them, p_lines the transaction's lines. The same
-- arithmetic on exact decimals, rounded half up to cents where Python rounds. NULL when Python
-- must decide: an unknown promotion kind, or an item name that is not ASCII where names are
-- compared (Python's and the server's upper() agree on ASCII only).
-- tests/redeem/test_server_path.py compares the two.
CREATE OR REPLACE FUNCTION promosync_stacked(p_terms json, p_lines json, p_shipping numeric)
RETURNS numeric[] LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    t json;
    kind text;
    subtotal numeric;
    ascii_lines boolean;
    remaining numeric;
    pct boolean;
    rate numeric;
    items text[];
    gift text;
    base numeric;
    gives numeric;
    code_gives numeric;
    given numeric;
    result numeric[] := '{}';
BEGIN
    SELECT COALESCE(sum((l->>'amount')::numeric), 0),
           COALESCE(bool_and(octet_length(l->>'item') = char_length(l->>'item')), true)
      INTO subtotal, ascii_lines
      FROM json_array_elements(p_lines) AS l;
    remaining := subtotal + p_shipping;
    FOR i IN 0 .. json_array_length(p_terms) - 1 LOOP
        t := p_terms -> i;
        kind := t->>'kind';
        pct := t->>'discount_type' = 'percent';
        rate := (t->>'rate')::numeric;
        code_gives := 0;
        IF t->>'min_order' IS NULL OR subtotal >= (t->>'min_order')::numeric THEN
            -- discount._base_and_promotion
            IF kind = 'order' THEN
                base := subtotal;
                gives := CASE WHEN pct THEN base * rate / 100 ELSE LEAST(rate, base) END;
            ELSIF kind = 'shipping' THEN
                base := p_shipping;
                gives := CASE WHEN pct THEN base * rate / 100 ELSE LEAST(rate, base) END;
            ELSIF kind IN ('item', 'fixed_price', 'free_gift') THEN
                items := ARRAY(SELECT x FROM json_array_elements_text(
                    CASE WHEN json_typeof(t->'items') = 'array' THEN t->'items' END) x);
                gift := COALESCE(NULLIF(t->>'discount_item', ''), items[1], '');
                IF NOT ascii_lines OR octet_length(array_to_string(items, '') || gift)
                                      <> char_length(array_to_string(items, '') || gift) THEN
                    RETURN NULL;
                END IF;
                IF kind = 'free_gift' THEN
                    SELECT COALESCE(max((l->>'amount')::numeric
                                        / COALESCE((l->>'quantity')::integer, 1)), 0)
                      INTO base
                      FROM json_array_elements(p_lines) AS l
                     WHERE upper(l->>'item') = upper(gift);
                    gives := base;
                ELSE
                    SELECT COALESCE(sum(q.amount), 0),
                           COALESCE(sum(CASE
                               WHEN kind = 'fixed_price'
                                   THEN GREATEST(q.amount - rate * q.quantity, 0)
                               WHEN pct THEN 0
                               ELSE LEAST(rate * q.quantity, q.amount) END), 0)
                      INTO base, gives
                      FROM (SELECT (l->>'amount')::numeric AS amount,
                                   COALESCE((l->>'quantity')::integer, 1) AS quantity
                              FROM json_array_elements(p_lines) AS l
                             WHERE cardinality(items) = 0
                                OR upper(l->>'item') IN (SELECT upper(x) FROM unnest(items) x)) q;
                    IF kind = 'item' AND pct THEN
                        gives := base * rate / 100;
                    END IF;
                END IF;
            ELSE
                RETURN NULL;
            END IF;
            -- discount.code_discount
            IF base > 0 THEN
                IF (t->>'amount')::numeric > 0 THEN
                    gives := LEAST((t->>'amount')::numeric, base);
                END IF;
                code_gives := round(GREATEST(gives, 0), 2);
            END IF;
        END IF;
        given := LEAST(code_gives, remaining);
        result := result || round(given, 2);
        remaining := remaining - given;
    END LOOP;
    RETURN result;
END $$;

-- Register.scan: R13's checks in order, then the hold and its history line. The reply is the
-- code as the register shows it, and what it gives on the cart so far.
CREATE OR REPLACE FUNCTION promosync_scan(
    p_sale text, p_code text, p_now timestamp, p_today date, p_until timestamp, p_source text
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    s record;
    fmt text;
    c promosync_code_facts;
    refusal json;
    pending json[];
    stale boolean;
    given numeric[];
BEGIN
    SELECT sales.id, sales.mode, sales.state, sales.customer_id, sales.lines, sales.shipping,
           (SELECT value FROM store_settings WHERE key = 'single_use_format') AS fmt,
           COALESCE((SELECT value FROM store_settings WHERE key = 'single_use_codes'), 'on')
               = 'on' AS single_use
      INTO s
      FROM sales WHERE id = p_sale FOR UPDATE;
    IF NOT FOUND OR s.state <> 'open' THEN
        RETURN json_build_object('slow', 'transaction unknown or not open');
    END IF;
    -- the codes already on the transaction, read once the lock is ours: a scan of the same
    -- transaction that held it may have added one
    SELECT COALESCE(array_agg(promosync_terms(v) ORDER BY sc.id), '{}'),
           COALESCE(bool_or(sc.state = 'held' AND sc.expires_at < p_now), false)
      INTO pending, stale
      FROM sale_codes sc JOIN promosync_code_facts v ON v.id = sc.code_id
     WHERE sc.sale_id = p_sale AND (sc.state IN ('held', 'expired')) IS TRUE;
    IF stale THEN
        RETURN json_build_object('slow', 'holds to expire');
    END IF;
    fmt := lower(btrim(COALESCE(s.fmt, 'any'), E' \t\n\r\f\v'));
    IF fmt NOT IN ('', 'any', 'su') THEN
        RETURN json_build_object('slow', 'custom code format');
    END IF;
    IF s.mode <> 'normal' THEN
        RETURN json_build_object('rule', 'mode');
    END IF;
    -- checks.ANY_CODE and checks.SU_CODE, matched whole
    IF p_code !~ (CASE WHEN fmt = 'su' THEN '^SU-[A-Z0-9]{16}$' ELSE '^[-A-Z0-9._]{1,64}$' END)
    THEN
        RETURN json_build_object('rule', 'format');
    END IF;
    SELECT * INTO c FROM promosync_code_facts WHERE code = p_code;
    IF NOT FOUND THEN
        RETURN json_build_object('rule', 'unknown');
    END IF;
    IF c.group_id IS NOT NULL THEN
        c := promosync_grouped(c);
    END IF;
    -- with no code on the transaction yet, this one cannot be on it already
    refusal := promosync_refusal(c, s.customer_id, p_today, s.single_use,
                                 CASE WHEN cardinality(pending) > 0 THEN p_sale END);
    IF refusal IS NOT NULL THEN  -- Python writes its history line ("refused")
        RETURN (refusal::jsonb || jsonb_build_object('customer', s.customer_id))::json;
    END IF;
    -- what it gives, stacked after the codes already on the transaction
    given := promosync_stacked(array_to_json(pending || promosync_terms(c)), s.lines,
                               s.shipping::numeric);
    IF given IS NULL THEN
        RETURN json_build_object('slow', 'discounts that Python works out');
    END IF;
    WITH hold AS (
        INSERT INTO sale_codes (sale_id, code_id, state, auto, held_at, expires_at)
        VALUES (p_sale, c.id, 'held', false, p_now, p_until))
    INSERT INTO code_events (code_id, kind, at, source, transaction_ref, customer_id)
    VALUES (c.id, 'reserved', p_now, p_source, p_sale, s.customer_id);
    RETURN json_build_object(
        'held', promosync_terms(c), 'discount', given[cardinality(given)]::text);
END $$;

-- Register.pay in one call (R14, R16, R2, R3): lock the transaction, check every pending code
-- again, work out the discounts, take one use of each code that gives something (commit.py's
-- conditional counters, in commit.counters' order: by table, key, then place), and write the
-- outcome. A code that fails its checks comes back as "lost" with nothing written; a counter
-- that refuses raises SQLSTATE PSL01 (its code in DETAIL, as JSON), so that the statement,
-- and with it the whole payment, is rolled back.
CREATE OR REPLACE FUNCTION promosync_pay(
    p_sale text, p_now timestamp, p_today date, p_source text, p_zero_reason text
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    s record;
    h record;
    c promosync_code_facts;
    refusal json;
    lost json;
    holds bigint[] := '{}';  -- the pending codes: their holds, facts and terms, in scan order
    facts promosync_code_facts[] := '{}';
    terms json[] := '{}';
    codes text[] := '{}';
    f promosync_code_facts;
    given numeric[];
    taken integer[] := '{}';  -- places in the lists above of the codes that give something
    counters bigint[] := '{}';  -- the counters to take, a row each: kind, key, place, limit
    lost_at integer;
    total numeric := 0;
BEGIN
    SELECT sales.id, sales.mode, sales.state, sales.customer_id, sales.lines, sales.shipping,
           customers.code AS customer_code,
           COALESCE((SELECT value FROM store_settings WHERE key = 'single_use_codes'), 'on')
               = 'on' AS single_use
      INTO s
      FROM sales LEFT JOIN customers ON customers.id = sales.customer_id
     WHERE sales.id = p_sale
       FOR UPDATE OF sales;
    IF NOT FOUND OR s.state <> 'open' THEN
        RETURN json_build_object('slow', 'transaction unknown or not open');
    END IF;
    -- the pending codes, in scan order, checked again (pay._recheck)
    FOR h IN SELECT sc.id AS hold_id, sc.state AS hold_state, sc.expires_at AS hold_until,
                    v AS facts
               FROM sale_codes sc JOIN promosync_code_facts v ON v.id = sc.code_id
              WHERE sc.sale_id = p_sale AND (sc.state IN ('held', 'expired')) IS TRUE
              ORDER BY sc.id
    LOOP
        c := h.facts;
        IF c.group_id IS NOT NULL THEN
            c := promosync_grouped(c);
        END IF;
        IF h.hold_state = 'expired' OR h.hold_until < p_now THEN
            lost := json_build_object('id', c.id, 'code', c.code, 'rule', 'hold_expired');
        ELSIF s.mode <> 'normal' THEN
            lost := json_build_object('id', c.id, 'code', c.code, 'rule', 'mode');
        ELSE
            refusal := promosync_refusal(c, s.customer_id, p_today, s.single_use, NULL);
            IF refusal IS NOT NULL THEN
                lost := json_build_object('id', c.id, 'code', c.code, 'rule', refusal->>'rule');
            END IF;
        END IF;
        IF lost IS NOT NULL THEN
            RETURN json_build_object(
                'sale', json_build_object('id', s.id, 'customer_id', s.customer_id),
                'lost', lost);
        END IF;
        holds := holds || h.hold_id;
        facts := facts || c;
        terms := terms || promosync_terms(c);
        codes := codes || c.code;
    END LOOP;
    given := promosync_stacked(array_to_json(terms), s.lines, s.shipping::numeric);
    IF given IS NULL THEN
        RETURN json_build_object('slow', 'discounts that Python works out');
    END IF;
    FOR i IN 1 .. cardinality(given) LOOP
        IF given[i] > 0 THEN
            taken := taken || i;
        END IF;
    END LOOP;
    -- commit.counters: each taken code's counters, by kind, then key, then place
    FOR i IN 1 .. cardinality(taken) LOOP
        f := facts[taken[i]];
        counters := counters || ARRAY[[0, f.id, i, NULL]];
        IF f.max_uses_per_customer IS NOT NULL AND s.customer_id IS NOT NULL THEN
            counters := counters || ARRAY[[1, f.id, i, f.max_uses_per_customer]];
        END IF;
        IF f.g_count IS NOT NULL THEN  -- the group has a limits row
            counters := counters || ARRAY[[2, f.group_id, i, NULL]];
            IF f.g_max_pc IS NOT NULL AND s.customer_id IS NOT NULL THEN
                counters := counters || ARRAY[[3, f.group_id, i, f.g_max_pc]];
            END IF;
        END IF;
    END LOOP;
    IF cardinality(taken) > 1 THEN  -- one code's counters are in order already
        SELECT array_agg(ARRAY[counters[n][1], counters[n][2], counters[n][3], counters[n][4]]
                         ORDER BY counters[n][1], counters[n][2], counters[n][3])
          INTO counters
          FROM generate_subscripts(counters, 1) AS n;
    END IF;
    FOR i IN 1 .. COALESCE(array_length(counters, 1), 0) LOOP
        IF counters[i][1] = 0 THEN
            UPDATE codes
               SET use_count = use_count + 1,
                   state = CASE WHEN max_uses IS NOT NULL AND use_count + 1 >= max_uses
                                THEN 'redeemed' ELSE state END
             WHERE id = counters[i][2] AND state = 'active'
               AND (max_uses IS NULL OR use_count < max_uses)
               AND (expires_on IS NULL OR expires_on >= p_today)
               AND (starts_on IS NULL OR starts_on <= p_today);
        ELSIF counters[i][1] = 1 THEN
            INSERT INTO code_customer_uses AS u (code_id, customer_id, uses)
            VALUES (counters[i][2], s.customer_id, 1)
            ON CONFLICT (code_id, customer_id) DO UPDATE SET uses = u.uses + 1
             WHERE u.uses < counters[i][4];
        ELSIF counters[i][1] = 2 THEN
            UPDATE group_limits SET use_count = use_count + 1
             WHERE group_id = counters[i][2] AND (max_uses IS NULL OR use_count < max_uses);
        ELSE
            INSERT INTO group_customer_uses AS u (group_id, customer_id, uses)
            VALUES (counters[i][2], s.customer_id, 1)
            ON CONFLICT (group_id, customer_id) DO UPDATE SET uses = u.uses + 1
             WHERE u.uses < counters[i][4];
        END IF;
        -- commit.first_lost: of the refused counters, the first place, then the first kind
        IF NOT FOUND AND (lost_at IS NULL OR (counters[i][3], counters[i][1])
                                             < (counters[lost_at][3], counters[lost_at][1])) THEN
            lost_at := i;
        END IF;
    END LOOP;
    IF lost_at IS NOT NULL THEN
        f := facts[taken[counters[lost_at][3]]];
        RAISE EXCEPTION 'promosync: a code of the payment could not be taken'
              USING ERRCODE = 'PSL01', DETAIL = json_build_object(
                  'id', f.id, 'code', f.code, 'kind', counters[lost_at][1],
                  'customer_id', s.customer_id)::text;
    END IF;
    FOR i IN 1 .. cardinality(holds) LOOP
        WITH outcome AS (
            UPDATE sale_codes
               SET state = CASE WHEN given[i] > 0 THEN 'committed' ELSE 'unused' END,
                   discount = CASE WHEN given[i] > 0 THEN given[i]::text ELSE '0' END
             WHERE id = holds[i])
        INSERT INTO code_events (code_id, kind, at, source, transaction_ref, customer_id, detail)
        VALUES ((facts[i]).id, CASE WHEN given[i] > 0 THEN 'redeemed' ELSE 'released' END, p_now,
                p_source, p_sale, s.customer_id,
                CASE WHEN given[i] > 0 THEN 'discount ' || given[i]::text ELSE p_zero_reason END);
        IF given[i] > 0 THEN
            total := total + given[i];
        END IF;
    END LOOP;
    UPDATE sales SET state = 'paid', paid_at = p_now, discount = round(total, 2)::text
     WHERE id = p_sale;
    RETURN json_build_object(
        'sale', json_build_object('id', s.id, 'customer_code', s.customer_code),
        'codes', to_json(codes), 'given', to_json(given::text[]),
        'total', round(total, 2)::text);
END $$;

-- An Idempotency-Key (R41) claimed in the same call as the scan or payment it guards (schema
-- version 6; connector/serve/idempotency.py): a keyed scan or payment of `promosync serve` is
-- one round trip and one commit, where claiming the key, doing the work and keeping the answer
-- took three. promosync_keyed_scan and promosync_keyed_pay claim the key and, when it is
-- theirs, call promosync_scan or promosync_pay. When the work is done (a held code, a
-- payment), they keep its reply with the answer's status under the key, in the same
-- transaction, as {"promosync_reply": ...}: Python renders the answer from it, the first time
-- and at every replay alike. Any other outcome (a refusal, a case left to Python) keeps the
-- key claimed and unanswered ({"claimed": true}): the caller does the work its own way and
-- stores the answer as it always did. A key held already comes back as {"taken": its row},
-- null when that row is not visible yet.
CREATE OR REPLACE FUNCTION promosync_key_claim(
    p_api_key bigint, p_key text, p_print text, p_created timestamp
) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO idempotency_keys (api_key_id, key, fingerprint, created_at)
    VALUES (p_api_key, p_key, p_print, p_created)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN json_build_object('taken', (
        SELECT json_build_object('fingerprint', fingerprint, 'status', status,
                                 'response', response, 'created_at', created_at)
          FROM idempotency_keys WHERE api_key_id = p_api_key AND key = p_key));
END $$;

CREATE OR REPLACE FUNCTION promosync_key_answer(
    p_api_key bigint, p_key text, p_status integer, p_reply json
) RETURNS json LANGUAGE plpgsql AS $$
BEGIN
    UPDATE idempotency_keys
       SET status = p_status, response = json_build_object('promosync_reply', p_reply)::text
     WHERE api_key_id = p_api_key AND key = p_key;
    RETURN json_build_object('answered', p_status, 'reply', p_reply);
END $$;

CREATE OR REPLACE FUNCTION promosync_keyed_scan(
    p_api_key bigint, p_key text, p_print text, p_created timestamp, p_status integer,
    p_sale text, p_code text, p_now timestamp, p_today date, p_until timestamp, p_source text
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    taken json;
    reply json;
BEGIN
    taken := promosync_key_claim(p_api_key, p_key, p_print, p_created);
    IF taken IS NOT NULL THEN
        RETURN taken;
    END IF;
    reply := promosync_scan(p_sale, p_code, p_now, p_today, p_until, p_source);
    IF reply->'held' IS NULL THEN
        RETURN json_build_object('claimed', true);
    END IF;
    RETURN promosync_key_answer(p_api_key, p_key, p_status, json_build_object(
        'held', reply->'held', 'discount', reply->'discount', 'held_until', p_until));
END $$;

-- A counter that refuses (SQLSTATE PSL01) rolls the claim back with the payment: the caller
-- then claims the key on its own and pays its own way.
CREATE OR REPLACE FUNCTION promosync_keyed_pay(
    p_api_key bigint, p_key text, p_print text, p_created timestamp, p_status integer,
    p_sale text, p_now timestamp, p_today date, p_source text, p_zero_reason text
) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    taken json;
    reply json;
BEGIN
    taken := promosync_key_claim(p_api_key, p_key, p_print, p_created);
    IF taken IS NOT NULL THEN
        RETURN taken;
    END IF;
    reply := promosync_pay(p_sale, p_now, p_today, p_source, p_zero_reason);
    IF reply->'codes' IS NULL THEN
        RETURN json_build_object('claimed', true);
    END IF;
    RETURN promosync_key_answer(p_api_key, p_key, p_status, json_build_object(
        'sale', reply->'sale', 'codes', reply->'codes', 'given', reply->'given',
        'total', reply->'total', 'paid_at', p_now));
END $$;
