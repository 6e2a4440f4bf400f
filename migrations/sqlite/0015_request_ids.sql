-- One registry of client request ids: an id names one request of one user, across
-- RecordCall, CreateWorkOrder and every work-order action (hotline_store::RequestKey).
-- A write made under an id registers it in the write's own transaction, with the
-- request's fingerprint and what the write made; a repeat of the request (the same
-- fingerprint) is answered from here, and the id sent with any other request is refused.
-- The `request_id` columns of calls and work_orders are no longer written (their unique
-- keys stay: SQLite drops them only by rebuilding the tables); that of work_order_events
-- keeps the sweeper's step ids only.

create table request_ids (
    user_id     text not null,
    request_id  text not null,
    -- HMAC (a caller data key) of sha256(full method name, 0, the request message); empty
    -- for ids registered below, which no request repeats
    fingerprint blob not null,
    -- what the request wrote: a call, a new order, or an action's event on an order
    call_id     text,
    order_id    text,
    event_id    integer,
    primary key (user_id, request_id),
    check ((call_id is null) <> (order_id is null) and (event_id is null or order_id is not null))
) strict, without rowid;

-- Ids used before this table: each stays taken (by its first use), so a request sent
-- with one is refused rather than written twice.
insert into request_ids (user_id, request_id, fingerprint, call_id)
    select agent_id, request_id, x'', id from calls where request_id is not null
    on conflict do nothing;
insert into request_ids (user_id, request_id, fingerprint, order_id)
    select created_by, request_id, x'', id from work_orders where request_id is not null
    on conflict do nothing;
insert into request_ids (user_id, request_id, fingerprint, order_id, event_id)
    select actor_id, request_id, x'', order_id, id from work_order_events
    where request_id is not null and actor_role <> 'system'
    on conflict do nothing;
