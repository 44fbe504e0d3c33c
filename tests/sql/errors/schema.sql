-- The audit log is append-only, only the consent functions write the
-- consent tables, and a recorded column or table that the billing
-- application renamed or dropped gives an error naming it and saying to
-- run consent_init again.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';
select 'queue', consent_queue(1, '2026-01-01T00:00:00Z') = 'queued';

-- consent_event refuses UPDATE and DELETE.
-- expect-error: consent_event is append-only: its rows are evidence and cannot be changed
UPDATE consent_event SET actor = 'someone else';
-- expect-error: consent_event is append-only: its rows are evidence and cannot be changed
UPDATE consent_event SET to_status = 'approved' WHERE customer_id = 1;
-- expect-error: consent_event is append-only: its rows are evidence and cannot be deleted
DELETE FROM consent_event;
-- expect-error: cannot be deleted
DELETE FROM consent_event WHERE id = 1;
select 'event_kept', (select count(*) from consent_event) = 1 and (select actor || ' ' || to_status from consent_event) = 'consent_queue queued';

-- Only the consent functions write the consent tables; a write by hand
-- is refused with what to call instead.
-- expect-error: consent_request is written only by the consent_* functions
-- expect-error: to change a status call consent_approve
UPDATE consent_request SET status = 'approved' WHERE customer_id = 1;
-- expect-error: consent_request is written only by the consent_* functions
-- expect-error: consent_queue(id)
INSERT INTO consent_request (customer_id, supersedes, status, prev_status, actor, created_at, updated_at) VALUES (2, 0, 'approved', 'missing', 'consent_approve', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
-- expect-error: a request is evidence that is never deleted
-- expect-error: consent_revoke(id
DELETE FROM consent_request;
-- expect-error: consent_event is written only by the audit trigger
INSERT OR REPLACE INTO consent_event SELECT * FROM consent_event WHERE id = 1;
-- expect-error: consent_text is written only by libconsent
INSERT INTO consent_text (hash, language, body, created_at) VALUES ('x', 'sv', 'x', '2026-01-01T00:00:00Z');
select 'nothing_written_by_hand', consent_status(1) = 'queued' and (select count(*) from consent_request) = 1 and (select count(*) from consent_event) = 1;
select 'log_verifies', consent_verify_log() = 'ok';

-- A renamed recorded column.
ALTER TABLE customers RENAME COLUMN email TO e_mail;
-- expect-error: consent_status: column "email" of table "customers" recorded by consent_init no longer exists
-- expect-error: run consent_init again
select consent_status(1);
-- expect-error: consent_queue: column "email"
-- expect-error: consent_init
select consent_queue(2);
-- expect-error: consent_queue_all: column "email"
-- expect-error: consent_init
select consent_queue_all();
-- The overview does not read the e-mail column, so it goes on working.
select 'overview_without_email', (select count(*) from consent_overview) = 6;
select 'reinit_after_rename', consent_init('customers', 'id', 'e_mail', 'mobile', 'name') = 'ok';
select 'works_after_reinit', consent_status(1) = 'queued';

-- A renamed recorded name column: the overview says so.
ALTER TABLE customers RENAME COLUMN name TO full_name;
-- expect-error: consent_overview: column "name" of table "customers" recorded by consent_init no longer exists
-- expect-error: consent_init
select * from consent_overview;
select 'reinit_with_new_name', consent_init('customers', 'id', 'e_mail', 'mobile', 'full_name') = 'ok';
select 'overview_after_reinit', (select name from consent_overview where customer_id = 1) = 'Anna Andersson';

-- A dropped recorded column.
ALTER TABLE customers DROP COLUMN mobile;
-- expect-error: consent_status: column "mobile" of table "customers" recorded by consent_init no longer exists
-- expect-error: consent_init
select consent_status(1);

-- A renamed table.
ALTER TABLE customers RENAME TO clients;
-- expect-error: consent_status: table "customers" recorded by consent_init no longer exists
-- expect-error: run consent_init again
select consent_status(1);
-- expect-error: consent_queue_all: table "customers" recorded by consent_init no longer exists
select consent_queue_all();
select 'reinit_renamed_table', consent_init('clients', 'id', 'e_mail', 'notes', 'full_name') = 'ok';
select 'history_kept', consent_status(1) = 'queued' and (select count(*) from consent_event) = 1;
