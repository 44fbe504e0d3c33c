-- One customer through every status, with explicit times, and expiry after
-- the configured number of days. Customer 1 has an e-mail address.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter per e-post.') = 'Vi vill skicka nyheter per e-post.';

-- missing
select 'missing', consent_status(1) = 'missing';
select 'missing_label', (select label from consent_overview where customer_id = 1) = 'Samtycke saknas';
select 'missing_has_no_request', (select request_id is null and changed_at is null and reason is null from consent_overview where customer_id = 1) = 1;

-- missing -> queued
select 'queue', consent_queue(1, '2026-01-01T08:00:00Z') = 'queued';
select 'queued', consent_status(1) = 'queued';
select 'queued_label', (select label from consent_overview where customer_id = 1) = 'Begäran om samtycke är köad';
select 'queue_again_is_no_change', consent_queue(1, '2026-01-01T08:30:00Z') = 'queued';
select 'queue_again_writes_nothing', (select count(*) from consent_event where customer_id = 1) = 1;

-- queued -> sent
select 'mark_sent', consent_mark_sent(1, 'email', 'AbCdEfGhIjKlMnOpQrStUv', '2026-01-01T09:00:00Z') = 'sent';
select 'sent', consent_status(1) = 'sent';
select 'sent_label', (select label from consent_overview where customer_id = 1) = 'Begäran om samtycke är skickat';
select 'sent_recorded', (select channel || ' ' || page_id || ' ' || sent_at from consent_request where customer_id = 1) = 'email AbCdEfGhIjKlMnOpQrStUv 2026-01-01T09:00:00Z';
select 'queue_sent_is_no_change', consent_queue(1, '2026-01-01T09:30:00Z') = 'sent';

-- sent -> approved
select 'approve', consent_approve(1, 'signed:v1.abc', '2026-01-02T10:00:00Z') = 'approved';
select 'approved', consent_status(1) = 'approved';
select 'approved_label', (select label from consent_overview where customer_id = 1) = 'Samtycke är godkänt';
select 'approved_evidence', (select evidence || ' ' || decided_at from consent_request where customer_id = 1) = 'signed:v1.abc 2026-01-02T10:00:00Z';
select 'approve_again_is_no_change', consent_approve(1, 'manual', '2026-01-02T11:00:00Z') = 'approved';
select 'queue_approved_is_no_change', consent_queue(1, '2026-01-02T11:00:00Z') = 'approved';
select 'approved_evidence_kept', (select evidence from consent_request where customer_id = 1) = 'signed:v1.abc';

-- approved -> denied
select 'revoke', consent_revoke(1, 'Kunden ringde och återkallade', '2026-01-03T11:00:00Z') = 'denied';
select 'denied', consent_status(1) = 'denied';
select 'denied_label', (select label from consent_overview where customer_id = 1) = 'Samtycke är nekat';
select 'revoke_again_is_no_change', consent_revoke(1, 'igen', '2026-01-03T12:00:00Z') = 'denied';

-- denied -> queued (a new request)
select 'requeue', consent_queue(1, '2026-01-04T12:00:00Z') = 'queued';
select 'requeued', consent_status(1) = 'queued';
select 'requeue_is_a_new_request', (select count(*) from consent_request where customer_id = 1) = 2;
select 'overview_shows_the_newest', (select request_id from consent_overview where customer_id = 1) = (select max(id) from consent_request where customer_id = 1);
select 'overview_changed_at', (select changed_at from consent_overview where customer_id = 1) = '2026-01-04T12:00:00Z';

-- The audit log: one row per change of status, in order, and nothing for
-- the calls that changed nothing.
select 'walk_events', (select group_concat(from_status || '>' || to_status || '@' || at, ' ') from (select * from consent_event where customer_id = 1 order by id)) = 'missing>queued@2026-01-01T08:00:00Z queued>sent@2026-01-01T09:00:00Z sent>approved@2026-01-02T10:00:00Z approved>denied@2026-01-03T11:00:00Z denied>queued@2026-01-04T12:00:00Z';
select 'walk_actors', (select group_concat(actor, ',') from (select actor from consent_event where customer_id = 1 order by id)) = 'consent_queue,consent_mark_sent,consent_approve,consent_revoke,consent_queue';
select 'walk_details', (select group_concat(coalesce(detail, '-'), ',') from (select detail from consent_event where customer_id = 1 order by id)) = '-,email,signed:v1.abc,Kunden ringde och återkallade,-';
select 'walk_event_requests', (select count(distinct request_id) from consent_event where customer_id = 1) = 2;

