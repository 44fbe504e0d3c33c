-- The billing application's customer register every suite starts from
-- (created before the extension is loaded, as a legacy register would be).
-- Not a suite itself: the runner skips files that start with '_'.
CREATE TABLE customers (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL,
    email  TEXT,
    mobile TEXT,
    notes  TEXT
);
INSERT INTO customers (id, name, email, mobile, notes) VALUES
    (1, 'Anna Andersson', 'anna@example.com',  '+46701000001', NULL),
    (2, 'Bertil Berg',    NULL,                '+46701000002', 'mobile only'),
    (3, 'Cecilia Ceder',  NULL,                NULL,           'no contact details'),
    (4, 'David Dahl',     '   ',               '',             'blank contact details'),
    (5, 'Eva Ek',         'eva@example.com',   NULL,           NULL),
    (6, 'Filip Fors',     'filip@example.com', '+46701000006', NULL);
-- The application's own table beside it.
CREATE TABLE invoices (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    amount      INTEGER NOT NULL
);
INSERT INTO invoices (customer_id, amount) VALUES (1, 1200), (1, 300), (2, 450), (6, 990);
