-- consent_forget: erasure through the real libconsent.so keeps the proof and
-- the chain's head.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';

select 'queue', consent_queue(1, '2026-01-01T00:00:00Z') = 'queued';
select 'sent', consent_mark_sent(1, 'email', 'q3Zx8mB1vR7tK2wYp0LdNg', '2026-01-01T01:00:00Z') = 'sent';
select 'error', consent_mark_error(1, 'SMTP 550 <anna@example.com>: no such mailbox', '2026-01-02T00:00:00Z') = 'error';
select 'requeue', consent_queue(1, '2026-01-03T00:00:00Z') = 'queued';
select 'approve', consent_approve(1, '{"token":"signed"}', '2026-01-04T00:00:00Z') = 'approved';

CREATE TEMP TABLE head AS SELECT count(*) AS n, max(id) AS last, (SELECT hash FROM consent_event ORDER BY id DESC LIMIT 1) AS hash FROM consent_event;

select 'forget', consent_forget(1, '2026-02-01T00:00:00Z') = '{"requests_erased":2,"notices_erased":0,"events_erased":3,"events_kept":0,"commands_deleted":0}';
select 'again', json_extract(consent_forget(1, '2026-02-02T00:00:00Z'), '$.events_erased') = 0;
select 'no_address', (select count(*) from consent_request where reason like '%anna@%' or detail like '%anna@%') + (select count(*) from consent_event where detail like '%anna@%') = 0;
select 'no_page', (select count(*) from consent_request where page_id is not null) = 0;
select 'evidence_kept', (select evidence from consent_request where customer_id = 1 and status = 'approved') = '{"token":"signed"}';
select 'status_kept', consent_status(1) = 'approved';
select 'erased_at', (select count(*) from consent_event where customer_id = 1 and erased_at = '2026-02-01T00:00:00Z' and length(detail_sha256) = 64) = 3;
select 'head_kept', (select n = (select count(*) from consent_event) and last = (select max(id) from consent_event) and hash = (select hash from consent_event order by id desc limit 1) from head) = 1;
select 'log_verifies', consent_verify_log() = 'ok';
