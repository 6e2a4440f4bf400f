-- The keys caller data is sealed under, found without reading the tables (PostgreSQL).
-- At start the server lists the distinct caller_key_id of calls, work orders and queue
-- calls (a loose index scan: one probe of these indexes per key id) and refuses to
-- start when one of them is a key it does not have. Rows not sealed yet (a null key
-- id), which the partial indexes of 0007 found, are found through these indexes too.

create index calls_caller_key_idx on calls (caller_key_id);
create index work_orders_caller_key_idx on work_orders (caller_key_id);
create index queue_calls_caller_key_idx on queue_calls (caller_key_id);

drop index calls_unsealed_idx;
drop index work_orders_unsealed_idx;
drop index queue_calls_unsealed_idx;
