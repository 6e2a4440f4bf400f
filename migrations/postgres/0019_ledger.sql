-- The duty ledger of village counsel and township legal service teams (PostgreSQL):
-- on-site visits, records of the report's six functions, each village's "nine ones",
-- monthly reports to the township and township meetings (hotline_store::LedgerStore).
-- Days are Shanghai calendar dates as text, YYYY-MM-DD (months YYYY-MM), in the "C"
-- collation so that they sort and compare as the dates do; the queries are the same
-- text on SQLite.

create table ledger_visits (
    id                    uuid not null primary key,
    person_id             text not null,
    unit_id               text not null,           -- a village they counsel or their team's township
    duty                  text not null,           -- village | team
    township_id           text not null,
    county_id             text not null,
    day                   text collate "C" not null, -- the Shanghai date of the check-in
    check_in_at           timestamptz not null,
    check_in_latitude     double precision not null,
    check_in_longitude    double precision not null,
    check_in_distance_km  double precision,        -- null: the unit has no position
    check_out_at          timestamptz,
    check_out_latitude    double precision,
    check_out_longitude   double precision,
    check_out_distance_km double precision,
    flagged               boolean not null,        -- a position outside the radius
    review                text,                    -- pending | accepted | rejected (flagged only)
    review_note           text,
    reviewed_by           uuid,
    reviewed_at           timestamptz,
    created_by            uuid not null,
    created_at            timestamptz not null,
    unique (person_id, unit_id, day)
);

create index ledger_visits_township_idx on ledger_visits (township_id, day);
create index ledger_visits_county_idx on ledger_visits (county_id, day);
create index ledger_visits_day_idx on ledger_visits (day, id);

create table ledger_records (
    id             uuid not null primary key,
    person_id      text not null,
    unit_id        text not null,
    duty           text not null,
    township_id    text not null,
    county_id      text not null,
    occurred_on    text collate "C" not null,
    function       text not null,                 -- mediation | document_review | ...
    kind           text not null,                 -- the kind within the function (Detail::kind)
    audience       integer not null,
    copies         integer not null,
    loss_recovered numeric(16, 2),                -- a contract review's loss recovered, yuan
    detail         jsonb not null,                -- the typed record
    work_order_id  uuid,
    note           text,
    created_by     uuid not null,
    created_at     timestamptz not null,
    -- A work order counts once: one record per order and function.
    unique (work_order_id, function)
);

create index ledger_records_person_idx on ledger_records (person_id, occurred_on);
create index ledger_records_unit_idx on ledger_records (unit_id, occurred_on);
create index ledger_records_township_idx on ledger_records (township_id, occurred_on);
create index ledger_records_county_idx on ledger_records (county_id, occurred_on);
create index ledger_records_day_idx on ledger_records (occurred_on, id);

create table ledger_nine_ones (
    id          uuid not null primary key,
    village_id  text not null,
    year        integer not null,
    item        text not null,                    -- household_visits | contact_card | ...
    done_on     text collate "C" not null,
    note        text,
    person_id   text not null,
    recorded_by uuid not null,
    updated_at  timestamptz not null,
    unique (village_id, year, item)
);

create table ledger_reports (
    id                 uuid not null primary key,
    person_id          text not null,
    township_id        text not null,
    county_id          text not null,
    month              text collate "C" not null, -- YYYY-MM
    state              text not null,             -- submitted | approved | returned
    version            bigint not null,
    figures            jsonb not null,            -- MonthFigures
    note               text,
    first_submitted_at timestamptz not null,
    submitted_at       timestamptz not null,
    due_at             timestamptz not null,
    reviewed_by        uuid,
    reviewed_at        timestamptz,
    return_reason      text,
    created_by         uuid not null,
    updated_at         timestamptz not null,
    unique (person_id, township_id, month)
);

create index ledger_reports_township_idx on ledger_reports (township_id, month);
create index ledger_reports_county_idx on ledger_reports (county_id, month);
create index ledger_reports_month_idx on ledger_reports (month, id);

create table ledger_meetings (
    id          uuid not null primary key,
    township_id text not null,
    county_id   text not null,
    held_on     text collate "C" not null,
    attendees   jsonb not null,                   -- array of person ids
    note        text,
    recorded_by uuid not null,
    created_at  timestamptz not null
);

create index ledger_meetings_township_idx on ledger_meetings (township_id, held_on);
create index ledger_meetings_county_idx on ledger_meetings (county_id, held_on);

-- The registry of request ids names ledger writes too: what kind of thing a request
-- wrote (visit | record | nine_one | report | meeting) and its id.
alter table request_ids add column ledger_kind text, add column ledger_id uuid;
alter table request_ids drop constraint request_ids_check;
alter table request_ids add constraint request_ids_check
    check (num_nonnulls(call_id, order_id, created_user_id, ledger_id) = 1
           and (event_id is null or order_id is not null)
           and ((ledger_id is null) = (ledger_kind is null)));
