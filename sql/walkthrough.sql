-- A walk through every status, on a sample register. `consent-portal
-- walkthrough` runs it statement by statement and prints each result; the
-- same statements work in the sqlite3 shell after `.load libconsent`.
-- Times are explicit so the walk is the same every day.

-- The billing application's register, as a legacy program would have it.
CREATE TABLE kunder (
    kundnr  INTEGER PRIMARY KEY,
    namn    TEXT NOT NULL,
    epost   TEXT,
    mobil   TEXT,
    adress  TEXT
);
INSERT INTO kunder VALUES
    (1001, 'Anna Andersson',   'anna.andersson@example.se', NULL,            'Storgatan 1, Umeå'),
    (1002, 'Bo Berg',          NULL,                        '070-123 45 67', 'Sjövägen 4, Luleå'),
    (1003, 'Cecilia Carlsson', NULL,                        NULL,            'Kyrkvägen 9, Gävle'),
    (1004, 'David Dahl',       'david.dahl@example.se',     '0709-87 65 43', 'Torget 2, Visby');

-- Once: tell the extension where the customers are, and set the texts.
SELECT consent_init('kunder', 'kundnr', 'epost', 'mobil', 'namn');
SELECT consent_setting('business_name', 'Dahls Rör AB');
SELECT consent_setting('info_text', 'Vi sparar ditt namn, din adress och din e-postadress för att kunna fakturera dig.');

-- Anna has never been asked.
SELECT consent_status(1001), consent_label(consent_status(1001));
-- A clerk ticks the box: the request is queued.
SELECT consent_queue(1001, '2026-11-02T09:00:00Z');
-- The update-consent run sends it by e-mail.
SELECT consent_mark_sent(1001, 'email', NULL, '2026-11-02T18:00:00Z');
-- Anna approves on the page; the next run records it.
SELECT consent_approve(1001, 'manual', '2026-11-03T08:15:00Z');
-- She changes her mind and calls: the clerk revokes the approval.
SELECT consent_revoke(1001, 'customer called', '2026-11-10T14:00:00Z');
-- Later she is asked again, and the request goes out once more.
SELECT consent_queue(1001, '2026-11-20T09:00:00Z');
SELECT consent_mark_sent(1001, 'email', NULL, '2026-11-20T18:00:00Z');
-- She does not answer. After 7 days silence becomes 'denied'.
SELECT consent_expire('2026-11-27T17:59:59Z');
SELECT consent_expire('2026-11-27T18:00:00Z');
SELECT consent_status(1001), consent_label(consent_status(1001));

-- The rest of the register in one statement: Bo has no e-mail (and SMS is
-- off), Cecilia has neither, so both end in 'error' with the reason.
SELECT consent_queue_all('missing', '2026-11-28T09:00:00Z');
SELECT customer_id, name, status, label, reason FROM consent_overview;

-- Every change, from the append-only audit log.
SELECT from_status, to_status, actor, detail, at FROM consent_event WHERE customer_id = 1001 ORDER BY id;
