-- The counsel programme (docs/architecture.md, "The counsel programme"): the special
-- fund's years, its dedicated accounts and their entries, payments to counsel, the
-- programme policy, disqualifications of counsel, and a person's photo on the public
-- disclosure boards. Request ids may now name a payment.
--
-- Money is exact decimal text, as everywhere in this backend: the store adds and
-- compares it in Rust (rust_decimal), never in SQL, where SQLite's arithmetic is
-- floating point. The checks on balances are a last guard on the sign only.

-- A year's special fund as the city allocated it, with the three levels' shares.
create table fund_years (
    year            integer not null primary key,
    amount          text not null,
    -- Set when the amount was grown from the year before: amount = that x (1 + rate).
    growth_rate     text,
    city_share      text not null,
    county_share    text not null,
    township_share  text not null,
    allocated_by    text not null,
    allocated_at    integer not null
) strict;

-- A dedicated account (专户) of the city, a county or a township. The balance is what
-- its entries add up to and never goes below zero.
create table fund_accounts (
    unit_id     text not null primary key references units (id),
    level       text not null check (level in ('city', 'county', 'township')),
    balance     text not null check (balance not like '-%'),
    credited    text not null,
    paid        text not null,
    opened_at   integer not null
) strict;

-- A payment to a counsel for services the fund bought, tied to the record of the
-- service (a ledger record's or a work order's id): one payment per record and kind.
create table fund_payments (
    id               text not null primary key,
    account_unit_id  text not null references fund_accounts (unit_id),
    person_id        text not null references people (id),
    service_kind     text not null,
    service_ref      text not null,
    quantity         integer not null check (quantity > 0),
    rate             text not null,
    amount           text not null,
    note             text,
    paid_by          text not null,
    paid_at          integer not null,
    unique (service_kind, service_ref)
) strict;

create index fund_payments_person_idx on fund_payments (person_id, paid_at, id);
create index fund_payments_account_idx on fund_payments (account_unit_id, paid_at, id);

-- Every change of an account's balance, in the order applied (the one writer orders
-- them): `amount` is signed (a credit above zero, a payment below), `balance` is the
-- balance after it.
create table fund_entries (
    id               integer primary key autoincrement,
    account_unit_id  text not null references fund_accounts (unit_id),
    at               integer not null,
    kind             text not null check (kind in ('allocation', 'payment')),
    amount           text not null,
    balance          text not null check (balance not like '-%'),
    year             integer references fund_years (year),
    payment_id       text references fund_payments (id),
    check ((kind = 'allocation') = (year is not null) and (kind = 'payment') = (payment_id is not null))
) strict;

create index fund_entries_account_idx on fund_entries (account_unit_id, id);

-- The programme policy (rates, board text) as a city admin last saved it, as TOML.
create table programme_policy (
    id          integer not null primary key check (id = 1),
    document    text not null,
    updated_by  text not null,
    updated_at  integer not null
) strict;

-- A county's proposal to disqualify a counsel, and the city's decision on it.
create table disqualifications (
    id             text not null primary key,
    person_id      text not null references people (id),
    county_id      text not null,
    state          text not null check (state in ('proposed', 'confirmed', 'rejected')),
    reason         text not null,
    -- Who takes the counsel's villages; null: each village's by routing's rule.
    successor_id   text references people (id),
    proposed_by    text not null,
    proposed_at    integer not null,
    decided_by     text,
    decided_at     integer,
    decision_note  text,
    -- What a confirmation did: the villages moved, the orders reassigned, the users
    -- deactivated.
    outcome        text
) strict;

-- At most one proposal awaits a decision per person.
create unique index disqualifications_open_idx on disqualifications (person_id) where state = 'proposed';
create index disqualifications_county_idx on disqualifications (county_id, proposed_at, id);

-- A person's photo on the disclosure boards (a reference the console resolves), and
-- when they were disqualified: routing passes them over and they serve no unit.
alter table people add column photo_ref text;
alter table people add column disqualified_at integer;

-- A request id may now name a payment. SQLite changes a check only by rebuilding the
-- table.
create table request_ids_new (
    user_id         text not null,
    request_id      text not null,
    fingerprint     blob not null,
    call_id         text,
    order_id        text,
    event_id        integer,
    created_user_id text,
    ledger_kind     text,
    ledger_id       text,
    payment_id      text,
    primary key (user_id, request_id),
    check ((call_id is not null) + (order_id is not null) + (created_user_id is not null)
           + (ledger_id is not null) + (payment_id is not null) = 1
           and (event_id is null or order_id is not null)
           and ((ledger_id is null) = (ledger_kind is null)))
) strict, without rowid;

insert into request_ids_new
    (user_id, request_id, fingerprint, call_id, order_id, event_id, created_user_id, ledger_kind, ledger_id)
    select user_id, request_id, fingerprint, call_id, order_id, event_id, created_user_id, ledger_kind, ledger_id
    from request_ids;

drop table request_ids;

alter table request_ids_new rename to request_ids;
