-- Misuse before and during setup. Each statement runs on its own; one
-- preceded by `-- expect-error:` lines must fail with all of them in the
-- message, any other must pass as a check.

-- Before consent_init every function that needs the setup says how to fix it.
-- expect-error: consent_status: consent is not set up in this database
-- expect-error: run consent_init(table, id_column, email_column, mobile_column [, name_column [, language_column]]) first
select consent_status(1);
-- expect-error: consent_queue: consent is not set up
select consent_queue(1);
-- expect-error: consent_approve: consent is not set up
select consent_approve(1);
-- expect-error: consent_queue_all: consent is not set up
select consent_queue_all();
-- expect-error: consent_expire: consent is not set up
select consent_expire();
-- expect-error: consent_setting: consent is not set up
select consent_setting('info_text', 'Vi vill skicka nyheter.');
-- expect-error: consent_overview: consent is not set up
select * from consent_overview;
select 'nothing_created', (select count(*) from sqlite_master where name like 'consent\_%' escape '\') = 0;

-- consent_init names what is missing.
-- expect-error: consent_init: no table "kunder" in this database
-- expect-error: its tables are "customers", "invoices"
select consent_init('kunder', 'id', 'email', 'mobile');
-- expect-error: consent_init: table "customers" has no column "epost" for the e-mail address
-- expect-error: its columns are id, name, email, mobile, notes
select consent_init('customers', 'id', 'epost', 'mobile');
-- expect-error: has no column "kundnr" for the customer id
select consent_init('customers', 'kundnr', 'email', 'mobile');
-- expect-error: has no column "tel" for the mobile number
select consent_init('customers', 'id', 'email', 'tel');
-- expect-error: has no column "namn" for the customer's name
select consent_init('customers', 'id', 'email', 'mobile', 'namn');
-- expect-error: table "customers" has no column "sprak" for the customer's language
-- expect-error: its columns are id, name, email, mobile, notes
select consent_init('customers', 'id', 'email', 'mobile', 'name', 'sprak');
-- expect-error: has no column "sprak" for the customer's language
select consent_init('customers', 'id', 'email', 'mobile', NULL, 'sprak');
-- expect-error: consent_init: column "name" of table "customers" is not unique
-- expect-error: CREATE UNIQUE INDEX
select consent_init('customers', 'name', 'email', 'mobile');
-- expect-error: consent_init: takes consent_init(table, id_column, email_column, mobile_column [, name_column [, language_column]]), got 3 arguments
select consent_init('customers', 'id', 'email');
-- expect-error: got 7 arguments
select consent_init('customers', 'id', 'email', 'mobile', 'name', 'notes', 'notes');
-- expect-error: consent_init: table is NULL
select consent_init(NULL, 'id', 'email', 'mobile');
-- Identifiers are looked up, never pasted into SQL.
-- expect-error: no table "customers; DROP TABLE invoices; --"
select consent_init('customers; DROP TABLE invoices; --', 'id', 'email', 'mobile');
-- expect-error: has no column "id"" FROM customers; --"
select consent_init('customers', 'id" FROM customers; --', 'email', 'mobile');
select 'invoices_still_there', (select count(*) from invoices) = 4;
select 'failed_inits_created_nothing', (select count(*) from sqlite_master where name like 'consent\_%' escape '\') = 0;

-- After a good consent_init the same calls work.
select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';
select 'status_after_init', consent_status(1) = 'missing';
