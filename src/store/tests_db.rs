//! Test databases of both backends, so one test body checks SQLite and PostgreSQL alike: a file
//! in a temporary directory, and a fresh database on the test server named by
//! `PERFMON_TEST_PG` (`make test` starts one with scripts/pg-test-server), dropped afterwards.
//! Without that variable the PostgreSQL half fails loudly rather than being skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::Location;

/// One test database; dropped with it.
pub struct TestDb {
    pub location: Location,
    _dir: Option<tempfile::TempDir>,
    drop_from: Option<(String, String)>,
}

/// A fresh database of each backend.
pub fn backends() -> Vec<TestDb> {
    vec![sqlite(), postgres()]
}

pub fn sqlite() -> TestDb {
    let d = tempfile::tempdir().unwrap();
    TestDb {
        location: Location::File(d.path().join("runs.db")),
        _dir: Some(d),
        drop_from: None,
    }
}

/// The test server's URL; panics with what to do when there is none.
pub fn server_url() -> String {
    std::env::var("PERFMON_TEST_PG").ok().filter(|u| !u.is_empty()).expect(
        "PERFMON_TEST_PG is not set: the PostgreSQL tests need a server. `make test` starts one; \
         by hand: scripts/pg-test-server start && export PERFMON_TEST_PG=$(scripts/pg-test-server url)",
    )
}

/// `url` with its database name replaced by `db`.
pub fn with_dbname(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{db}{query}", &base[..host_end])
}

pub fn postgres() -> TestDb {
    let admin = server_url();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| {
        panic!(
            "the test server {} is unreachable: {e}",
            super::db::dsn::mask(&admin)
        )
    });
    // The name is our own (hex digits); CREATE DATABASE takes no parameters.
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    TestDb {
        location: Location::Postgres(with_dbname(&admin, &name)),
        _dir: None,
        drop_from: Some((admin, name)),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_from {
            if let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        with_dbname("postgres://u:p@h:5/a?sslmode=disable", "b"),
        "postgres://u:p@h:5/b?sslmode=disable"
    );
    assert_eq!(with_dbname("postgres://u@h", "b"), "postgres://u@h/b");
}
