-- consent_version, consent_init and consent_setting: the happy paths.

-- Before setup: the version works and nothing of ours exists.
select 'version_is_semver', consent_version() GLOB '[0-9]*.[0-9]*.[0-9]*';
select 'no_consent_tables_before_init', (select count(*) from sqlite_master where name like 'consent\_%' escape '\') = 0;
select 'setting_default_before_init', consent_setting('language') = 'sv';

CREATE TEMP TABLE billing_schema_before AS SELECT type, name, sql FROM main.sqlite_master;

-- consent_init creates our tables beside the billing tables, idempotently.
select 'init_returns_ok', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'init_creates_tables', (select group_concat(name, ',') from (select name from sqlite_master where type = 'table' and name like 'consent\_%' escape '\' order by name)) = 'consent_command,consent_event,consent_meta,consent_notice,consent_request,consent_settings,consent_text';
select 'init_records_table', (select value from consent_meta where key = 'table') = 'customers';
select 'init_records_columns', (select group_concat(key || '=' || value, ',') from (select key, value from consent_meta where key in ('id_column', 'email_column', 'mobile_column', 'name_column') order by key)) = 'email_column=email,id_column=id,mobile_column=mobile,name_column=name';
select 'event_columns', (select group_concat(name, ',') from pragma_table_info('consent_event')) = 'id,customer_id,request_id,from_status,to_status,actor,detail,at,hash,form,detail_sha256,erased_at';
-- One view, over the consent tables only: a view that named the billing
-- table would make the billing application's ALTER TABLE ... DROP COLUMN fail.
select 'only_the_status_view', (select group_concat(name) from sqlite_master where type = 'view') = 'consent_statuses';
select 'the_view_reads_consent_tables_only', (select sql from sqlite_master where name = 'consent_statuses') NOT LIKE '%customers%';
select 'no_triggers_on_billing_tables', (select count(*) from sqlite_master where type = 'trigger' and tbl_name not like 'consent\_%' escape '\') = 0;
select 'customer_id_has_the_billing_type', (select type from pragma_table_info('consent_request') where name = 'customer_id') = 'INTEGER';
select 'init_is_idempotent', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'init_without_name_column', consent_init('customers', 'id', 'email', 'mobile') = 'ok';
select 'name_column_forgotten', (select value from consent_meta where key = 'name_column') IS NULL;
select 'no_language_column_recorded', (select value from consent_meta where key = 'language_column') IS NULL;
-- The optional language column, after the name column (NULL skips the name).
select 'init_with_language_column', consent_init('customers', 'id', 'email', 'mobile', 'name', 'notes') = 'ok';
select 'language_column_recorded', (select value from consent_meta where key = 'language_column') = 'notes' and (select value from consent_meta where key = 'name_column') = 'name';
select 'init_with_language_column_and_no_name', consent_init('customers', 'id', 'email', 'mobile', NULL, 'NOTES') = 'ok';
select 'language_column_real_name_and_no_name', (select value from consent_meta where key = 'language_column') = 'notes' and (select value from consent_meta where key = 'name_column') IS NULL;
select 'init_without_language_column', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'language_column_forgotten', (select value from consent_meta where key = 'language_column') IS NULL;
select 'init_ignores_case', consent_init('CUSTOMERS', 'ID', 'Email', 'MOBILE', 'Name') = 'ok';
select 'init_stores_real_names', (select value from consent_meta where key = 'table') = 'customers' and (select value from consent_meta where key = 'email_column') = 'email';

-- The billing application's tables and its user_version are left alone.
select 'billing_schema_untouched', (select count(*) from billing_schema_before b join main.sqlite_master m on m.type = b.type and m.name = b.name and m.sql IS b.sql) = (select count(*) from billing_schema_before);
select 'billing_rows_untouched', (select count(*) from customers) = 6 and (select sum(amount) from invoices) = 2940;
select 'user_version_untouched', (select user_version from pragma_user_version) = 0;
select 'init_writes_no_events', (select count(*) from consent_event) = 0;
select 'everyone_starts_missing', (select count(*) from customers where consent_status(id) = 'missing') = 6;
select 'missing_writes_nothing', (select count(*) from consent_request) = 0;

-- Settings: the defaults.
select 'sms_enabled_default', consent_setting('sms_enabled') = 0;
select 'sms_enabled_is_integer', typeof(consent_setting('sms_enabled')) = 'integer';
select 'expiry_days_default', consent_setting('expiry_days') = 7;
select 'expiry_days_is_integer', typeof(consent_setting('expiry_days')) = 'integer';
select 'language_default', consent_setting('language') = 'sv';
select 'info_text_has_no_default', consent_setting('info_text') IS NULL;
select 'business_name_has_no_default', consent_setting('business_name') IS NULL;

-- Setting returns the value; reading returns it back.
select 'set_info_text', consent_setting('info_text', 'Exempelbolaget skickar erbjudanden och nyheter per e-post och SMS.') = 'Exempelbolaget skickar erbjudanden och nyheter per e-post och SMS.';
select 'get_info_text', consent_setting('info_text') = 'Exempelbolaget skickar erbjudanden och nyheter per e-post och SMS.';
select 'set_business_name', consent_setting('business_name', 'Exempelbolaget AB') = 'Exempelbolaget AB';
select 'get_business_name', consent_setting('business_name') = 'Exempelbolaget AB';
select 'set_sms_enabled', consent_setting('sms_enabled', '1') = 1;
select 'get_sms_enabled', consent_setting('sms_enabled') = 1;
select 'set_sms_enabled_from_integer', consent_setting('sms_enabled', 0) = 0;
select 'set_expiry_days', consent_setting('expiry_days', '14') = 14;
select 'get_expiry_days', consent_setting('expiry_days') = 14;
select 'set_expiry_days_max', consent_setting('expiry_days', 365) = 365;
select 'set_expiry_days_min', consent_setting('expiry_days', 1) = 1;
select 'set_language_en', consent_setting('language', 'en') = 'en';
select 'set_language_sv', consent_setting('language', 'sv') = 'sv';
select 'one_row_per_setting', (select count(*) from consent_settings) = 5;
select 'settings_write_no_events', (select count(*) from consent_event) = 0;

-- consent_init again keeps the settings.
select 'reinit', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'reinit_keeps_settings', consent_setting('expiry_days') = 1 and consent_setting('business_name') = 'Exempelbolaget AB';
select 'log_verifies', consent_verify_log() = 'ok';
