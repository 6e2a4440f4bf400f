-- The counsel programme (docs/architecture.md, "The counsel programme"): the special
-- fund's years, its dedicated accounts and their entries, payments to counsel, the
-- programme policy, disqualifications of counsel, and a person's photo on the public
-- disclosure boards. Request ids may now name a payment.

-- A year's special fund as the city allocated it, with the three levels' shares.
create table fund_years (
    year            integer primary key,
    amount          numeric(16, 2) not null check (amount >= 0),
    -- Set when the amount was grown from the year before: amount = that x (1 + rate).
    growth_rate     numeric(8, 4),
    city_share      numeric(16, 2) not null,
    county_share    numeric(16, 2) not null,
    township_share  numeric(16, 2) not null,
    allocated_by    uuid not null,
    allocated_at    timestamptz not null
);

-- A dedicated account (专户) of the city, a county or a township. The balance is what
-- its entries add up to and never goes below zero.
create table fund_accounts (
    unit_id     text primary key references units (id),
    level       text not null check (level in ('city', 'county', 'township')),
    balance     numeric(16, 2) not null check (balance >= 0),
    credited    numeric(16, 2) not null check (credited >= 0),
    paid        numeric(16, 2) not null check (paid >= 0),
    opened_at   timestamptz not null
);

-- A payment to a counsel for services the fund bought, tied to the record of the
-- service (a ledger record's or a work order's id): one payment per record and kind.
create table fund_payments (
    id               uuid primary key,
    account_unit_id  text not null references fund_accounts (unit_id),
    person_id        text not null references people (id),
    service_kind     text not null,
    service_ref      text not null,
    quantity         integer not null check (quantity > 0),
    rate             numeric(16, 2) not null check (rate > 0),
    amount           numeric(16, 2) not null check (amount > 0),
    note             text,
    paid_by          uuid not null,
    paid_at          timestamptz not null,
    unique (service_kind, service_ref)
);

create index fund_payments_person_idx on fund_payments (person_id, paid_at, id);
create index fund_payments_account_idx on fund_payments (account_unit_id, paid_at, id);

-- Every change of an account's balance, in the order applied (the account's row lock
-- orders them): `amount` is signed (a credit above zero, a payment below), `balance`
-- is the balance after it.
create table fund_entries (
    id               bigserial primary key,
    account_unit_id  text not null references fund_accounts (unit_id),
    at               timestamptz not null,
    kind             text not null check (kind in ('allocation', 'payment')),
    amount           numeric(16, 2) not null,
    balance          numeric(16, 2) not null check (balance >= 0),
    year             integer references fund_years (year),
    payment_id       uuid references fund_payments (id),
    check ((kind = 'allocation') = (year is not null) and (kind = 'payment') = (payment_id is not null))
);

create index fund_entries_account_idx on fund_entries (account_unit_id, id);

-- The programme policy (rates, board text) as a city admin last saved it, as TOML.
create table programme_policy (
    id          integer primary key check (id = 1),
    document    text not null,
    updated_by  uuid not null,
    updated_at  timestamptz not null
);

-- A county's proposal to disqualify a counsel, and the city's decision on it.
create table disqualifications (
    id             uuid primary key,
    person_id      text not null references people (id),
    county_id      text not null,
    state          text not null check (state in ('proposed', 'confirmed', 'rejected')),
    reason         text not null,
    -- Who takes the counsel's villages; null: each village's by routing's rule.
    successor_id   text references people (id),
    proposed_by    uuid not null,
    proposed_at    timestamptz not null,
    decided_by     uuid,
    decided_at     timestamptz,
    decision_note  text,
    -- What a confirmation did: the villages moved, the orders reassigned, the users
    -- deactivated.
    outcome        jsonb
);

-- At most one proposal awaits a decision per person.
create unique index disqualifications_open_idx on disqualifications (person_id) where state = 'proposed';
create index disqualifications_county_idx on disqualifications (county_id, proposed_at, id);

-- A person's photo on the disclosure boards (a reference the console resolves), and
-- when they were disqualified: routing passes them over and they serve no unit.
alter table people add column photo_ref text;
alter table people add column disqualified_at timestamptz;

-- A request id may now name a payment.
alter table request_ids add column payment_id uuid;
alter table request_ids drop constraint request_ids_check;
alter table request_ids add constraint request_ids_check check (
    num_nonnulls(call_id, order_id, created_user_id, ledger_id, payment_id) = 1
    and (event_id is null or order_id is not null)
    and ((ledger_id is null) = (ledger_kind is null))
);
