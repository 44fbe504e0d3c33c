-- consent_record(id): a customer's whole consent record as JSON, read in
-- the shell with SQLite's own JSON functions. It names the customer by id
-- only, never shows a page id or contact details, and only reads.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'business_name', consent_setting('business_name', 'Kalles Kaffe AB') = 'Kalles Kaffe AB';
select 'info_text', consent_setting('info_text', 'Vi vill skicka kvitton per e-post.') = 'Vi vill skicka kvitton per e-post.';

-- Never asked: an empty record.
select 'missing_is_json', json_valid(consent_record(5)) = 1;
select 'missing_schema', json_extract(consent_record(5), '$.record_schema') = 'consent-record/1';
select 'missing_record_id', json_extract(consent_record(5), '$.record_id') = 'customers:5';
select 'missing_subject', json_extract(consent_record(5), '$.subject') = '{"customer_id":5}';
select 'missing_controller', json_extract(consent_record(5), '$.controller.name') = 'Kalles Kaffe AB';
select 'missing_purpose', json_extract(consent_record(5), '$.purpose') = 'Vi vill skicka kvitton per e-post.';
select 'missing_status', json_extract(consent_record(5), '$.status') = 'missing';
select 'missing_label', json_extract(consent_record(5), '$.label') = 'Samtycke saknas';
select 'missing_consent_null', json_type(consent_record(5), '$.consent') = 'null';
select 'missing_no_requests', json_array_length(consent_record(5), '$.requests') = 0;
select 'missing_no_events', json_array_length(consent_record(5), '$.events') = 0;
select 'missing_chain_null', json_type(consent_record(5), '$.chain') = 'null';
select 'no_name_no_contact', instr(consent_record(5), 'Eva') = 0 and instr(consent_record(5), 'eva@example.com') = 0;

-- Queued, sent with a page id, approved with the portal's JSON evidence.
select 'queue', consent_queue(5, '2026-11-02T09:00:00Z') = 'queued';
select 'queued_status', json_extract(consent_record(5), '$.consent.status') = 'queued';
select 'queued_asked_at', json_extract(consent_record(5), '$.consent.asked_at') = '2026-11-02T09:00:00Z';
select 'sent', consent_mark_sent(5, 'email', 'q3Zx8mB1vR7tK2wYp0LdNg', '2026-11-02T10:00:00Z') = 'sent';
select 'sent_channel', json_extract(consent_record(5), '$.consent.channel') = 'email';
select 'sent_at', json_extract(consent_record(5), '$.consent.sent_at') = '2026-11-02T10:00:00Z';
select 'approve', consent_approve(5, '{"via":"consent page","decision":"approve","received_at":"2026-11-03T18:12:00Z"}', '2026-11-03T18:12:00Z') = 'approved';
select 'approved_label', json_extract(consent_record(5), '$.label') = 'Samtycke är godkänt';
select 'approved_method', json_extract(consent_record(5), '$.consent.method') = 'consent page';
select 'approved_evidence_is_json', json_extract(consent_record(5), '$.consent.evidence.received_at') = '2026-11-03T18:12:00Z';
select 'approved_given_at', json_extract(consent_record(5), '$.consent.given_at') = '2026-11-03T18:12:00Z';
select 'approved_withdrawal', json_extract(consent_record(5), '$.consent.withdrawal.methods') = '["ask the business"]';
select 'never_the_page_id', instr(consent_record(5), 'q3Zx8mB1vR7tK2wYp0LdNg') = 0;

-- Revoked and asked again: two requests, oldest first, every event.
select 'revoke', consent_revoke(5, 'kunden ringde', '2026-11-10T14:00:00Z') = 'denied';
select 'withdrawn_at', json_extract(consent_record(5), '$.consent.withdrawn_at') = '2026-11-10T14:00:00Z';
select 'requeue', consent_queue(5, '2026-11-20T09:00:00Z') = 'queued';
select 'two_requests', json_array_length(consent_record(5), '$.requests') = 2;
select 'oldest_first', json_extract(consent_record(5), '$.requests[0].status') = 'denied' and json_extract(consent_record(5), '$.requests[1].status') = 'queued';
select 'current_is_newest', json_extract(consent_record(5), '$.consent.request_id') = json_extract(consent_record(5), '$.requests[1].request_id');
select 'events_all', json_array_length(consent_record(5), '$.events') = (select count(*) from consent_event where customer_id = 5);
select 'events_in_order', json_extract(consent_record(5), '$.events[0].from') = 'missing' and json_extract(consent_record(5), '$.events[4].to') = 'queued';
select 'chain_last_hash', json_extract(consent_record(5), '$.chain.last_hash') = (select hash from consent_event where customer_id = 5 order by id desc limit 1);
select 'chain_first_id', json_extract(consent_record(5), '$.chain.first_event_id') = (select min(id) from consent_event where customer_id = 5);

-- An error with its reason; a text id matches the INTEGER id column.
select 'error', consent_queue(3, '2026-11-02T09:00:00Z') = 'error';
select 'error_reason', json_extract(consent_record(3), '$.consent.reason') = 'Kunden saknar både e-postadress och mobilnummer';
select 'text_id', consent_record('3') = consent_record(3);

-- Every customer's record in one statement, and it only reads.
select 'all_records', (select count(consent_record(id)) from customers) = 6;
PRAGMA query_only = 1;
select 'query_only', json_extract(consent_record(5), '$.status') = 'queued';
PRAGMA query_only = 0;
select 'log_ok', consent_verify_log() = 'ok';
