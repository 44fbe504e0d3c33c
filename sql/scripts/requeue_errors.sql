-- Try again for every customer whose request failed (status 'error'), for
-- example after fixing e-mail addresses in the register or turning on SMS
-- with consent_setting('sms_enabled', 1). Safe to run as is: one set-based
-- statement; customers who still cannot be reached stay in 'error'.
--
--   sqlite3 -bail -cmd '.load /path/to/libconsent' billing.db < sql/scripts/requeue_errors.sql

SELECT consent_queue_all('error') AS queued;

-- Who is still in error, and why.
SELECT customer_id, name, reason
FROM consent_overview
WHERE status = 'error'
ORDER BY customer_id;
