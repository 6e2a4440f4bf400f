//! The two migration sets in step: from [`IN_STEP_FROM`] on, number N is the same change
//! in `migrations/sqlite` and `migrations/postgres`, under the same name, and a file whose
//! backend needs nothing for that change holds only a comment saying so
//! (`-- Nothing to do on SQLite: ...`). Below it the landed sets differ (SQLite has no
//! 0012; its 0011 is PostgreSQL's 0012) and are never renumbered.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The first number that is one change in both directories.
const IN_STEP_FROM: u32 = 13;
/// The numbers each backend landed before [`IN_STEP_FROM`].
const LANDED_APART: [(&str, &[u32]); 2] = [
    ("SQLite", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
    ("PostgreSQL", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
];

/// One directory: its backend's name and its files (name, contents).
struct Set {
    backend: &'static str,
    files: Vec<(String, String)>,
}

fn read(backend: &'static str, dir: &str) -> Set {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(dir);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    Set { backend, files }
}

/// `NNNN_<name>.sql` split into its number and name; `None` for any other file name.
fn parse(file: &str) -> Option<(u32, &str)> {
    let rest = file.strip_suffix(".sql")?;
    let (number, name) = rest.split_once('_')?;
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if number.len() != 4
        || !number.bytes().all(|b| b.is_ascii_digit())
        || name.is_empty()
        || !name.chars().all(valid)
    {
        return None;
    }
    Some((number.parse().ok()?, name))
}

/// The SQL without its comments (`-- ...` to the end of the line, `/* ... */`) and blanks.
fn statements(sql: &str) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while !rest.is_empty() {
        match (rest.find("--"), rest.find("/*")) {
            (Some(line), block) if block.is_none_or(|b| line < b) => {
                out.push_str(&rest[..line]);
                rest = rest[line..].find('\n').map_or("", |end| &rest[line + end..]);
            }
            (_, Some(block)) => {
                out.push_str(&rest[..block]);
                rest = rest[block..].find("*/").map_or("", |end| &rest[block + end + 2..]);
            }
            _ => {
                out.push_str(rest);
                rest = "";
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Everything that breaks the convention, one line each; empty when both sets agree.
/// `sets` is SQLite's, then PostgreSQL's.
fn problems(sets: [&Set; 2]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut numbered: Vec<BTreeMap<u32, &str>> = Vec::new();
    for (set, (backend, landed)) in sets.iter().zip(LANDED_APART) {
        assert_eq!(set.backend, backend);
        let mut numbers = BTreeMap::new();
        for (file, sql) in &set.files {
            let Some((number, name)) = parse(file) else {
                problems.push(format!("{backend}: {file} is not named NNNN_<name>.sql"));
                continue;
            };
            if numbers.insert(number, name).is_some() {
                problems.push(format!("{backend}: two files numbered {number:04}"));
            }
            let nothing = format!("Nothing to do on {backend}");
            match (statements(sql).is_empty(), sql.contains(&nothing)) {
                (true, false) => problems
                    .push(format!("{backend}: {file} has no statement and no comment `-- {nothing}: <why>`")),
                (false, true) => {
                    problems.push(format!("{backend}: {file} says `{nothing}` but has statements"))
                }
                _ => {}
            }
        }
        let before: Vec<u32> = numbers.keys().copied().filter(|n| *n < IN_STEP_FROM).collect();
        if before != landed {
            problems.push(format!(
                "{backend}: the numbers before {IN_STEP_FROM:04} are {before:?}, landed {landed:?}"
            ));
        }
        numbered.push(numbers);
    }
    let (a, b) = (&numbered[0], &numbered[1]);
    let in_step: BTreeSet<u32> = a.keys().chain(b.keys()).copied().filter(|n| *n >= IN_STEP_FROM).collect();
    let [first, second] = sets.map(|s| s.backend);
    for number in in_step {
        let (has, lacks) = match (a.get(&number), b.get(&number)) {
            (Some(x), Some(y)) if x != y => {
                problems.push(format!(
                    "{number:04} is `{x}` on {first} and `{y}` on {second}: one number, one name"
                ));
                continue;
            }
            (Some(_), None) => (first, second),
            (None, Some(_)) => (second, first),
            _ => continue,
        };
        problems.push(format!(
            "{number:04} is in migrations/{} only: add it to migrations/{} (`-- Nothing to do on {lacks}: <why>` if it needs nothing there)",
            dir(has),
            dir(lacks)
        ));
    }
    problems
}

fn dir(backend: &str) -> &'static str {
    if backend == "SQLite" { "sqlite" } else { "postgres" }
}

#[test]
fn migration_directories_are_in_step() {
    let (sqlite, postgres) = (read("SQLite", "sqlite"), read("PostgreSQL", "postgres"));
    let problems = problems([&sqlite, &postgres]);
    assert!(
        problems.is_empty(),
        "migrations/sqlite and migrations/postgres disagree:\n{}",
        problems.join("\n")
    );
}

/// Both sets as they stood before 0017, the number the cases below add a file under.
fn before_0017() -> (Set, Set) {
    let keep = |set: Set| Set {
        backend: set.backend,
        files: set.files.into_iter().filter(|(file, _)| parse(file).is_none_or(|(n, _)| n < 17)).collect(),
    };
    (keep(read("SQLite", "sqlite")), keep(read("PostgreSQL", "postgres")))
}

/// `set` with one more file.
fn with(set: &Set, file: &str, sql: &str) -> Set {
    let mut files = set.files.clone();
    files.push((file.to_owned(), sql.to_owned()));
    Set { backend: set.backend, files }
}

#[test]
fn a_number_in_one_directory_only_is_refused() {
    let (sqlite, postgres) = before_0017();
    let change = "alter table users add column note text;";
    assert_eq!(
        problems([&with(&sqlite, "0017_user_notes.sql", change), &postgres]),
        ["0017 is in migrations/sqlite only: add it to migrations/postgres \
          (`-- Nothing to do on PostgreSQL: <why>` if it needs nothing there)"]
    );
    assert_eq!(
        problems([&sqlite, &with(&postgres, "0017_user_notes.sql", change)]),
        ["0017 is in migrations/postgres only: add it to migrations/sqlite \
          (`-- Nothing to do on SQLite: <why>` if it needs nothing there)"]
    );
    // Below the numbers in step, the landed sets are closed too.
    assert_eq!(
        problems([&with(&sqlite, "0012_user_notes.sql", change), &postgres]),
        ["SQLite: the numbers before 0013 are [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], \
          landed [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]"]
    );
    let both =
        [&with(&sqlite, "0017_user_notes.sql", change), &with(&postgres, "0017_user_notes.sql", change)];
    assert_eq!(problems(both), Vec::<String>::new());
}

#[test]
fn one_number_is_one_name() {
    let (sqlite, postgres) = before_0017();
    let change = "create index users_unit_idx on users (unit_id);";
    let sets =
        [&with(&sqlite, "0017_user_units.sql", change), &with(&postgres, "0017_users_by_unit.sql", change)];
    assert_eq!(
        problems(sets),
        ["0017 is `user_units` on SQLite and `users_by_unit` on PostgreSQL: one number, one name"]
    );
    let sets = [&with(&sqlite, "17_user_units.sql", change), &postgres];
    assert_eq!(problems(sets), ["SQLite: 17_user_units.sql is not named NNNN_<name>.sql"]);
}

#[test]
fn a_backend_with_nothing_to_do_says_so() {
    let (sqlite, postgres) = before_0017();
    let change = "create index concurrently orders_note_idx on work_orders (note);";
    let pg = with(&postgres, "0017_order_notes.sql", change);
    let says = "-- Nothing to do on SQLite: the table is scanned whole.\n";
    assert_eq!(problems([&with(&sqlite, "0017_order_notes.sql", says), &pg]), Vec::<String>::new());
    let silent = "-- Order notes.\n/* an index on PostgreSQL only */\n\n";
    assert_eq!(
        problems([&with(&sqlite, "0017_order_notes.sql", silent), &pg]),
        ["SQLite: 0017_order_notes.sql has no statement and no comment `-- Nothing to do on SQLite: <why>`"]
    );
    let wrong = "-- Nothing to do on SQLite: none.\ncreate table t (id integer);\n";
    assert_eq!(
        problems([&with(&sqlite, "0017_order_notes.sql", wrong), &pg]),
        ["SQLite: 0017_order_notes.sql says `Nothing to do on SQLite` but has statements"]
    );
}
