-- Usernames are unique and looked up ignoring ASCII case: `Zhang` and `zhang` are one
-- username. Usernames are ASCII (letters, digits, '.', '_', '-'; `hotline user add`), so
-- ASCII folding is complete for them; translate() folds exactly ASCII, as SQLite's
-- lower() and hotline_store::username_key do (PostgreSQL's lower() would follow the
-- locale).
--
-- The username is kept as given; `username_key` is its folded form, unique. Of users
-- that already differ only in case, the earliest created (then the smallest id) gets the
-- key; the others keep a null key: they still sign in by their exact spelling, and no
-- new user can take any spelling of the name.

alter table users add column username_key text;

update users set username_key = translate(username, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
where not exists (
    select 1 from users earlier
    where translate(earlier.username, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
          = translate(users.username, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
      and (earlier.created_at < users.created_at
           or (earlier.created_at = users.created_at and earlier.id < users.id))
);

create unique index users_username_ci on users (username_key);
