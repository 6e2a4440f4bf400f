-- The time-limit sweeper's reads.

-- Open orders by the deadline they run against, then id: the sweeper pages through
-- them with a (current_due, id) cursor.
create index work_orders_sweep_idx on work_orders (current_due, id) where current_due is not null;

-- Open orders whose caller was dissatisfied twice: the county supervises them.
create index work_orders_dissatisfied_idx on work_orders (id)
    where dissatisfied_count >= 2 and state not in ('closed', 'cancelled', 'archived');
