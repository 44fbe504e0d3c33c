-- consent_label: the register's labels; Swedish unless told otherwise.

-- Before setup the labels are Swedish.
select 'sv_missing_default', consent_label('missing') = 'Samtycke saknas';
select 'sv_queued_default', consent_label('queued') = 'Begäran om samtycke är köad';
select 'sv_sent_default', consent_label('sent') = 'Begäran om samtycke är skickat';
select 'sv_approved_default', consent_label('approved') = 'Samtycke är godkänt';
select 'sv_denied_default', consent_label('denied') = 'Samtycke är nekat';
select 'sv_error_default', consent_label('error') = 'Fel vid begäran av samtycke';

select 'sv_missing', consent_label('missing', 'sv') = 'Samtycke saknas';
select 'sv_queued', consent_label('queued', 'sv') = 'Begäran om samtycke är köad';
select 'sv_sent', consent_label('sent', 'sv') = 'Begäran om samtycke är skickat';
select 'sv_approved', consent_label('approved', 'sv') = 'Samtycke är godkänt';
select 'sv_denied', consent_label('denied', 'sv') = 'Samtycke är nekat';
select 'sv_error', consent_label('error', 'sv') = 'Fel vid begäran av samtycke';

select 'en_missing', consent_label('missing', 'en') = 'Consent missing';
select 'en_queued', consent_label('queued', 'en') = 'Consent request queued';
select 'en_sent', consent_label('sent', 'en') = 'Consent request sent';
select 'en_approved', consent_label('approved', 'en') = 'Consent approved';
select 'en_denied', consent_label('denied', 'en') = 'Consent denied';
select 'en_error', consent_label('error', 'en') = 'Consent request failed';

select 'twelve_distinct_labels', (select count(distinct consent_label(s.column1, l.column1)) from (values ('missing'), ('queued'), ('sent'), ('approved'), ('denied'), ('error')) as s, (values ('sv'), ('en')) as l) = 12;
select 'null_language_is_the_setting', consent_label('denied', NULL) = 'Samtycke är nekat';

-- After setup the `language` setting decides; an explicit language wins.
select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'sv_after_init', consent_label('approved') = 'Samtycke är godkänt';
select 'overview_label_sv', (select label from consent_overview where customer_id = 1) = 'Samtycke saknas';
select 'language_en', consent_setting('language', 'en') = 'en';
select 'en_from_setting', consent_label('approved') = 'Consent approved';
select 'explicit_sv_wins', consent_label('approved', 'sv') = 'Samtycke är godkänt';
select 'overview_label_en', (select label from consent_overview where customer_id = 1) = 'Consent missing';
select 'language_sv_again', consent_setting('language', 'sv') = 'sv';
select 'sv_from_setting', consent_label('approved') = 'Samtycke är godkänt';
select 'explicit_en_wins', consent_label('approved', 'en') = 'Consent approved';

-- The register's status column, as the billing application shows it.
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter per e-post.') = 'Vi vill skicka nyheter per e-post.';
select 'queue_anna', consent_queue(1, '2026-01-01T00:00:00Z') = 'queued';
select 'register_labels', (select group_concat(consent_label(consent_status(id)), ';') from (select id from customers where id in (1, 5) order by id)) = 'Begäran om samtycke är köad;Samtycke saknas';
select 'overview_label_matches', (select count(*) from consent_overview where label = consent_label(status)) = 6;
select 'log_verifies', consent_verify_log() = 'ok';
