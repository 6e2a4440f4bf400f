-- Work-order figures without a scan over a year of orders (SQLite).
--
-- Every change of an order that moves a figure appends the change to
-- work_order_rollup_delta (minus the old row, plus the new one). The server folds the
-- deltas into work_order_rollup every second (SqliteStore::fold_order_rollup). A figure
-- is the rollup rows of the whole days of its period, plus the deltas not folded yet,
-- plus the orders of its partial first and last days, plus the overdue orders (which
-- depend on the instant asked about), all read in one statement.
--
-- Days are counted from 1970-01-01 in China Standard Time (UTC+8, no daylight saving);
-- sign_off_us and close_us are microseconds (dispatch to sign-off, creation to close).

create table work_order_rollup_delta (
    id                 integer primary key autoincrement,
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
    sign_off_us        integer not null,
    close_us           integer not null
) strict;

-- kind 0: all the orders of a unit and category (assignee_id ''); kind 1: those of one
-- counsel and category; kind 2: all those of one counsel (category ''), what a ranking
-- of counsel reads. grain: 1, 8 or 64 days; bucket: day / grain.
create table work_order_rollup (
    kind               integer not null,
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
    sign_off_us        integer not null,
    close_us           integer not null,
    primary key (kind, grain, bucket, county_id, township_id, category, assignee_id)
) strict;

create trigger work_order_rollup_insert after insert on work_orders
begin
    insert into work_order_rollup_delta (day, county_id, township_id, category, assignee_id,
        volume, dispatched, signed_off, signed_off_on_time, returned, closed_dispatched, closed_on_time, callback_due, called_back, satisfied, redone, open, closed, sign_off_us, close_us)
    values ((new.created_at + 28800000000) / 86400000000, new.county_id, new.township_id, new.category, new.assignee_id,
        1,
        1 * (new.dispatched_at is not null),
        1 * (new.signed_off_at is not null),
        1 * coalesce(new.signed_off_at <= new.sign_off_due, 0),
        1 * (new.return_count > 0),
        1 * (new.closed_at is not null and new.reply_due is not null),
        1 * coalesce(new.closed_at is not null and new.replied_at <= new.reply_due, 0),
        1 * (new.callback_due is not null),
        1 * (new.callback_at is not null),
        1 * coalesce(new.callback_satisfaction in ('satisfied', 'basically_satisfied'), 0),
        1 * (new.redo_count > 0),
        1 * (new.state not in ('closed', 'cancelled', 'archived')),
        1 * (new.closed_at is not null),
        1 * coalesce(new.signed_off_at - new.dispatched_at, 0),
        1 * coalesce(new.closed_at - new.created_at, 0));
end;

create trigger work_order_rollup_delete after delete on work_orders
begin
    insert into work_order_rollup_delta (day, county_id, township_id, category, assignee_id,
        volume, dispatched, signed_off, signed_off_on_time, returned, closed_dispatched, closed_on_time, callback_due, called_back, satisfied, redone, open, closed, sign_off_us, close_us)
    values ((old.created_at + 28800000000) / 86400000000, old.county_id, old.township_id, old.category, old.assignee_id,
        -1,
        -1 * (old.dispatched_at is not null),
        -1 * (old.signed_off_at is not null),
        -1 * coalesce(old.signed_off_at <= old.sign_off_due, 0),
        -1 * (old.return_count > 0),
        -1 * (old.closed_at is not null and old.reply_due is not null),
        -1 * coalesce(old.closed_at is not null and old.replied_at <= old.reply_due, 0),
        -1 * (old.callback_due is not null),
        -1 * (old.callback_at is not null),
        -1 * coalesce(old.callback_satisfaction in ('satisfied', 'basically_satisfied'), 0),
        -1 * (old.redo_count > 0),
        -1 * (old.state not in ('closed', 'cancelled', 'archived')),
        -1 * (old.closed_at is not null),
        -1 * coalesce(old.signed_off_at - old.dispatched_at, 0),
        -1 * coalesce(old.closed_at - old.created_at, 0));
end;

-- Only the changes that move a figure.
create trigger work_order_rollup_update after update on work_orders
    when old.created_at is not new.created_at
        or old.county_id is not new.county_id
        or old.township_id is not new.township_id
        or old.category is not new.category
        or old.assignee_id is not new.assignee_id
        or old.state is not new.state
        or old.dispatched_at is not new.dispatched_at
        or old.signed_off_at is not new.signed_off_at
        or old.sign_off_due is not new.sign_off_due
        or old.return_count is not new.return_count
        or old.closed_at is not new.closed_at
        or old.reply_due is not new.reply_due
        or old.replied_at is not new.replied_at
        or old.callback_due is not new.callback_due
        or old.callback_at is not new.callback_at
        or old.callback_satisfaction is not new.callback_satisfaction
        or old.redo_count is not new.redo_count
