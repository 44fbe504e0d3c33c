-- consent_forget refuses a pending request, an unknown customer, and any
-- call that is not direct.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';
select 'queue', consent_queue(1, '2026-01-01T00:00:00Z') = 'queued';

-- expect-error: consent_forget: customer 1 is 'queued'
-- expect-error: revoke first: consent_revoke(id, 'erasure requested')
SELECT consent_forget(1);

-- expect-error: consent_forget: no customer with id 99
SELECT consent_forget(99);

CREATE VIEW forget_everyone AS SELECT consent_forget(id) AS erased FROM customers;
-- expect-error: unsafe use of consent_forget()
SELECT * FROM forget_everyone;
DROP VIEW forget_everyone;

select 'revoke', consent_revoke(1, 'erasure requested', '2026-01-02T00:00:00Z') = 'denied';
select 'forget', json_extract(consent_forget(1, '2026-01-03T00:00:00Z'), '$.requests_erased') = 1;
select 'verifies', consent_verify_log() = 'ok';
