-- A register whose customer id is text with a unique index, not an INTEGER
-- PRIMARY KEY. consent_request.customer_id takes the id column's type, so
-- an id passed as a number finds the text id it spells, as in SQL.

CREATE TABLE kunder (
    kundnr TEXT NOT NULL UNIQUE,
    namn   TEXT,
    epost  TEXT,
    mobil  TEXT
);
INSERT INTO kunder VALUES ('K-001', 'Anna', 'anna@example.com', NULL), ('K-002', 'Bertil', NULL, NULL), ('100', 'Cecilia', 'c@example.com', NULL);

select 'init', consent_init('kunder', 'kundnr', 'epost', 'mobil', 'namn') = 'ok';
select 'customer_id_is_text', (select type from pragma_table_info('consent_request') where name = 'customer_id') = 'TEXT' and (select type from pragma_table_info('consent_event') where name = 'customer_id') = 'TEXT';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';
select 'status_text_id', consent_status('K-001') = 'missing';
select 'queue_text_id', consent_queue('K-001', '2026-01-01T00:00:00Z') = 'queued';
select 'unreachable_text_id', consent_queue('K-002', '2026-01-01T00:00:00Z') = 'error';
select 'numeric_text_id', consent_queue('100', '2026-01-01T00:00:00Z') = 'queued';
select 'stored_as_text', (select count(*) from consent_request where typeof(customer_id) = 'text') = 3;
select 'overview_text_ids', (select group_concat(customer_id || ':' || status, ',') from consent_overview) = '100:queued,K-001:queued,K-002:error';
select 'overview_look_up', (select namn from kunder where kundnr = (select customer_id from consent_overview where customer_id = 'K-002')) = 'Bertil';
select 'number_finds_text_id', consent_status(100) = 'queued';
select 'queue_all_text_ids', consent_queue_all('missing', '2026-01-02T00:00:00Z') = 0;
select 'log_verifies', consent_verify_log() = 'ok';
