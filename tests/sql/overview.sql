-- consent_overview: one row per customer for the register and for DBAs.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';

select 'columns', (select group_concat(name, ',') from pragma_table_info('consent_overview')) = 'customer_id,name,status,label,reason,changed_at,request_id';
select 'one_row_per_customer', (select count(*) from consent_overview) = 6;
select 'ids_in_order', (select group_concat(customer_id, ',') from consent_overview) = '1,2,3,4,5,6';
select 'names', (select group_concat(name, ',') from (select name from consent_overview order by customer_id)) = 'Anna Andersson,Bertil Berg,Cecilia Ceder,David Dahl,Eva Ek,Filip Fors';
select 'all_missing', (select count(*) from consent_overview where status = 'missing' and label = 'Samtycke saknas' and reason is null and changed_at is null and request_id is null) = 6;

select 'queue_all', consent_queue_all('missing', '2026-01-01T00:00:00Z') = 3;
select 'by_status', (select group_concat(status || '=' || n, ',') from (select status, count(*) as n from consent_overview group by status order by status)) = 'error=3,queued=3';
select 'look_up_one', (select name || ' ' || status from consent_overview where customer_id = 3) = 'Cecilia Ceder error';
select 'look_up_unknown', (select count(*) from consent_overview where customer_id = 99) = 0;
select 'look_up_null', (select count(*) from consent_overview where customer_id = NULL) = 0;
select 'look_up_in', (select count(*) from consent_overview where customer_id in (1, 3, 99)) = 2;
select 'range', (select count(*) from consent_overview where customer_id > 4) = 2;
select 'reason_only_for_errors', (select count(*) from consent_overview where (status = 'error') = (reason is not null)) = 6;
select 'changed_at', (select count(*) from consent_overview where changed_at = '2026-01-01T00:00:00Z') = 6;
select 'request_ids', (select count(*) from consent_overview o join consent_request r on r.id = o.request_id and r.customer_id = o.customer_id) = 6;

-- Joined with the billing application's own tables.
select 'join_billing', (select count(*) from customers c join consent_overview o on o.customer_id = c.id) = 6;
select 'approve_anna', consent_approve(1, NULL, '2026-01-02T00:00:00Z') = 'approved';
select 'invoice_total_of_approved', (select sum(i.amount) from invoices i join consent_overview o on o.customer_id = i.customer_id where o.status = 'approved') = 1500;
select 'status_function_agrees', (select count(*) from consent_overview where status = consent_status(customer_id)) = 6;

-- New billing customers show up as missing at once.
INSERT INTO customers (id, name, email, mobile) VALUES (7, 'Greta Gran', 'greta@example.com', NULL);
select 'new_customer', (select status from consent_overview where customer_id = 7) = 'missing';

-- Without a recorded name column the name is NULL.
select 'init_without_name', consent_init('customers', 'id', 'email', 'mobile') = 'ok';
select 'no_names', (select count(*) from consent_overview where name is null) = 7;
select 'log_verifies', consent_verify_log() = 'ok';
