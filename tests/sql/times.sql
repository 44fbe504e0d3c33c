-- The `at` argument: unix seconds or ISO-8601 (no offset = UTC), stored as
-- canonical UTC text; NULL or absent means now.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';

select 'unix_seconds', consent_queue(1, 1767225600) = 'queued';
select 'unix_seconds_stored', (select at from consent_event where customer_id = 1 order by id desc limit 1) = '2026-01-01T00:00:00Z';
select 'unix_seconds_as_text', consent_mark_sent(1, 'email', NULL, '1767229200') = 'sent';
select 'unix_seconds_as_text_stored', (select at from consent_event where customer_id = 1 order by id desc limit 1) = '2026-01-01T01:00:00Z';
select 'iso_with_offset', consent_approve(1, NULL, '2026-01-01T03:30:00+01:00') = 'approved';
select 'iso_with_offset_stored', (select at from consent_event where customer_id = 1 order by id desc limit 1) = '2026-01-01T02:30:00Z';
select 'date_only', consent_revoke(1, NULL, '2026-01-02') = 'denied';
select 'date_only_stored', (select at from consent_event where customer_id = 1 order by id desc limit 1) = '2026-01-02T00:00:00Z';
select 'space_and_minutes', consent_queue(1, '2026-01-03 04:05') = 'queued';
select 'space_and_minutes_stored', (select at from consent_event where customer_id = 1 order by id desc limit 1) = '2026-01-03T04:05:00Z';
select 'fraction_ignored', consent_mark_sent(1, 'email', NULL, '2026-01-03T05:00:00.750Z') = 'sent';
select 'fraction_ignored_stored', (select at from consent_event where customer_id = 1 order by id desc limit 1) = '2026-01-03T05:00:00Z';
select 'real_seconds', consent_mark_error(1, 'bounce', 1767416400.9) = 'error';
select 'real_seconds_stored', (select at from consent_event where customer_id = 1 order by id desc limit 1) = '2026-01-03T05:00:00Z';
select 'negative_offset', consent_queue(1, '2026-01-03T23:00:00-02:00') = 'queued';
select 'negative_offset_stored', (select at from consent_event where customer_id = 1 order by id desc limit 1) = '2026-01-04T01:00:00Z';
select 'request_times', (select created_at || ' ' || updated_at from consent_request where customer_id = 1 order by id desc limit 1) = '2026-01-04T01:00:00Z 2026-01-04T01:00:00Z';

-- NULL and absent mean now.
select 'null_is_now', consent_queue(5, NULL) = 'queued';
select 'null_is_now_stored', (select at between strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-10 minutes') and strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+10 minutes') from consent_event where customer_id = 5) = 1;
select 'absent_is_now', consent_queue(6) = 'queued';
select 'absent_is_now_stored', (select at between strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-10 minutes') and strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+10 minutes') from consent_event where customer_id = 6) = 1;
select 'null_skips_optional', consent_mark_sent(5, 'email', NULL, NULL) = 'sent';
select 'expire_now_leaves_fresh', consent_expire() = 0 and consent_expire(NULL) = 0;
select 'expire_unix_far_future', consent_expire(4102444800) = 1;
select 'stored_times_sort_as_text', (select count(*) from consent_event where at not glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z') = 0;
select 'log_verifies', consent_verify_log() = 'ok';
