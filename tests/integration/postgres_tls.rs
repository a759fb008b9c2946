//! TLS to PostgreSQL with libpq's `sslmode` meanings, against a server of its own that refuses
//! plain connections (tls_server.rs): what succeeds must have been encrypted, and a certificate
//! that fails its check is one line on stderr, no panic, no password.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::perfmon_bin;
use crate::tls_server::{TlsServer, PASSWORD};

/// `perfmon --db URL ARGS` with HOME at `home` (where libpq's ~/.postgresql/root.crt lives), no
/// PG* variables but `env`.
fn perfmon(url: &str, home: &Path, env: &[(&str, &Path)], args: &[&str]) -> Output {
    let mut c = Command::new(perfmon_bin());
    c.arg("--db").arg(url).args(args);
    c.stdin(Stdio::null()).current_dir(home);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("PG") {
            c.env_remove(k);
        }
    }
    c.env_remove("PERFMON_DB")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run perfmon")
}

fn list(url: &str, home: &Path, env: &[(&str, &Path)]) -> Output {
    perfmon(url, home, env, &["list", "--json"])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn connects(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstderr: {}",
        out.status.code(),
        text(&out.stderr)
    );
}

/// Fails in one line naming `why`, without a panic or the password.
#[track_caller]
fn refused(out: &Output, what: &str, why: &str) {
    let err = text(&out.stderr);
    eprintln!("{what}: {err}");
    assert!(
        !out.status.success(),
        "{what}: connected but should not have"
    );
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert!(err.starts_with("perfmon: error: "), "{what}: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{what}: not one line: {err}"
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(
        !err.contains(PASSWORD),
        "{what}: the password is shown: {err}"
    );
    assert!(
        err.contains("***"),
        "{what}: the URL is not shown masked: {err}"
    );
    assert!(err.contains(why), "{what}: {why:?} not in {err}");
}

#[test]
fn sslmodes_follow_libpq_against_a_tls_only_server() {
    let server = TlsServer::start();
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let ca = server.ca().display().to_string();
    let other = server.other_ca().display().to_string();
    let url = |host: &str, params: &str| server.url(host, params);

    // disable: plain text, which the server rejects (hostnossl reject).
    refused(
        &list(&url("localhost", "&sslmode=disable"), h, &[]),
        "disable",
        "no encryption",
    );
    // require: encrypted, the certificate not checked (no root file anywhere).
    connects(
        &list(&url("localhost", "&sslmode=require"), h, &[]),
        "require",
    );
    connects(
        &list(&url("127.0.0.1", "&sslmode=require"), h, &[]),
        "require by address",
    );
    // prefer (libpq's default, also with no sslmode) and allow (plain refused, then TLS).
    connects(
        &list(&url("localhost", "&sslmode=prefer"), h, &[]),
        "prefer",
    );
    connects(&list(&url("localhost", ""), h, &[]), "no sslmode");
    connects(&list(&url("localhost", "&sslmode=allow"), h, &[]), "allow");

    // verify-full: the chain and the name, by DNS name and by IP address (both in the SAN).
    let full =
        |host: &str, root: &str| url(host, &format!("&sslmode=verify-full&sslrootcert={root}"));
    connects(&list(&full("localhost", &ca), h, &[]), "verify-full");
    connects(
        &list(&full("127.0.0.1", &ca), h, &[]),
        "verify-full by address",
    );
    refused(
        &list(&full("localhost", &other), h, &[]),
        "wrong CA",
        "UnknownIssuer",
    );
    refused(
        &list(&full("other.invalid", &ca), h, &[]),
        "name not in the certificate",
        "not valid for name",
    );
    // verify-ca checks the chain, not the name.
    let verify_ca =
        |host: &str, root: &str| url(host, &format!("&sslmode=verify-ca&sslrootcert={root}"));
    connects(
        &list(&verify_ca("other.invalid", &ca), h, &[]),
        "verify-ca, other name",
    );
    refused(
        &list(&verify_ca("localhost", &other), h, &[]),
        "verify-ca, wrong CA",
        "UnknownIssuer",
    );
    // No root file: the system's store, which does not know this CA.
    refused(
        &list(&url("localhost", "&sslmode=verify-full"), h, &[]),
        "system roots",
        "UnknownIssuer",
    );
    // A named root file that is not there: refused before connecting.
    refused(
        &list(&full("localhost", "/nonexistent/root.crt"), h, &[]),
        "missing root file",
        "does not exist",
    );

    // PGSSLROOTCERT and PGSSLMODE stand in for the URL's parameters.
    let ca_file = server.ca();
    let env = [
        ("PGSSLROOTCERT", ca_file.as_path()),
        ("PGSSLMODE", Path::new("verify-full")),
    ];
    connects(&list(&url("localhost", ""), h, &env), "PGSSLROOTCERT");
    let bad = [("PGSSLMODE", Path::new("verify-everything"))];
    refused(
        &list(&url("localhost", ""), h, &bad),
        "bad PGSSLMODE",
        "invalid sslmode",
    );
    refused(
        &list(&url("localhost", "&sslmode=secure"), h, &[]),
        "bad sslmode",
        "invalid sslmode \"secure\"",
    );

    // ~/.postgresql/root.crt makes require check the chain (libpq: like verify-ca).
    std::fs::create_dir_all(h.join(".postgresql")).unwrap();
    std::fs::copy(server.other_ca(), h.join(".postgresql/root.crt")).unwrap();
    refused(
        &list(&url("localhost", "&sslmode=require"), h, &[]),
        "require with a default root file of another CA",
        "UnknownIssuer",
    );
    // prefer: the handshake fails the same way, so libpq falls back to plain text, which this
    // server rejects (the rejection, not the certificate, is what is reported).
    refused(
        &list(&url("localhost", "&sslmode=prefer"), h, &[]),
        "prefer falling back to plain text",
        "no encryption",
    );
    std::fs::copy(server.ca(), h.join(".postgresql/root.crt")).unwrap();
    connects(
        &list(&url("localhost", "&sslmode=require"), h, &[]),
        "require with the right default root file",
    );
    connects(
        &list(&url("localhost", "&sslmode=verify-full"), h, &[]),
        "verify-full, default root",
    );

    // A Unix socket never carries TLS (the server does not offer it there): libpq connects
    // with require all the same (pg_hba: local trust).
    let socket = format!(
        "postgres://tlsuser@/perf?host={}&port={}&sslmode=require",
        server.dir.path().display(),
        server.port
    );
    connects(&list(&socket, h, &[]), "require over a Unix socket");

    // A whole run goes over TLS: recorded, sent, read back.
    let u = full("localhost", &ca);
    connects(
        &perfmon(
            &u,
            h,
            &[],
            &["run", "--quiet", "--name", "tls", "--", "true"],
        ),
        "run",
    );
    let out = list(&u, h, &[]);
    connects(&out, "list after run");
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
    assert_eq!(runs[0]["name"], "tls", "{runs}");
}
