-- Migration 6: a way in for programs that cannot load the extension.
--
-- Many billing applications reach SQLite through a driver that cannot load
-- an extension (PHP's PDO, drivers where loading is switched off by
-- policy). They can still INSERT a row and SELECT from a view:
--
-- - consent_command takes commands ('queue', 'approve', 'revoke') by plain
--   INSERT. The next consent-portal sync, or SELECT consent_apply_commands()
--   on a connection with the extension, applies them in id order through
--   the same functions, exactly once, and records each outcome on its row
--   (extension/src/commands.rs).
-- - consent_statuses gives each customer's current status, label and
--   reason to plain SQL. It reads the consent tables only, never the
--   billing table: a view that names the billing table makes the billing
--   application's own ALTER TABLE ... DROP COLUMN fail.

CREATE TABLE consent_command (
    id           INTEGER PRIMARY KEY,
    -- The billing table's id of the customer. No NOT NULL: a row without
    -- one is kept and refused with its reason, not lost at the INSERT.
    customer_id  {customer_id_type},
    -- 'queue', 'approve' or 'revoke'; any other word is refused when applied.
    command      TEXT,
    -- approve: the evidence (default 'manual'); revoke: the reason
    -- (default 'revoked'); queue: kept, not used.
    note         TEXT,
    -- When it happened (ISO 8601, UTC without an offset, or unix seconds);
    -- NULL: created_at.
    at,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- Filled in by the extension, once, when the command is taken:
    applied_at   TEXT,
    outcome      TEXT CHECK (outcome = 'applied' OR outcome = 'refused'),
    status_after TEXT,   -- the customer's status after an applied command
    refusal      TEXT    -- why a command was refused
);
-- The commands still to apply, in order, without a scan of the taken ones.
CREATE INDEX consent_command_pending ON consent_command (id) WHERE outcome IS NULL;

-- Any program may insert a command, without the extension: this trigger
-- calls no function. The outcome is the extension's to write.
CREATE TRIGGER consent_command_new BEFORE INSERT ON consent_command
WHEN NEW.applied_at IS NOT NULL OR NEW.outcome IS NOT NULL
  OR NEW.status_after IS NOT NULL OR NEW.refusal IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'consent_command: insert customer_id, command (''queue'', ''approve'' or ''revoke''), and optionally note and at; applied_at, outcome, status_after and refusal are filled in when the command is applied');
END;

-- A command is taken once: only the extension fills in its outcome, and a
-- taken command is never changed again. (Without the extension loaded,
-- consent_guard does not exist and every UPDATE is refused.)
CREATE TRIGGER consent_command_taken BEFORE UPDATE ON consent_command
WHEN NOT consent_guard() OR OLD.outcome IS NOT NULL
  OR NEW.id IS NOT OLD.id OR NEW.customer_id IS NOT OLD.customer_id
  OR NEW.command IS NOT OLD.command OR NEW.note IS NOT OLD.note
  OR NEW.at IS NOT OLD.at OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'consent_command: a command cannot be changed; insert a new one (a pending command can be deleted)');
END;

-- Each customer's current status: the status of their newest request. A
-- customer with no request is not listed; their status is 'missing'
-- (SELECT coalesce(s.status, 'missing') FROM customers AS c LEFT JOIN
-- consent_statuses AS s ON s.customer_id = c.id). The labels are
-- consent_label's, in the register's language setting; a unit test keeps
-- them equal.
CREATE VIEW consent_statuses AS
SELECT r.customer_id AS customer_id,
       r.status AS status,
       CASE WHEN (SELECT value FROM consent_settings WHERE key = 'language') = 'en'
       THEN CASE r.status
            WHEN 'queued' THEN 'Consent request queued'
            WHEN 'sent' THEN 'Consent request sent'
            WHEN 'approved' THEN 'Consent approved'
            WHEN 'denied' THEN 'Consent denied'
            WHEN 'error' THEN 'Consent request failed'
            END
       ELSE CASE r.status
            WHEN 'queued' THEN 'Begäran om samtycke är köad'
            WHEN 'sent' THEN 'Begäran om samtycke är skickat'
            WHEN 'approved' THEN 'Samtycke är godkänt'
            WHEN 'denied' THEN 'Samtycke är nekat'
            WHEN 'error' THEN 'Fel vid begäran av samtycke'
            END
       END AS label,
       r.reason AS reason,
       r.updated_at AS changed_at,
       r.id AS request_id
FROM consent_request AS r
WHERE r.id = (SELECT n.id FROM consent_request AS n
              WHERE n.customer_id = r.customer_id
              ORDER BY n.supersedes DESC LIMIT 1);
