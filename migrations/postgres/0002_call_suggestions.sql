-- What the core suggested for each call's summary when it was recorded, so the centre
-- can see how often agents accepted the suggestion. Null for calls recorded before.
alter table calls add column suggested_category text;
alter table calls add column suggested_category_2 text;   -- the runner-up category
alter table calls add column suggested_subcategory text;

-- Replaying every confirmed classification at start reads calls in creation order.
create index calls_created_idx on calls (created_at, id);
