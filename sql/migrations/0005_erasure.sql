-- Migration 5: erasure that keeps the proof (consent_forget).
--
-- GDPR erasure removes what the consent tables hold that identifies the
-- person beyond the proof of consent: page ids (secret links), error and
-- revocation reasons (a reason can quote an address or a mail server's
-- reply), and the detail of each event. The chain must still verify, and
-- its head (last id, count, last hash) must not move, because
-- consent-portal verify compares it with heads recorded outside the
-- database. So the events written from here on are hashed in canonical
-- form v2 (extension/src/log.rs): the same fields as v1, but the detail
-- enters as its commitment, the SHA-256 of its tag-encoded value. Erasing
-- a v2 event's detail keeps that commitment in detail_sha256, and its hash
-- can still be checked. Events written before this migration (form 1)
-- hash their detail itself: their detail cannot be erased without breaking
-- the chain, and consent_forget leaves it and says how many it kept.

-- NULL or 1: canonical form v1 (the events written before this
-- migration); 2: canonical form v2. The form is part of the hashed domain
-- ("consent-event-v1" / "consent-event-v2"), so a row claimed in another
-- form than it was hashed in breaks the chain.
ALTER TABLE consent_event ADD COLUMN form INTEGER;
-- The commitment of an erased detail (lower-case hex): what the v2 hash
-- covers in its place. NULL while the detail is there.
ALTER TABLE consent_event ADD COLUMN detail_sha256 TEXT;
-- When consent_forget erased the detail; NULL while it is there.
ALTER TABLE consent_event ADD COLUMN erased_at TEXT;
-- When consent_forget erased the request's page id, reason and detail.
ALTER TABLE consent_request ADD COLUMN erased_at TEXT;

-- The audit triggers of migration 3, now writing form 2: the same guard,
-- page id check and chaining, the same shape (VALUES with scalar
-- subqueries, each a seek to the end of the table; see migration 3 for
-- why not INSERT ... SELECT, and why the guard lives in the audit trigger
-- rather than in a BEFORE INSERT trigger of its own), and one more column.
-- consent_event_hash with a tenth argument 2 hashes canonical form v2: the
-- detail's commitment is computed inside the same call, one more SHA-256
-- of a short string per event.
DROP TRIGGER consent_request_created;
DROP TRIGGER consent_request_changed;

CREATE TRIGGER consent_request_created AFTER INSERT ON consent_request
BEGIN
    -- Written only by the consent_* functions.
    SELECT RAISE(ABORT, 'consent_request is written only by the consent_* functions (load libconsent): to ask a customer call consent_queue(id) or consent_queue_all(), to record a consent consent_approve(id [, evidence])')
    WHERE NOT consent_guard();
    -- A page id of the form the portal draws: 22 characters of base64url
    -- (128 random bits), the rule of page_id_is_valid() in the extension.
    -- SQLite cannot add a CHECK constraint to an existing table.
    SELECT RAISE(ABORT, 'consent_request: page_id must be 22 characters of A-Z, a-z, 0-9, ''-'' and ''_'' (base64url), as the portal draws it')
    WHERE NEW.page_id IS NOT NULL
      AND NOT (typeof(NEW.page_id) = 'text' AND length(NEW.page_id) = 22
               AND NEW.page_id NOT GLOB '*[^A-Za-z0-9_-]*');
    INSERT INTO consent_event
        (id, customer_id, request_id, from_status, to_status, actor, detail, at, hash, form)
    VALUES (
        coalesce((SELECT max(id) FROM consent_event), 0) + 1,
        NEW.customer_id, NEW.id, NEW.prev_status, NEW.status, NEW.actor, NEW.detail,
        NEW.updated_at,
        consent_event_hash(
            (SELECT hash FROM consent_event ORDER BY id DESC LIMIT 1),
            coalesce((SELECT max(id) FROM consent_event), 0) + 1,
            NEW.customer_id, NEW.id, NEW.prev_status, NEW.status, NEW.actor, NEW.detail,
            NEW.updated_at, 2),
        2);
END;

CREATE TRIGGER consent_request_changed AFTER UPDATE OF status ON consent_request
WHEN OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO consent_event
        (id, customer_id, request_id, from_status, to_status, actor, detail, at, hash, form)
    VALUES (
        coalesce((SELECT max(id) FROM consent_event), 0) + 1,
        NEW.customer_id, NEW.id, OLD.status, NEW.status, NEW.actor, NEW.detail,
        NEW.updated_at,
        consent_event_hash(
            (SELECT hash FROM consent_event ORDER BY id DESC LIMIT 1),
            coalesce((SELECT max(id) FROM consent_event), 0) + 1,
            NEW.customer_id, NEW.id, OLD.status, NEW.status, NEW.actor, NEW.detail,
            NEW.updated_at, 2),
        2);
END;

-- consent_event stays append-only, with one exception: the erasure of a
-- form 2 row's detail by the extension (consent_forget), in exactly this
-- shape: the detail becomes NULL, detail_sha256 goes from NULL to the
-- commitment of the detail it replaces (consent_event_detail_sha256, the
-- value the v2 hash covers), erased_at is set, and every other column is
-- unchanged. Anything else, by anyone, is refused as before; on a
-- connection without the extension consent_guard does not exist and every
-- UPDATE fails. Same name as migration 1's trigger, which refused all.
DROP TRIGGER consent_event_no_update;

CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event
WHEN NOT (consent_guard()
          AND OLD.form IS 2 AND NEW.form IS 2
          AND OLD.detail IS NOT NULL AND NEW.detail IS NULL
          AND OLD.detail_sha256 IS NULL AND OLD.erased_at IS NULL
          AND NEW.erased_at IS NOT NULL AND typeof(NEW.erased_at) = 'text'
          AND NEW.detail_sha256 IS consent_event_detail_sha256(OLD.detail)
          AND NEW.id IS OLD.id
          AND NEW.customer_id IS OLD.customer_id
          AND NEW.request_id IS OLD.request_id
          AND NEW.from_status IS OLD.from_status
          AND NEW.to_status IS OLD.to_status
          AND NEW.actor IS OLD.actor
          AND NEW.at IS OLD.at
          AND NEW.hash IS OLD.hash)
BEGIN
    SELECT RAISE(ABORT, 'consent_event is append-only: its rows are evidence and cannot be changed (consent_forget(id) erases what identifies a person and keeps the proof)');
END;
