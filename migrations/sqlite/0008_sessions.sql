-- Sign-in sessions and lock-out (SQLite).

-- One row per issued token (its jti). A revoked session's token is refused until it
-- expires; rows are removed a day after they expire.
create table sessions (
    id          text not null primary key,
    user_id     text not null,
    issued_at   integer not null,
    expires_at  integer not null,
    revoked_at  integer
) strict;

create index sessions_user_idx on sessions (user_id) where revoked_at is null;
create index sessions_revoked_idx on sessions (expires_at) where revoked_at is not null;
create index sessions_expires_idx on sessions (expires_at);

-- Failed sign-ins per username as typed (known or not, so a lock reveals nothing):
-- failures since first_at; locked_until when the count reached the limit.
create table sign_in_failures (
    username     text not null primary key,
    failures     integer not null,
    first_at     integer not null,
    locked_until integer
) strict;
