-- The duty ledger of village counsel and township legal service teams (SQLite):
-- on-site visits, records of the report's six functions, each village's "nine ones",
-- monthly reports to the township and township meetings (hotline_store::LedgerStore).
-- Days are Shanghai calendar dates as text, YYYY-MM-DD (months YYYY-MM), which sort as
-- the dates do. Money is decimal text, as everywhere on SQLite.

create table ledger_visits (
    id                    text not null primary key,
    person_id             text not null,
    unit_id               text not null,           -- a village they counsel or their team's township
    duty                  text not null,           -- village | team
    township_id           text not null,
    county_id             text not null,
    day                   text not null,           -- the Shanghai date of the check-in
    check_in_at           integer not null,
    check_in_latitude     real not null,
    check_in_longitude    real not null,
    check_in_distance_km  real,                    -- null: the unit has no position
    check_out_at          integer,
    check_out_latitude    real,
    check_out_longitude   real,
    check_out_distance_km real,
    flagged               integer not null,        -- a position outside the radius
    review                text,                    -- pending | accepted | rejected (flagged only)
    review_note           text,
    reviewed_by           text,
    reviewed_at           integer,
    created_by            text not null,
    created_at            integer not null,
    unique (person_id, unit_id, day)
) strict;

create index ledger_visits_township_idx on ledger_visits (township_id, day);
create index ledger_visits_county_idx on ledger_visits (county_id, day);
create index ledger_visits_day_idx on ledger_visits (day, id);

create table ledger_records (
    id             text not null primary key,
    person_id      text not null,
    unit_id        text not null,
    duty           text not null,
    township_id    text not null,
    county_id      text not null,
    occurred_on    text not null,
    function       text not null,                 -- mediation | document_review | ...
    kind           text not null,                 -- the kind within the function (Detail::kind)
    audience       integer not null,
    copies         integer not null,
    loss_recovered text,                          -- a contract review's loss recovered, yuan
    detail         text not null,                 -- json: the typed record
    work_order_id  text,
    note           text,
    created_by     text not null,
    created_at     integer not null,
    -- A work order counts once: one record per order and function.
    unique (work_order_id, function)
) strict;

create index ledger_records_person_idx on ledger_records (person_id, occurred_on);
create index ledger_records_unit_idx on ledger_records (unit_id, occurred_on);
create index ledger_records_township_idx on ledger_records (township_id, occurred_on);
create index ledger_records_county_idx on ledger_records (county_id, occurred_on);
create index ledger_records_day_idx on ledger_records (occurred_on, id);

create table ledger_nine_ones (
    id          text not null primary key,
    village_id  text not null,
    year        integer not null,
    item        text not null,                    -- household_visits | contact_card | ...
    done_on     text not null,
    note        text,
    person_id   text not null,
    recorded_by text not null,
    updated_at  integer not null,
    unique (village_id, year, item)
) strict;

create table ledger_reports (
    id                 text not null primary key,
    person_id          text not null,
    township_id        text not null,
    county_id          text not null,
    month              text not null,             -- YYYY-MM
    state              text not null,             -- submitted | approved | returned
    version            integer not null,
    figures            text not null,             -- json MonthFigures
    note               text,
    first_submitted_at integer not null,
    submitted_at       integer not null,
    due_at             integer not null,
    reviewed_by        text,
    reviewed_at        integer,
    return_reason      text,
    created_by         text not null,
    updated_at         integer not null,
    unique (person_id, township_id, month)
) strict;

create index ledger_reports_township_idx on ledger_reports (township_id, month);
create index ledger_reports_county_idx on ledger_reports (county_id, month);
create index ledger_reports_month_idx on ledger_reports (month, id);

create table ledger_meetings (
    id          text not null primary key,
    township_id text not null,
    county_id   text not null,
    held_on     text not null,
    attendees   text not null,                    -- json array of person ids
    note        text,
    recorded_by text not null,
    created_at  integer not null
) strict;

create index ledger_meetings_township_idx on ledger_meetings (township_id, held_on);
create index ledger_meetings_county_idx on ledger_meetings (county_id, held_on);

-- The registry of request ids names ledger writes too: what kind of thing a request
-- wrote (visit | record | nine_one | report | meeting) and its id. SQLite changes a
-- check constraint only by rebuilding the table.
create table request_ids_new (
    user_id     text not null,
    request_id  text not null,
    fingerprint blob not null,
    call_id     text,
    order_id    text,
    event_id    integer,
    created_user_id text,
    ledger_kind text,
    ledger_id   text,
    primary key (user_id, request_id),
    check ((case when call_id is null then 0 else 1 end)
           + (case when order_id is null then 0 else 1 end)
           + (case when created_user_id is null then 0 else 1 end)
           + (case when ledger_id is null then 0 else 1 end) = 1
           and (event_id is null or order_id is not null)
           and ((ledger_id is null) = (ledger_kind is null)))
) strict, without rowid;

insert into request_ids_new (user_id, request_id, fingerprint, call_id, order_id, event_id, created_user_id)
    select user_id, request_id, fingerprint, call_id, order_id, event_id, created_user_id from request_ids;
drop table request_ids;
alter table request_ids_new rename to request_ids;
