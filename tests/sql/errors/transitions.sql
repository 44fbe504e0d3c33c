-- Misuse of the state machine: unknown customers, queueing before the
-- information text is set, and marks that the status does not allow. A
-- refused call changes nothing.

select 'init', consent_init('customers', 'id', 'email', 'mobile', 'name') = 'ok';

-- The information text is required before anyone is queued.
-- expect-error: consent_queue: the information text is not set, so customer 1 cannot be queued
-- expect-error: set it first with consent_setting('info_text', 'your text')
select consent_queue(1);
-- expect-error: consent_queue_all: the information text is not set, so 3 customers cannot be queued
-- expect-error: consent_setting('info_text', 'your text')
select consent_queue_all();
-- expect-error: consent_queue_all: the information text is not set
select consent_queue_all('missing', '2026-01-01T00:00:00Z');
select 'nothing_queued', (select count(*) from consent_request) = 0;
-- A customer who cannot be reached needs no text: that is an error status.
select 'unreachable_without_text', consent_queue(3, '2026-01-01T00:00:00Z') = 'error';
-- Approving by hand needs no text either.
select 'approve_without_text', consent_approve(6, NULL, '2026-01-01T00:00:00Z') = 'approved';
select 'info_text', consent_setting('info_text', 'Vi vill skicka nyheter.') = 'Vi vill skicka nyheter.';

-- Unknown customers are errors naming the table and id column.
-- expect-error: consent_status: no customer with id 99 in table "customers"; pass an id from "customers"."id"
select consent_status(99);
-- expect-error: consent_record: no customer with id 99 in table "customers"; pass an id from "customers"."id"
select consent_record(99);
-- expect-error: consent_queue: no customer with id 99
select consent_queue(99);
-- expect-error: consent_approve: no customer with id 'K-1'
select consent_approve('K-1');
-- expect-error: consent_revoke: no customer with id 99
select consent_revoke(99);
-- expect-error: consent_mark_sent: no customer with id 99
select consent_mark_sent(99, 'email');
-- expect-error: consent_mark_error: no customer with id 99
select consent_mark_error(99, 'bounce');
-- expect-error: no customer with id 99
select consent_status(id + 98) from customers where id = 1;
select 'unknown_ids_wrote_nothing', (select count(*) from consent_request where customer_id not in (select id from customers)) = 0;

-- Marks the status does not allow.
-- expect-error: consent_mark_sent: customer 1 is 'missing'; only a queued request can be marked sent; queue it first with consent_queue(id)
select consent_mark_sent(1, 'email');
-- expect-error: consent_mark_error: customer 1 is 'missing'; only a queued or sent request can be marked as failed
select consent_mark_error(1, 'bounce');
-- expect-error: consent_mark_sent: customer 6 is 'approved'; only a queued request can be marked sent
select consent_mark_sent(6, 'email', NULL, '2026-01-02T00:00:00Z');
-- expect-error: consent_mark_error: customer 6 is 'approved'
select consent_mark_error(6, 'bounce');
-- expect-error: consent_mark_sent: customer 3 is 'error'
select consent_mark_sent(3, 'sms');
-- expect-error: consent_mark_error: customer 3 is 'error'
select consent_mark_error(3, 'bounce');
select 'queue_5', consent_queue(5, '2026-01-02T00:00:00Z') = 'queued';
select 'sent_5', consent_mark_sent(5, 'email', NULL, '2026-01-02T01:00:00Z') = 'sent';
-- expect-error: consent_mark_sent: customer 5 is 'sent'
select consent_mark_sent(5, 'email');
select 'revoke_5', consent_revoke(5, NULL, '2026-01-03T00:00:00Z') = 'denied';
-- expect-error: consent_mark_sent: customer 5 is 'denied'
select consent_mark_sent(5, 'email');
-- expect-error: consent_mark_error: customer 5 is 'denied'
select consent_mark_error(5, 'bounce');

-- The refused calls changed nothing.
select 'statuses_kept', consent_status(1) = 'missing' and consent_status(3) = 'error' and consent_status(5) = 'denied' and consent_status(6) = 'approved';
select 'events_only_for_changes', (select count(*) from consent_event) = 5;
