-- The functions that write may only be called directly: a view or trigger
-- that someone put into the database file cannot make them write. The
-- functions that only read work anywhere.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';

CREATE VIEW queue_everyone AS SELECT consent_queue(id) AS status FROM customers;
-- expect-error: unsafe use of consent_queue()
SELECT * FROM queue_everyone;
DROP VIEW queue_everyone;

CREATE VIEW approve_everyone AS SELECT consent_approve(id) AS status FROM customers;
-- expect-error: unsafe use of consent_approve()
SELECT * FROM approve_everyone;
DROP VIEW approve_everyone;

CREATE TRIGGER queue_new_customers AFTER INSERT ON customers BEGIN SELECT consent_queue(NEW.id); END;
-- expect-error: unsafe use of consent_queue()
INSERT INTO customers (id, name, email) VALUES (7, 'Greta Gran', 'greta@example.com');
DROP TRIGGER queue_new_customers;

CREATE TRIGGER expire_on_insert AFTER INSERT ON invoices BEGIN SELECT consent_expire(); END;
-- expect-error: unsafe use of consent_expire()
INSERT INTO invoices (customer_id, amount) VALUES (1, 100);
DROP TRIGGER expire_on_insert;

select 'nothing_written', (select count(*) from consent_request) = 0 and (select count(*) from customers) = 6 and (select count(*) from invoices) = 4;

-- Readers are not restricted.
CREATE VIEW register AS SELECT id, name, consent_label(consent_status(id)) AS consent FROM customers;
select 'reader_in_view', (select consent from register where id = 1) = 'Samtycke saknas';
