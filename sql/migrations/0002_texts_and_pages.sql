-- Migration 2: the texts customers were shown, and the look-ups the portal
-- needs to render and send pages.

-- Every distinct text shown on a consent page, stored once by its SHA-256
-- (hex), so an approval can be shown later with the exact words.
CREATE TABLE consent_text (
    hash       TEXT PRIMARY KEY,
    language   TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The hash of the text the customer was shown for this request.
ALTER TABLE consent_request ADD COLUMN text_hash TEXT;

-- A page id names exactly one request.
CREATE UNIQUE INDEX consent_request_page ON consent_request (page_id) WHERE page_id IS NOT NULL;

-- The portal sends every queued request.
CREATE INDEX consent_request_queued ON consent_request (id) WHERE status = 'queued';
