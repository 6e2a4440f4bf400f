-- Rollup rows of 256, 64, 16, 4 and 1 days (SQLite; were 64, 8 and 1).
--
-- A figure adds rollup rows and may take some away (hotline_store::rollup): a year from
-- any day is then at most 12 rows per unit or counsel instead of up to 28. The table is
-- rebuilt clustered on its key (WITHOUT ROWID), so a range of buckets is read from the
-- table itself rather than through a separate index. The rows of 1 and 64 days are
-- kept; those of 4, 16 and 256 days are summed from the rows of 1 day; those of 8 go.

create table work_order_rollup_new (
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
) strict, without rowid;

insert into work_order_rollup_new (kind, grain, bucket, county_id, township_id, category, assignee_id,
    volume, dispatched, signed_off, signed_off_on_time, returned, closed_dispatched, closed_on_time, callback_due, called_back, satisfied, redone, open, closed, sign_off_us, close_us)
select kind, grain, bucket, county_id, township_id, category, assignee_id, volume, dispatched, signed_off, signed_off_on_time, returned, closed_dispatched, closed_on_time, callback_due, called_back, satisfied, redone, open, closed, sign_off_us, close_us
from work_order_rollup where grain in (1, 64);

insert into work_order_rollup_new (kind, grain, bucket, county_id, township_id, category, assignee_id,
    volume, dispatched, signed_off, signed_off_on_time, returned, closed_dispatched, closed_on_time, callback_due, called_back, satisfied, redone, open, closed, sign_off_us, close_us)
select r.kind, g.grain, r.bucket / g.grain, r.county_id, r.township_id, r.category, r.assignee_id,
    sum(volume), sum(dispatched), sum(signed_off), sum(signed_off_on_time), sum(returned), sum(closed_dispatched), sum(closed_on_time), sum(callback_due), sum(called_back), sum(satisfied), sum(redone), sum(open), sum(closed), sum(sign_off_us), sum(close_us)
from work_order_rollup r cross join (select 4 as grain union all select 16 union all select 256) g
where r.grain = 1
group by r.kind, g.grain, r.bucket / g.grain, r.county_id, r.township_id, r.category, r.assignee_id;

drop table work_order_rollup;
alter table work_order_rollup_new rename to work_order_rollup;
