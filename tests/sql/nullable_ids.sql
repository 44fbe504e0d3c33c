-- A register whose id column is unique but allows NULL (SQLite's UNIQUE
-- does, and consent_init accepts it). A row without an id is no customer
-- anyone can address: the set-based functions pass over it, as the
-- overview does, and never fail for the whole register because of it.

CREATE TABLE kunder (
    kundnr TEXT UNIQUE,
    namn   TEXT,
    epost  TEXT,
    mobil  TEXT
);
INSERT INTO kunder VALUES
    ('K-001', 'Anna', 'anna@example.com', NULL),
    (NULL, 'Utan kundnummer', 'utan@example.com', NULL),
    ('K-003', 'Cecilia', NULL, NULL);

select 'init', consent_init('kunder', 'kundnr', 'epost', 'mobil', 'namn') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';
select 'overview_passes_over_null_id', (select group_concat(customer_id, ',') from consent_overview) = 'K-001,K-003';
select 'queue_all_passes_over_null_id', consent_queue_all('missing', '2026-01-01T00:00:00Z') = 1;
select 'queued', consent_status('K-001') = 'queued';
select 'error', consent_status('K-003') = 'error';
select 'one_event_per_customer', (select count(*) from consent_event) = 2;
select 'nothing_left', consent_queue_all('missing', '2026-01-02T00:00:00Z') = 0;
select 'log_verifies', consent_verify_log() = 'ok';
