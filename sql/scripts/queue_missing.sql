-- Queue a consent request for every customer who has never been asked.
-- Safe to run as is, as often as you like: one set-based statement, so it
-- needs no transaction, and customers already asked are left alone.
-- Customers without a usable e-mail address (or mobile number with SMS on)
-- go to 'error' with the reason, as consent_queue would put them.
--
--   sqlite3 -bail -cmd '.load /path/to/libconsent' billing.db < sql/scripts/queue_missing.sql

SELECT consent_queue_all('missing') AS queued;

SELECT consent_label(status, 'sv') AS status, count(*) AS customers
FROM consent_overview
GROUP BY status
ORDER BY customers DESC;
