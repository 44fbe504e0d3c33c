-- Bad arguments: wrong counts, NULL ids, unknown settings and bad values,
-- times that are not times, unknown statuses, languages and channels. None
-- of them changes anything.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';

-- Wrong argument counts quote the signature.
-- expect-error: consent_status: takes consent_status(id), got 2 arguments
select consent_status(1, 2);
-- expect-error: consent_status: takes consent_status(id), got 0 arguments
select consent_status();
-- expect-error: consent_version: takes consent_version(), got 1 argument
select consent_version(1);
-- expect-error: consent_queue: takes consent_queue(id [, at]), got 3 arguments
select consent_queue(1, NULL, NULL);
-- expect-error: consent_approve: takes consent_approve(id [, evidence [, at]]), got 4 arguments
select consent_approve(1, NULL, NULL, NULL);
-- expect-error: consent_mark_sent: takes consent_mark_sent(id, channel [, page_id [, at]]), got 1 argument
select consent_mark_sent(1);
-- expect-error: consent_mark_error: takes consent_mark_error(id, reason [, at]), got 1 argument
select consent_mark_error(1);
-- expect-error: consent_queue_all: takes consent_queue_all([status [, at]]), got 3 arguments
select consent_queue_all('missing', NULL, NULL);
-- expect-error: consent_expire: takes consent_expire([now]), got 2 arguments
select consent_expire(NULL, NULL);
-- expect-error: consent_label: takes consent_label(status [, language]), got 0 arguments
select consent_label();
-- expect-error: consent_setting: takes consent_setting(key [, value]), got 3 arguments
select consent_setting('language', 'sv', 'en');
-- expect-error: consent_record: takes consent_record(id), got 0 arguments
select consent_record();

-- A NULL id.
-- expect-error: consent_status: id is NULL; pass the customer's id
select consent_status(NULL);
-- expect-error: consent_queue: id is NULL
select consent_queue(NULL);
-- expect-error: consent_approve: id is NULL
select consent_approve(NULL);
-- expect-error: consent_revoke: id is NULL
select consent_revoke(NULL);
-- expect-error: consent_mark_sent: id is NULL
select consent_mark_sent(NULL, 'email');
-- expect-error: consent_record: id is NULL; pass the customer's id
select consent_record(NULL);

-- Settings: an unknown key lists the keys; a bad value says what is allowed.
-- expect-error: consent_setting: unknown setting 'colour'
-- expect-error: the settings are info_text, business_name, sms_enabled, expiry_days, language, queue_new_customers
select consent_setting('colour');
-- expect-error: consent_setting: unknown setting 'colour'
select consent_setting('colour', 'red');
-- expect-error: consent_setting: '2' is not a valid value for sms_enabled; it must be 0 or 1
select consent_setting('sms_enabled', '2');
-- expect-error: 'yes' is not a valid value for sms_enabled
select consent_setting('sms_enabled', 'yes');
-- expect-error: '0' is not a valid value for expiry_days; it must be a whole number of days from 1 to 365
select consent_setting('expiry_days', 0);
-- expect-error: '366' is not a valid value for expiry_days
select consent_setting('expiry_days', 366);
-- expect-error: '7.5' is not a valid value for expiry_days
select consent_setting('expiry_days', '7.5');
-- expect-error: '+7' is not a valid value for expiry_days
select consent_setting('expiry_days', '+7');
-- expect-error: 'de' is not a valid value for language; it must be 'sv' (Swedish) or 'en' (English)
select consent_setting('language', 'de');
-- expect-error: is not a valid value for info_text; it must be the business's own information text, not blank
select consent_setting('info_text', '   ');
-- expect-error: is not a valid value for business_name
select consent_setting('business_name', '');
-- expect-error: consent_setting: value is NULL
select consent_setting('language', NULL);
-- expect-error: consent_setting: key is NULL
select consent_setting(NULL);
select 'settings_unchanged', consent_setting('sms_enabled') = 0 and consent_setting('expiry_days') = 7 and consent_setting('language') = 'sv' and consent_setting('info_text') = 'Vi vill skicka nyheter.';

-- Times.
-- expect-error: consent_queue: at 'yesterday' is not a time; pass unix seconds or ISO-8601
select consent_queue(1, 'yesterday');
-- expect-error: consent_expire: now '2026-02-30' is not a time
select consent_expire('2026-02-30');
-- expect-error: consent_approve: at '2026-01-01T25:00' is not a time
select consent_approve(1, NULL, '2026-01-01T25:00');
-- expect-error: consent_queue: at a 3-byte blob is not a time
select consent_queue(1, x'010203');

-- Statuses, languages, channels and page ids.
-- expect-error: consent_label: unknown status 'pending'; pass one of 'missing', 'queued', 'sent', 'approved', 'denied', 'error'
select consent_label('pending');
-- expect-error: consent_label: unknown language 'de'; pass 'sv' or 'en'
select consent_label('queued', 'de');
-- expect-error: consent_label: status is NULL
select consent_label(NULL);
-- expect-error: consent_queue_all: unknown status 'pending'
select consent_queue_all('pending');
select 'queue', consent_queue(1, '2026-01-01T00:00:00Z') = 'queued';
-- expect-error: consent_mark_sent: unknown channel 'fax'; pass 'email' or 'sms'
select consent_mark_sent(1, 'fax');
-- expect-error: consent_mark_sent: page_id must be 22 characters of A-Z, a-z, 0-9, '-' and '_' (base64url), as the portal draws it
select consent_mark_sent(1, 'email', 'short');
-- expect-error: consent_mark_sent: page_id must be 22 characters
select consent_mark_sent(1, 'email', 'has spaces, 22 long...');
-- expect-error: consent_mark_sent: page_id must be 22 characters
select consent_mark_sent(1, 'email', 'AbCdEfGhIjKlMnOpQrStUvW');
-- expect-error: consent_mark_sent: page_id must be 22 characters
select consent_mark_sent(1, 'email', 'AbCdEfGhIjKlMnOpQrStU=');
-- expect-error: consent_mark_sent: channel is NULL
select consent_mark_sent(1, NULL);
-- expect-error: consent_mark_error: reason is NULL
select consent_mark_error(1, NULL);

select 'still_queued', consent_status(1) = 'queued';
select 'only_the_queue_wrote', (select count(*) from consent_event) = 1 and (select count(*) from consent_request) = 1;
