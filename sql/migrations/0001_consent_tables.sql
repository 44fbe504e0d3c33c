-- Migration 1: the consent tables beside the billing application's own.
-- Applied by consent_init(); never edit a migration that has shipped, add one.
-- {customer_id_type} is replaced by the affinity of the billing table's id
-- column (INTEGER, TEXT, REAL, NUMERIC or BLOB), so that comparisons with the
-- billing ids use the index.

-- Our own bookkeeping: the schema version and what consent_init recorded.
CREATE TABLE consent_meta (
    key   TEXT PRIMARY KEY,
    value       -- no type: versions are integers, names are text
);

-- The business's settings (consent_setting); unset keys take their default.
CREATE TABLE consent_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per request for consent. A customer's current status is the status
-- of their newest request ('missing' when there is none). A new request is
-- made when a customer is queued (or approved by hand) from missing, denied
-- or error; all later changes update that request.
CREATE TABLE consent_request (
    id          INTEGER PRIMARY KEY,
    customer_id {customer_id_type} NOT NULL,
    -- The request this one replaced (the customer's newest before it), 0 for
    -- a customer's first. Unique per customer: two connections that decide
    -- from the same state cannot both add a request.
    supersedes  INTEGER NOT NULL,
    -- OR, not IN: SQLite evaluates a CHECK with a long IN list through a
    -- temporary index built for every row written.
    status      TEXT NOT NULL
                CHECK (status = 'queued' OR status = 'sent' OR status = 'approved'
                       OR status = 'denied' OR status = 'error'),
    prev_status TEXT NOT NULL,  -- the customer's status before this request
    channel     TEXT CHECK (channel = 'email' OR channel = 'sms'),
    page_id     TEXT,           -- the page the link points to (portal)
    reason      TEXT,           -- why it is in error or denied
    evidence    TEXT,           -- what proves an approval ('manual' or signed)
    actor       TEXT NOT NULL,  -- the function that made the last change
    detail      TEXT,           -- what the last change recorded
    created_at  TEXT NOT NULL,
    sent_at     TEXT,
    decided_at  TEXT,
    updated_at  TEXT NOT NULL
);
-- A customer's newest request is the one with the highest `supersedes`.
CREATE UNIQUE INDEX consent_request_customer ON consent_request (customer_id, supersedes);
-- consent_expire finds the due requests without a scan.
CREATE INDEX consent_request_due ON consent_request (sent_at) WHERE status = 'sent';

-- The audit log: one row per change of status, written by the triggers below
-- in the same statement as the change. Append-only.
CREATE TABLE consent_event (
    id          INTEGER PRIMARY KEY,
    customer_id {customer_id_type} NOT NULL,
    request_id  INTEGER NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    detail      TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX consent_event_customer ON consent_event (customer_id);

CREATE TRIGGER consent_request_created AFTER INSERT ON consent_request
BEGIN
    INSERT INTO consent_event (customer_id, request_id, from_status, to_status, actor, detail, at)
    VALUES (NEW.customer_id, NEW.id, NEW.prev_status, NEW.status, NEW.actor, NEW.detail, NEW.updated_at);
END;

CREATE TRIGGER consent_request_changed AFTER UPDATE OF status ON consent_request
WHEN OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO consent_event (customer_id, request_id, from_status, to_status, actor, detail, at)
    VALUES (NEW.customer_id, NEW.id, OLD.status, NEW.status, NEW.actor, NEW.detail, NEW.updated_at);
END;

CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event
BEGIN
    SELECT RAISE(ABORT, 'consent_event is append-only: its rows are evidence and cannot be changed');
END;

CREATE TRIGGER consent_event_no_delete BEFORE DELETE ON consent_event
BEGIN
    SELECT RAISE(ABORT, 'consent_event is append-only: its rows are evidence and cannot be deleted');
END;
