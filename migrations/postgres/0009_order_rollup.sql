-- Work-order figures without a scan over a year of orders (PostgreSQL).
--
-- Every change of an order that moves a figure appends the change to
-- work_order_rollup_delta (minus the old row, plus the new one): an insert only, so
-- concurrent writers never wait for each other. The server folds the deltas into
-- work_order_rollup every second (PostgresStore::fold_order_rollup). A figure is the
-- rollup rows of the whole days of its period, plus the deltas not folded yet, plus the
-- orders of its partial first and last days, plus the overdue orders (which depend on the
-- instant asked about), all read in one statement.
--
-- Days are counted from 1970-01-01 in China Standard Time (UTC+8, no daylight saving).

create table work_order_rollup_delta (
    id                 bigserial primary key,
    day                integer not null,
    county_id          text not null,
    township_id        text not null,
    category           text not null,
    assignee_id        text,
    volume             integer not null,
    dispatched         integer not null,
    signed_off         integer not null,
    signed_off_on_time integer not null,
    returned           integer not null,
    closed_dispatched  integer not null,
    closed_on_time     integer not null,
    callback_due       integer not null,
    called_back        integer not null,
    satisfied          integer not null,
    redone             integer not null,
    open               integer not null,
    closed             integer not null,
    sign_off_us        bigint not null,  -- dispatch to sign-off, microseconds
    close_us           bigint not null   -- creation to close, microseconds
);

-- kind 0: all the orders of a unit and category (assignee_id ''); kind 1: those of one
-- counsel and category; kind 2: all those of one counsel (category ''), what a ranking
-- of counsel reads. grain: 1, 8 or 64 days; bucket: day / grain.
create table work_order_rollup (
    kind               smallint not null,
    grain              integer not null,
    bucket             integer not null,
    county_id          text not null,
    township_id        text not null,
    category           text not null,
    assignee_id        text not null,
    volume             integer not null,
    dispatched         integer not null,
    signed_off         integer not null,
    signed_off_on_time integer not null,
    returned           integer not null,
    closed_dispatched  integer not null,
    closed_on_time     integer not null,
    callback_due       integer not null,
    called_back        integer not null,
    satisfied          integer not null,
    redone             integer not null,
    open               integer not null,
    closed             integer not null,
    sign_off_us        bigint not null,
    close_us           bigint not null,
    primary key (kind, grain, bucket, county_id, township_id, category, assignee_id)
);

-- What one order adds to the figures (sign 1) or takes away from them (sign -1). PL/pgSQL
-- rather than SQL: its statement plan is kept between calls (as SQL, the trigger cost
-- a third of the raw intake throughput; as PL/pgSQL about 5%).
create function work_order_rollup_add(o work_orders, s integer) returns void
language plpgsql as $$
begin
    insert into work_order_rollup_delta (day, county_id, township_id, category, assignee_id,
        volume, dispatched, signed_off, signed_off_on_time, returned, closed_dispatched,
        closed_on_time, callback_due, called_back, satisfied, redone, open, closed,
        sign_off_us, close_us)
    values (floor((extract(epoch from o.created_at) + 28800) / 86400)::integer,
        o.county_id, o.township_id, o.category, o.assignee_id,
        s,
        s * (o.dispatched_at is not null)::integer,
        s * (o.signed_off_at is not null)::integer,
        s * coalesce(o.signed_off_at <= o.sign_off_due, false)::integer,
        s * (o.return_count > 0)::integer,
        s * (o.closed_at is not null and o.reply_due is not null)::integer,
        s * coalesce(o.closed_at is not null and o.replied_at <= o.reply_due, false)::integer,
        s * (o.callback_due is not null)::integer,
        s * (o.callback_at is not null)::integer,
        s * coalesce(o.callback_satisfaction in ('satisfied', 'basically_satisfied'), false)::integer,
        s * (o.redo_count > 0)::integer,
        s * (o.state not in ('closed', 'cancelled', 'archived'))::integer,
        s * (o.closed_at is not null)::integer,
        s * coalesce(round(extract(epoch from (o.signed_off_at - o.dispatched_at)) * 1000000)::bigint, 0),
        s * coalesce(round(extract(epoch from (o.closed_at - o.created_at)) * 1000000)::bigint, 0));
end
$$;

create function work_order_rollup_track() returns trigger
language plpgsql as $$
begin
    if tg_op <> 'INSERT' then
        perform work_order_rollup_add(old, -1);
    end if;
    if tg_op <> 'DELETE' then
        perform work_order_rollup_add(new, 1);
    end if;
    return null;
end
$$;

create trigger work_order_rollup_insert after insert or delete on work_orders
    for each row execute function work_order_rollup_track();
-- Only the changes that move a figure.
create trigger work_order_rollup_update after update on work_orders
    for each row
    when ((old.created_at, old.county_id, old.township_id, old.category, old.assignee_id, old.state,
           old.dispatched_at, old.signed_off_at, old.sign_off_due, old.return_count, old.closed_at,
           old.reply_due, old.replied_at, old.callback_due, old.callback_at,
           old.callback_satisfaction, old.redo_count)
          is distinct from
          (new.created_at, new.county_id, new.township_id, new.category, new.assignee_id, new.state,
           new.dispatched_at, new.signed_off_at, new.sign_off_due, new.return_count, new.closed_at,
           new.reply_due, new.replied_at, new.callback_due, new.callback_at,
           new.callback_satisfaction, new.redo_count))
    execute function work_order_rollup_track();

-- The orders already stored.
select work_order_rollup_add(o, 1) from work_orders o;

-- The overdue orders of a period, from the index alone.
create index work_orders_due_stats_idx on work_orders (current_due)
    include (created_at, county_id, township_id, assignee_id, category)
    where current_due is not null;