begin
    insert into work_order_rollup_delta (day, county_id, township_id, category, assignee_id,
        volume, dispatched, signed_off, signed_off_on_time, returned, closed_dispatched, closed_on_time, callback_due, called_back, satisfied, redone, open, closed, sign_off_us, close_us)
    values ((old.created_at + 28800000000) / 86400000000, old.county_id, old.township_id, old.category, old.assignee_id,
        -1,
        -1 * (old.dispatched_at is not null),
        -1 * (old.signed_off_at is not null),
        -1 * coalesce(old.signed_off_at <= old.sign_off_due, 0),
        -1 * (old.return_count > 0),
        -1 * (old.closed_at is not null and old.reply_due is not null),
        -1 * coalesce(old.closed_at is not null and old.replied_at <= old.reply_due, 0),
        -1 * (old.callback_due is not null),
        -1 * (old.callback_at is not null),
        -1 * coalesce(old.callback_satisfaction in ('satisfied', 'basically_satisfied'), 0),
        -1 * (old.redo_count > 0),
        -1 * (old.state not in ('closed', 'cancelled', 'archived')),
        -1 * (old.closed_at is not null),
        -1 * coalesce(old.signed_off_at - old.dispatched_at, 0),
        -1 * coalesce(old.closed_at - old.created_at, 0));
    insert into work_order_rollup_delta (day, county_id, township_id, category, assignee_id,
        volume, dispatched, signed_off, signed_off_on_time, returned, closed_dispatched, closed_on_time, callback_due, called_back, satisfied, redone, open, closed, sign_off_us, close_us)
    values ((new.created_at + 28800000000) / 86400000000, new.county_id, new.township_id, new.category, new.assignee_id,
        1,
        1 * (new.dispatched_at is not null),
        1 * (new.signed_off_at is not null),
        1 * coalesce(new.signed_off_at <= new.sign_off_due, 0),
        1 * (new.return_count > 0),
        1 * (new.closed_at is not null and new.reply_due is not null),
        1 * coalesce(new.closed_at is not null and new.replied_at <= new.reply_due, 0),
        1 * (new.callback_due is not null),
        1 * (new.callback_at is not null),
        1 * coalesce(new.callback_satisfaction in ('satisfied', 'basically_satisfied'), 0),
        1 * (new.redo_count > 0),
        1 * (new.state not in ('closed', 'cancelled', 'archived')),
        1 * (new.closed_at is not null),
        1 * coalesce(new.signed_off_at - new.dispatched_at, 0),
        1 * coalesce(new.closed_at - new.created_at, 0));
end;

-- The orders already stored.
insert into work_order_rollup_delta (day, county_id, township_id, category, assignee_id,
        volume, dispatched, signed_off, signed_off_on_time, returned, closed_dispatched, closed_on_time, callback_due, called_back, satisfied, redone, open, closed, sign_off_us, close_us)
select (o.created_at + 28800000000) / 86400000000, o.county_id, o.township_id, o.category, o.assignee_id,
        1,
        1 * (o.dispatched_at is not null),
        1 * (o.signed_off_at is not null),
        1 * coalesce(o.signed_off_at <= o.sign_off_due, 0),
        1 * (o.return_count > 0),
        1 * (o.closed_at is not null and o.reply_due is not null),
        1 * coalesce(o.closed_at is not null and o.replied_at <= o.reply_due, 0),
        1 * (o.callback_due is not null),
        1 * (o.callback_at is not null),
        1 * coalesce(o.callback_satisfaction in ('satisfied', 'basically_satisfied'), 0),
        1 * (o.redo_count > 0),
        1 * (o.state not in ('closed', 'cancelled', 'archived')),
        1 * (o.closed_at is not null),
        1 * coalesce(o.signed_off_at - o.dispatched_at, 0),
        1 * coalesce(o.closed_at - o.created_at, 0)
from work_orders o;

-- The overdue orders of a period.
create index work_orders_due_stats_idx on work_orders (current_due, created_at, county_id, township_id, category, assignee_id)
    where current_due is not null;
