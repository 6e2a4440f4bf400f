-- One row that the health check rewrites every second or two (PostgreSQL): a real write,
-- committed like any other, so that a store that cannot write is not reported healthy.

create table write_probe (
    id integer not null primary key check (id = 1),
    at timestamptz not null             -- when it was last written
);
