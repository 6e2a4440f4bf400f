-- Caller data at rest (SQLite).
--
-- caller_name, caller_phone and caller_id_number hold sealed values
-- (`c1:<key id>:<base64>`, XChaCha20-Poly1305 under the caller data key; see
-- hotline_store::CallerKeys), never clear text. caller_phone_hash is the keyed hash
-- (HMAC-SHA256) of the normalised number, which is what caller history looks up.
-- caller_key_id names the key a row is sealed under; it is null only for rows written
-- before this migration, whose values are still clear until the server seals them at
-- start (or `hotline caller-keys rotate` does).

alter table calls add column caller_id_number text;
alter table calls add column caller_phone_hash text;
alter table calls add column caller_key_id text;
drop index calls_caller_phone_idx;
create index calls_caller_hash_idx on calls (caller_phone_hash, call_time desc, id desc)
    where caller_phone_hash is not null;
create index calls_unsealed_idx on calls (id) where caller_key_id is null;

alter table work_orders add column caller_id_number text;
alter table work_orders add column caller_phone_hash text;
alter table work_orders add column caller_key_id text;
drop index work_orders_caller_phone_idx;
create index work_orders_caller_hash_idx on work_orders (caller_phone_hash, created_at desc, id desc)
    where caller_phone_hash is not null;
create index work_orders_unsealed_idx on work_orders (id) where caller_key_id is null;

alter table queue_calls add column caller_key_id text;
create index queue_calls_unsealed_idx on queue_calls (id) where caller_key_id is null;

-- Every response that showed a caller's full name, number or identity card number:
-- who (user and role), when, which order and/or call, which fields, through which RPC.
create table caller_data_views (
    id        integer primary key autoincrement,
    at        integer not null,
    user_id   text not null,
    role      text not null,
    order_id  text,
    call_id   text,
    fields    text not null,                     -- comma-separated: name, phone, id_number
    rpc       text not null
) strict;

create index caller_data_views_user_idx on caller_data_views (user_id, id desc);
create index caller_data_views_order_idx on caller_data_views (order_id, id desc)
    where order_id is not null;
create index caller_data_views_at_idx on caller_data_views (at, id desc);