-- Expiry: sent at midnight, denied exactly 7 days later (customer 5).
select 'expiry_queue', consent_queue(5, '2026-01-01T00:00:00Z') = 'queued';
select 'expiry_sent', consent_mark_sent(5, 'email', NULL, '2026-01-01T00:00:00Z') = 'sent';
select 'expire_one_second_early', consent_expire('2026-01-07T23:59:59Z') = 0;
select 'still_sent', consent_status(5) = 'sent';
select 'expire_after_seven_days', consent_expire('2026-01-08T00:00:00Z') = 1;
select 'expired_is_denied', consent_status(5) = 'denied';
select 'expired_label', (select label from consent_overview where customer_id = 5) = 'Samtycke är nekat';
select 'expired_reason', (select reason from consent_request where customer_id = 5) = 'expired';
select 'expired_detail_in_swedish', (select detail from consent_event where customer_id = 5 order by id desc limit 1) = 'inget svar inom 7 dagar';
select 'expired_event', (select from_status || '>' || to_status || ' ' || actor || ' ' || at from consent_event where customer_id = 5 order by id desc limit 1) = 'sent>denied consent_expire 2026-01-08T00:00:00Z';
select 'expire_again_is_nothing', consent_expire('2026-02-01T00:00:00Z') = 0;
select 'expire_leaves_queued', consent_status(1) = 'queued';

-- expiry_days decides; unix seconds work as `now`.
select 'expiry_days_1', consent_setting('expiry_days', 1) = 1;
select 'short_queue', consent_queue(6, '2026-03-01T00:00:00Z') = 'queued';
select 'short_sent', consent_mark_sent(6, 'sms', NULL, '2026-03-01T12:00:00Z') = 'sent';
select 'short_not_yet', consent_expire('2026-03-02T11:59:59Z') = 0;
select 'short_expired', consent_expire(1772452800) = 1;
select 'short_denied', consent_status(6) = 'denied';
select 'expire_approved_untouched', consent_approve(6, NULL, '2026-03-03T00:00:00Z') = 'approved' and consent_expire('2027-01-01T00:00:00Z') = 0;

-- The other ways through: approve by hand from missing, revoke a queued or
-- sent request, a failed send, and queueing again after an error.
select 'approve_from_missing', consent_approve(2, NULL, '2026-01-05T00:00:00Z') = 'approved';
select 'manual_evidence', (select evidence from consent_request where customer_id = 2) = 'manual';
select 'approve_from_missing_event', (select from_status || '>' || to_status from consent_event where customer_id = 2) = 'missing>approved';
select 'revoke_default_reason', consent_revoke(2, NULL, '2026-01-06T00:00:00Z') = 'denied' and (select reason from consent_request where customer_id = 2) = 'revoked';
select 'approve_from_denied', consent_approve(2, NULL, '2026-01-07T00:00:00Z') = 'approved';
select 'revoke_queued', consent_revoke(1, 'Kunden avböjde i telefon', '2026-01-05T00:00:00Z') = 'denied';
select 'revoke_missing_is_no_change', consent_revoke(3, NULL, '2026-01-05T00:00:00Z') = 'missing';
select 'revoke_missing_writes_nothing', (select count(*) from consent_request where customer_id = 3) = 0;
select 'failed_send_queue', consent_queue(1, '2026-01-06T00:00:00Z') = 'queued';
select 'failed_send_sent', consent_mark_sent(1, 'email', NULL, '2026-01-06T01:00:00Z') = 'sent';
select 'failed_send', consent_mark_error(1, 'SMTP 550 mailbox unavailable', '2026-01-06T01:00:05Z') = 'error';
select 'failed_send_label', (select label || ' / ' || reason from consent_overview where customer_id = 1) = 'Fel vid begäran av samtycke / SMTP 550 mailbox unavailable';
select 'revoke_error_is_no_change', consent_revoke(1, NULL, '2026-01-06T02:00:00Z') = 'error';
select 'queue_after_error', consent_queue(1, '2026-01-07T00:00:00Z') = 'queued';
select 'reason_gone_after_requeue', (select reason from consent_overview where customer_id = 1) IS NULL;
select 'mark_error_queued', consent_mark_error(1, 'render failed', '2026-01-07T00:00:01Z') = 'error';
select 'approve_from_error', consent_approve(1, NULL, '2026-01-07T00:00:02Z') = 'approved';
select 'approve_from_error_is_a_new_request', (select from_status || '>' || to_status || ' ' || actor from consent_event where customer_id = 1 order by id desc limit 1) = 'error>approved consent_approve';

-- Every change wrote exactly one event; the requests agree with the events.
select 'events_total', (select count(*) from consent_event) = 22;
select 'events_match_requests', (select count(*) from consent_request r where r.status = (select to_status from consent_event e where e.request_id = r.id order by e.id desc limit 1)) = (select count(*) from consent_request);
select 'log_verifies', consent_verify_log() = 'ok';
