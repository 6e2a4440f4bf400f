-- The compliance board counts each village's and team's legal-education records from
-- January to the month's end, grouped by county, township and unit: this index covers
-- that count, so it reads neither the table nor a sort.
create index ledger_records_education_idx
    on ledger_records (function, county_id, township_id, unit_id, occurred_on);
