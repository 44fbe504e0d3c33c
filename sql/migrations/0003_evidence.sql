-- Migration 3: the tamper-evident register.
--
-- 1. Only the extension writes the consent tables: guard triggers refuse
--    every write unless consent_guard() says the extension's own code is
--    writing (extension/src/guard.rs). A connection without the extension
--    has no consent_guard, so its writes fail with "no such function:
--    consent_guard": refused there too. The billing application's ALTER
--    TABLE ... ADD, RENAME and DROP COLUMN on its own tables still works
--    there (tested with SQLite 3.40.1 and 3.50, extension/tests/tamper.rs).
-- 2. consent_event is a hash chain: each event row is inserted with the
--    id after the last one and its hash, consent_event_hash() over the
--    previous row's hash and its own fields (extension/src/log.rs gives
--    the canonical form). Rows from before this migration are sealed in id
--    order by a Rust step right after this SQL, in the same savepoint.
-- 3. consent_text is append-only, and keeps what each text was made from.
-- 4. page_id has the form the portal draws.
--
-- The functions the triggers call are innocuous (and not direct-only), so
-- the triggers work under PRAGMA trusted_schema=OFF.

ALTER TABLE consent_event ADD COLUMN hash TEXT;  -- lower-case hex SHA-256

-- What the page text of a consent_text row was made from (filled by the
-- portal; NULL for texts stored before).
ALTER TABLE consent_text ADD COLUMN info_text TEXT;
ALTER TABLE consent_text ADD COLUMN business_name TEXT;
ALTER TABLE consent_text ADD COLUMN expiry_days INTEGER;

-- The audit triggers of migration 1, now chaining each event to the one
-- before it. The previous row is the last by id; its id + 1 is the new
-- row's id, so the ids have no gaps and a removed row shows. VALUES with
-- scalar subqueries, each a seek to the end of the table: the same as an
-- INSERT ... SELECT joining the last row, which SQLite 3.40.1 ran through
-- a temporary table for every event (ten times slower in bulk).
--
-- consent_request_created also guards the INSERT (below): the guard and
-- the page id check live in the trigger that fires for every request
-- anyway, because every trigger is a sub-program run for each row written,
-- and a BEFORE INSERT trigger of their own cost a fifth more time per
-- customer in consent_queue_all through SQLite 3.40.1. RAISE(ABORT) in an
-- AFTER trigger undoes the whole statement just the same.
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
        (id, customer_id, request_id, from_status, to_status, actor, detail, at, hash)
    VALUES (
        coalesce((SELECT max(id) FROM consent_event), 0) + 1,
        NEW.customer_id, NEW.id, NEW.prev_status, NEW.status, NEW.actor, NEW.detail,
        NEW.updated_at,
        consent_event_hash(
            (SELECT hash FROM consent_event ORDER BY id DESC LIMIT 1),
            coalesce((SELECT max(id) FROM consent_event), 0) + 1,
            NEW.customer_id, NEW.id, NEW.prev_status, NEW.status, NEW.actor, NEW.detail,
            NEW.updated_at));
END;

CREATE TRIGGER consent_request_changed AFTER UPDATE OF status ON consent_request
WHEN OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO consent_event
        (id, customer_id, request_id, from_status, to_status, actor, detail, at, hash)
    VALUES (
        coalesce((SELECT max(id) FROM consent_event), 0) + 1,
        NEW.customer_id, NEW.id, OLD.status, NEW.status, NEW.actor, NEW.detail,
        NEW.updated_at,
        consent_event_hash(
            (SELECT hash FROM consent_event ORDER BY id DESC LIMIT 1),
            coalesce((SELECT max(id) FROM consent_event), 0) + 1,
            NEW.customer_id, NEW.id, OLD.status, NEW.status, NEW.actor, NEW.detail,
            NEW.updated_at));
END;

-- The other guards. Where two checks apply to the same write they share
-- one trigger (its WHEN says whether either fails, its body which one).

-- consent_request: every UPDATE and DELETE only by the consent_* functions
-- (an INSERT: consent_request_created above).
CREATE TRIGGER consent_request_guard_update BEFORE UPDATE ON consent_request
WHEN NOT consent_guard()
BEGIN
    SELECT RAISE(ABORT, 'consent_request is written only by the consent_* functions (load libconsent): to change a status call consent_approve, consent_revoke, consent_mark_sent, consent_mark_error or consent_queue, which also write the audit log');
END;

-- Checked only when the page id changes, so that a request that got an
-- older, longer id can still be marked sent.
CREATE TRIGGER consent_request_page_id_update BEFORE UPDATE OF page_id ON consent_request
WHEN NEW.page_id IS NOT NULL AND NEW.page_id IS NOT OLD.page_id
 AND NOT (typeof(NEW.page_id) = 'text' AND length(NEW.page_id) = 22
          AND NEW.page_id NOT GLOB '*[^A-Za-z0-9_-]*')
BEGIN
    SELECT RAISE(ABORT, 'consent_request: page_id must be 22 characters of A-Z, a-z, 0-9, ''-'' and ''_'' (base64url), as the portal draws it');
END;

CREATE TRIGGER consent_request_guard_delete BEFORE DELETE ON consent_request
WHEN NOT consent_guard()
BEGIN
    SELECT RAISE(ABORT, 'consent_request is written only by the consent_* functions, and a request is evidence that is never deleted: to withdraw a consent call consent_revoke(id [, reason])');
END;

-- consent_event: written only by the audit triggers above, while a
-- consent_* function runs, and never over an existing row: INSERT OR
-- REPLACE would delete it without firing any DELETE trigger. UPDATE and
-- DELETE stay refused always (consent_event_no_update and
-- consent_event_no_delete, migration 1).
CREATE TRIGGER consent_event_guard_insert BEFORE INSERT ON consent_event
WHEN NOT consent_guard() OR EXISTS (SELECT 1 FROM consent_event WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'consent_event is written only by the audit trigger when a consent_* function changes a status (load libconsent and call consent_queue, consent_approve, consent_revoke, ...); it cannot be written by hand')
    WHERE NOT consent_guard();
    SELECT RAISE(ABORT, 'consent_event is append-only: a row with this id exists and cannot be replaced');
END;

-- consent_text: append-only; new texts only through the extension (the
-- portal stores each text when it renders pages).
CREATE TRIGGER consent_text_guard_insert BEFORE INSERT ON consent_text
WHEN NOT consent_guard()
BEGIN
    SELECT RAISE(ABORT, 'consent_text is written only by libconsent when consent-portal renders pages (consent-portal render or sync); it cannot be written by hand');
END;

CREATE TRIGGER consent_text_no_update BEFORE UPDATE ON consent_text
BEGIN
    SELECT RAISE(ABORT, 'consent_text is append-only: its rows are the exact words customers were shown and cannot be changed');
END;

CREATE TRIGGER consent_text_no_delete BEFORE DELETE ON consent_text
BEGIN
    SELECT RAISE(ABORT, 'consent_text is append-only: its rows are the exact words customers were shown and cannot be deleted');
END;

-- A request's text hash is fixed when its page is made (with its page id):
-- the words a customer was shown never change afterwards, and a new
-- information text applies to new requests only. (A write by hand is
-- refused by consent_request_guard_update, with its own message.)
CREATE TRIGGER consent_request_text_frozen BEFORE UPDATE OF text_hash ON consent_request
WHEN consent_guard() AND OLD.text_hash IS NOT NULL AND NEW.text_hash IS NOT OLD.text_hash
BEGIN
    SELECT RAISE(ABORT, 'consent_request: a request''s text_hash is fixed when its page is made; a new information text applies to new requests');
END;
