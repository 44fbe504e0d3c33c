-- Migration 4: what the customer is told after a decision.
--
-- When sync applies an approval made on a consent page, the customer gets a
-- receipt in the channel the request went out on, with a link to a static
-- withdrawal page (site/w/<page id>.html) that holds the receipt and one
-- button; when sync applies a withdrawal made there, the customer gets a
-- confirmation. Each such message is one row here, written by the portal
-- through the extension (extension/src/notices.rs) and sent at least once,
-- like a request: created, then marked sent or failed.
--
-- These rows are delivery bookkeeping, not the proof of consent: the
-- decisions themselves are in consent_request and the chained
-- consent_event. They are guarded like the other consent tables, so that
-- a receipt or a withdrawal link cannot be made up by hand.

CREATE TABLE consent_notice (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL,
    -- 'receipt': an approval confirmed, with the withdrawal page;
    -- 'withdrawal': a withdrawal confirmed.
    kind        TEXT NOT NULL CHECK (kind = 'receipt' OR kind = 'withdrawal'),
    -- The withdrawal page of a receipt (22 base64url characters, drawn by
    -- the portal); NULL for a withdrawal, and once consent_forget erased it.
    page_id     TEXT,
    created_at  TEXT NOT NULL,
    sent_at     TEXT,           -- when the message was accepted
    error       TEXT,           -- why it could not be sent, for good
    UNIQUE (request_id, kind)
);
CREATE UNIQUE INDEX consent_notice_page ON consent_notice (page_id) WHERE page_id IS NOT NULL;
-- sync sends every notice that is neither sent nor failed.
CREATE INDEX consent_notice_pending ON consent_notice (id) WHERE sent_at IS NULL AND error IS NULL;

CREATE TRIGGER consent_notice_guard_insert BEFORE INSERT ON consent_notice
WHEN NOT consent_guard()
  OR (NEW.page_id IS NOT NULL
      AND NOT (typeof(NEW.page_id) = 'text' AND length(NEW.page_id) = 22
               AND NEW.page_id NOT GLOB '*[^A-Za-z0-9_-]*'))
BEGIN
    SELECT RAISE(ABORT, 'consent_notice is written only by consent-portal sync through libconsent; it cannot be written by hand')
    WHERE NOT consent_guard();
    SELECT RAISE(ABORT, 'consent_notice: page_id must be 22 characters of A-Z, a-z, 0-9, ''-'' and ''_'' (base64url), as the portal draws it');
END;

CREATE TRIGGER consent_notice_guard_update BEFORE UPDATE ON consent_notice
WHEN NOT consent_guard()
  OR (NEW.page_id IS NOT NULL AND NEW.page_id IS NOT OLD.page_id)
BEGIN
    SELECT RAISE(ABORT, 'consent_notice is written only by consent-portal sync through libconsent; it cannot be written by hand')
    WHERE NOT consent_guard();
    SELECT RAISE(ABORT, 'consent_notice: a notice''s page id is drawn once and can only be erased (consent_forget)');
END;

CREATE TRIGGER consent_notice_no_delete BEFORE DELETE ON consent_notice
BEGIN
    SELECT RAISE(ABORT, 'consent_notice: what was sent to a customer is never deleted; consent_forget(id) erases what identifies the person');
END;
