-- The consent status of the register, with the labels the billing
-- application shows (Swedish), then every customer whose request failed
-- with the reason. Reads only; safe to run at any time.
--
--   sqlite3 -bail -header -column -cmd '.load /path/to/libconsent' billing.db < sql/scripts/status_report.sql

SELECT consent_label(s.status, 'sv') AS status, coalesce(c.customers, 0) AS customers
FROM (SELECT 'missing' AS status, 1 AS position UNION ALL SELECT 'queued', 2
      UNION ALL SELECT 'sent', 3 UNION ALL SELECT 'approved', 4
      UNION ALL SELECT 'denied', 5 UNION ALL SELECT 'error', 6) AS s
LEFT JOIN (SELECT status, count(*) AS customers FROM consent_overview GROUP BY status) AS c
  ON c.status = s.status
ORDER BY s.position;

SELECT customer_id, name, reason, changed_at
FROM consent_overview
WHERE status = 'error'
ORDER BY customer_id;
