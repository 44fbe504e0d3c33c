-- consent_queue_all: the set-based form, with the same outcomes as
-- consent_queue for every customer, returning how many were queued.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';

-- Everyone missing: 1, 5 and 6 have e-mail; 2 (mobile only, no SMS), 3 and 4 go to error.
select 'queue_all_missing', consent_queue_all('missing', '2026-01-01T00:00:00Z') = 3;
select 'statuses', (select group_concat(status, ',') from (select status from consent_overview order by customer_id)) = 'queued,error,error,error,queued,queued';
select 'one_event_each', (select count(*) from consent_event) = 6;
select 'events_by_queue_all', (select count(*) from consent_event where actor = 'consent_queue_all' and at = '2026-01-01T00:00:00Z' and from_status = 'missing') = 6;
select 'reason_mobile_only', (select reason from consent_overview where customer_id = 2) = 'Kunden saknar e-postadress, och SMS är inte aktiverat (sms_enabled = 0)';
select 'reason_nothing', (select reason from consent_overview where customer_id = 3) = 'Kunden saknar både e-postadress och mobilnummer';
select 'reason_blanks', (select reason from consent_overview where customer_id = 4) = 'Kunden saknar både e-postadress och mobilnummer';
select 'queued_no_reason', (select count(*) from consent_overview where status = 'queued' and reason is null) = 3;

-- Nothing left to do: no change and no writes.
select 'again_missing', consent_queue_all('missing', '2026-01-02T00:00:00Z') = 0;
select 'default_is_missing', consent_queue_all(NULL, '2026-01-02T00:00:00Z') = 0;
select 'queued_is_left_alone', consent_queue_all('queued', '2026-01-02T00:00:00Z') = 0;
select 'sent_is_left_alone', consent_queue_all('sent', '2026-01-02T00:00:00Z') = 0;
select 'approved_is_left_alone', consent_queue_all('approved', '2026-01-02T00:00:00Z') = 0;
select 'errors_still_unreachable', consent_queue_all('error', '2026-01-02T00:00:00Z') = 0;
select 'still_six_events', (select count(*) from consent_event) = 6;

-- With SMS the mobile-only error is queued again; the others stay errors.
select 'sms_on', consent_setting('sms_enabled', '1') = 1;
select 'queue_all_errors', consent_queue_all('error', '2026-01-03T00:00:00Z') = 1;
select 'statuses_after_sms', (select group_concat(status, ',') from (select status from consent_overview order by customer_id)) = 'queued,queued,error,error,queued,queued';
select 'seven_events', (select count(*) from consent_event) = 7;

-- Denied customers, by revocation and by expiry.
select 'sent_1', consent_mark_sent(1, 'email', NULL, '2026-01-03T00:00:00Z') = 'sent';
select 'revoke_1', consent_revoke(1, NULL, '2026-01-04T00:00:00Z') = 'denied';
select 'sent_5', consent_mark_sent(5, 'email', NULL, '2026-01-03T00:00:00Z') = 'sent';
select 'expire_5', consent_expire('2026-01-10T00:00:00Z') = 1;
select 'approve_6', consent_approve(6, NULL, '2026-01-04T00:00:00Z') = 'approved';
select 'queue_all_denied', consent_queue_all('denied', '2026-01-11T00:00:00Z') = 2;
select 'denied_requeued', consent_status(1) = 'queued' and consent_status(5) = 'queued' and consent_status(6) = 'approved';
select 'denied_new_requests', (select count(*) from consent_request where customer_id in (1, 5)) = 4;

-- New customers of the billing application start missing.
INSERT INTO customers (id, name, email, mobile) VALUES (7, 'Greta Gran', 'greta@example.com', NULL), (8, 'Hugo Holm', NULL, NULL);
select 'new_customers', consent_queue_all('missing', '2026-01-12T00:00:00Z') = 1;
select 'new_statuses', consent_status(7) = 'queued' and consent_status(8) = 'error';

-- A denied customer who has lost every contact goes to error, as consent_queue would.
select 'approve_7_by_hand', consent_approve(7, NULL, '2026-01-13T00:00:00Z') = 'approved';
select 'revoke_7', consent_revoke(7, NULL, '2026-01-14T00:00:00Z') = 'denied';
UPDATE customers SET email = NULL WHERE id = 7;
select 'denied_unreachable', consent_queue_all('denied', '2026-01-15T00:00:00Z') = 0;
select 'denied_unreachable_error', consent_status(7) = 'error';

-- One event per change, no more.
select 'events_total', (select count(*) from consent_event) = 19;
select 'events_match_requests', (select count(*) from consent_request r where r.status = (select to_status from consent_event e where e.request_id = r.id order by e.id desc limit 1)) = (select count(*) from consent_request);
select 'log_verifies', consent_verify_log() = 'ok';
