-- Who can be queued: an e-mail address, or a mobile number when the
-- business has SMS. Everyone else goes to 'error' with the reason, in the
-- register's language; blank strings count as absent.
-- Fixture: 1 e-mail and mobile, 2 mobile only, 3 nothing, 4 blanks only,
-- 5 e-mail only, 6 e-mail and mobile.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';

-- Without SMS (the default).
select 'email_and_mobile', consent_queue(1, '2026-01-01T00:00:00Z') = 'queued';
select 'email_only', consent_queue(5, '2026-01-01T00:00:00Z') = 'queued';
select 'mobile_only_without_sms', consent_queue(2, '2026-01-01T00:00:00Z') = 'error';
select 'mobile_only_reason_sv', (select reason from consent_overview where customer_id = 2) = 'Kunden saknar e-postadress, och SMS är inte aktiverat (sms_enabled = 0)';
select 'no_contact', consent_queue(3, '2026-01-01T00:00:00Z') = 'error';
select 'no_contact_reason_sv', (select reason from consent_overview where customer_id = 3) = 'Kunden saknar både e-postadress och mobilnummer';
select 'blanks_are_absent', consent_queue(4, '2026-01-01T00:00:00Z') = 'error';
select 'blanks_reason_sv', (select reason from consent_overview where customer_id = 4) = 'Kunden saknar både e-postadress och mobilnummer';
select 'error_label', (select label from consent_overview where customer_id = 3) = 'Fel vid begäran av samtycke';
select 'error_event', (select from_status || '>' || to_status || ' ' || detail from consent_event where customer_id = 3) = 'missing>error Kunden saknar både e-postadress och mobilnummer';

-- Queueing someone who is still unreachable changes and writes nothing.
select 'still_unreachable', consent_queue(3, '2026-01-02T00:00:00Z') = 'error';
select 'still_unreachable_writes_nothing', (select count(*) from consent_event where customer_id = 3) = 1;
select 'still_unreachable_keeps_time', (select changed_at from consent_overview where customer_id = 3) = '2026-01-01T00:00:00Z';

-- With SMS the mobile-only customer can be queued, and sent by SMS.
select 'sms_on', consent_setting('sms_enabled', '1') = 1;
select 'mobile_only_with_sms', consent_queue(2, '2026-01-03T00:00:00Z') = 'queued';
select 'mobile_only_events', (select group_concat(from_status || '>' || to_status, ' ') from (select * from consent_event where customer_id = 2 order by id)) = 'missing>error error>queued';
select 'queued_has_no_reason', (select reason from consent_overview where customer_id = 2) IS NULL;
select 'sent_by_sms', consent_mark_sent(2, 'sms', NULL, '2026-01-03T01:00:00Z') = 'sent';
select 'sms_channel', (select channel from consent_request where customer_id = 2 and status = 'sent') = 'sms';
select 'sms_does_not_help_nobody', consent_queue(3, '2026-01-03T00:00:00Z') = 'error';
select 'sms_does_not_help_blanks', consent_queue(4, '2026-01-03T00:00:00Z') = 'error';

-- The reasons follow the language setting.
select 'language_en', consent_setting('language', 'en') = 'en';
INSERT INTO customers (id, name, email, mobile) VALUES (7, 'Greta Gran', NULL, NULL), (8, 'Hugo Holm', '', '+46701000008');
select 'no_contact_en', consent_queue(7, '2026-01-04T00:00:00Z') = 'error';
select 'no_contact_reason_en', (select reason from consent_overview where customer_id = 7) = 'The customer has neither an e-mail address nor a mobile number';
select 'sms_off', consent_setting('sms_enabled', '0') = 0;
select 'mobile_only_en', consent_queue(8, '2026-01-04T00:00:00Z') = 'error';
select 'mobile_only_reason_en', (select reason from consent_overview where customer_id = 8) = 'The customer has no e-mail address, and SMS is not enabled (sms_enabled = 0)';

-- A mobile number stored as a number counts.
INSERT INTO customers (id, name, email, mobile) VALUES (9, 'Ida Ivarsson', NULL, 46701000009);
select 'sms_on_again', consent_setting('sms_enabled', 1) = 1;
select 'numeric_mobile', consent_queue(9, '2026-01-05T00:00:00Z') = 'queued';

-- The billing application adds an e-mail address: the error can be queued.
UPDATE customers SET email = 'cecilia@example.com' WHERE id = 3;
select 'contact_added', consent_queue(3, '2026-01-06T00:00:00Z') = 'queued';
select 'contact_added_events', (select group_concat(from_status || '>' || to_status, ' ') from (select * from consent_event where customer_id = 3 order by id)) = 'missing>error error>queued';

-- A denied customer who lost every contact goes to error, not queued.
select 'approve_5', consent_approve(5, NULL, '2026-01-07T00:00:00Z') = 'approved';
select 'revoke_5', consent_revoke(5, NULL, '2026-01-08T00:00:00Z') = 'denied';
UPDATE customers SET email = NULL WHERE id = 5;
select 'denied_unreachable', consent_queue(5, '2026-01-09T00:00:00Z') = 'error';
select 'denied_unreachable_reason', (select reason from consent_overview where customer_id = 5) = 'The customer has neither an e-mail address nor a mobile number';

-- A send that failed, and the address removed since: queued again, the
-- customer is still unreachable (SMS is off, so his mobile number does not
-- serve), and the reason recorded is the one that holds now, with its
-- event. Queued again, nothing is written.
select 'filip_sms_off', consent_setting('sms_enabled', 0) = 0;
select 'filip_queued', consent_queue(6, '2026-01-10T00:00:00Z') = 'queued';
select 'filip_bounced', consent_mark_error(6, 'SMTP 550 5.1.1: mailbox unavailable', '2026-01-10T01:00:00Z') = 'error';
UPDATE customers SET email = NULL WHERE id = 6;
select 'filip_requeued', consent_queue(6, '2026-01-11T00:00:00Z') = 'error';
select 'filip_reason_now', (select reason from consent_overview where customer_id = 6) = 'The customer has no e-mail address, and SMS is not enabled (sms_enabled = 0)';
select 'filip_event', (select from_status || '>' || to_status || ' ' || detail from consent_event where customer_id = 6 order by id desc limit 1) = 'error>error The customer has no e-mail address, and SMS is not enabled (sms_enabled = 0)';
select 'filip_again_writes_nothing', consent_queue(6, '2026-01-12T00:00:00Z') = 'error' and consent_queue_all('error', '2026-01-12T00:00:00Z') = 0 and (select count(*) from consent_event where customer_id = 6) = 3;
select 'log_verifies', consent_verify_log() = 'ok';
