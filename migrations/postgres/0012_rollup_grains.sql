-- Rollup rows of 256, 64, 16, 4 and 1 days (PostgreSQL; were 64, 8 and 1).
--
-- A figure adds rollup rows and may take some away (hotline_store::rollup): a year from
-- any day is then at most 12 rows per unit or counsel instead of up to 28. The rows of
-- 1 and 64 days are kept; those of 4, 16 and 256 days are summed from the rows of 1 day;
-- those of 8 go. Every instance must run this version before it folds again (an older
-- one would fold into the rows of 8 days only).

delete from work_order_rollup where grain = 8;

insert into work_order_rollup (kind, grain, bucket, county_id, township_id, category, assignee_id,
    volume, dispatched, signed_off, signed_off_on_time, returned, closed_dispatched, closed_on_time, callback_due, called_back, satisfied, redone, open, closed, sign_off_us, close_us)
select r.kind, g.grain, r.bucket / g.grain, r.county_id, r.township_id, r.category, r.assignee_id,
    sum(volume), sum(dispatched), sum(signed_off), sum(signed_off_on_time), sum(returned), sum(closed_dispatched), sum(closed_on_time), sum(callback_due), sum(called_back), sum(satisfied), sum(redone), sum(open), sum(closed), sum(sign_off_us), sum(close_us)
from work_order_rollup r cross join (values (4), (16), (256)) g (grain)
where r.grain = 1
group by r.kind, g.grain, r.bucket / g.grain, r.county_id, r.township_id, r.category, r.assignee_id
-- In key order: the rows a figure reads together lie together.
order by 1, 2, 3, 4, 5, 6, 7;
