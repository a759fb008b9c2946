//! PostgreSQL connection strings: `postgres://USER:PASSWORD@HOST:PORT/DBNAME?sslmode=...` (or
//! `postgresql://`), completed from the environment as libpq completes them (`PGHOST`,
//! `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGPASSFILE` or `~/.pgpass`, `PGSSLMODE`,
//! `PGCONNECT_TIMEOUT`, `PGAPPNAME`, `PGSSLROOTCERT`), and shown with the password masked. A
//! password is never part of anything perfmon prints or stores: [`mask`] is the only way a DSN is
//! displayed. `sslmode` and `sslrootcert` are taken out of the URL here and kept in [`Tls`] with
//! libpq's meaning (tokio-postgres knows only three of the six modes).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Whether `s` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// `url` with its password (user info and a `password=` parameter) replaced by `***`.
pub fn mask(url: &str) -> String {
    let Some(i) = url.find("://") else {
        return url.to_string();
    };
    let (scheme, rest) = url.split_at(i + 3);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (auth, tail) = rest.split_at(end);
    let auth = match auth.rfind('@') {
        Some(at) => match auth[..at].find(':') {
            Some(c) => format!("{}:***{}", &auth[..c], &auth[at..]),
            None => auth.to_string(),
        },
        None => auth.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}{auth}{tail}")
}

/// A connection string with the environment's defaults applied, ready to connect.
pub struct Dsn {
    pub config: postgres::Config,
    /// The URL as given, masked: what messages show.
    pub shown: String,
    /// The password in use (URL, `PGPASSWORD` or the password file), kept only to scrub it from
    /// error messages of the client library.
    pub password: Option<String>,
    /// Whether and how the connection is encrypted and the server's certificate checked.
    pub tls: Tls,
}

/// libpq's `sslmode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// Plain text first; TLS when the server refuses that.
    Allow,
    /// TLS when the server offers it, else plain text (libpq's default).
    Prefer,
    /// TLS; the certificate checked only when a root certificate file is there.
    Require,
    /// TLS; the certificate chain checked against the root certificates.
    VerifyCa,
    /// TLS; the chain and the host name checked.
    VerifyFull,
}

const SSL_MODES: [(&str, SslMode); 6] = [
    ("disable", SslMode::Disable),
    ("allow", SslMode::Allow),
    ("prefer", SslMode::Prefer),
    ("require", SslMode::Require),
    ("verify-ca", SslMode::VerifyCa),
    ("verify-full", SslMode::VerifyFull),
];

impl SslMode {
    pub fn parse(s: &str) -> Result<SslMode, String> {
        SSL_MODES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                format!(
                    "invalid sslmode {s:?}: one of disable, allow, prefer, require, verify-ca, \
                     verify-full"
                )
            })
    }

    /// libpq's name of the mode.
    pub fn name(self) -> &'static str {
        SSL_MODES
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("?", |(name, _)| name)
    }
}

/// Where the certificates that a server's chain must lead to come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootCerts {
    /// A PEM file: `sslrootcert=`, else `PGSSLROOTCERT`, else `~/.postgresql/root.crt`.
    File(PathBuf),
    /// The system's store (`sslrootcert=system`, or verify-ca/verify-full without a file).
    System,
}

/// The TLS settings of a connection, as libpq reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tls {
    pub mode: SslMode,
    /// The certificates the server's chain is checked against; `None`: not checked (disable,
    /// allow, prefer and require without a root certificate file, as libpq).
    pub roots: Option<RootCerts>,
}

impl Tls {
    /// Whether the server's host name must be in its certificate.
    pub fn checks_host_name(&self) -> bool {
        self.mode == SslMode::VerifyFull
    }
}

/// `url` without its `sslmode` and `sslrootcert` parameters, and their (percent-decoded) values.
fn take_tls_params(url: &str) -> (String, Option<String>, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None, None);
    };
    let (mut mode, mut root) = (None, None);
    let mut kept = Vec::new();
    for kv in query.split('&') {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .into_owned();
        match k {
            "sslmode" => mode = Some(v),
            "sslrootcert" => root = Some(v),
            _ => kept.push(kv),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, mode, root)
}

/// The TLS settings from the URL's values and the environment, with libpq's rules: the mode
/// from `sslmode=`, else `PGSSLMODE`, else prefer (verify-full with `sslrootcert=system`); a
/// root certificate file named but missing is an error in the verify modes and ignored in the
/// others; `~/.postgresql/root.crt` is used when it exists, and the system's store when
/// verify-ca/verify-full find no file.
fn tls(mode: Option<String>, root: Option<String>, env: &Env) -> Result<Tls, String> {
    let root = root.or_else(|| (env.var)("PGSSLROOTCERT"));
    let from_env = |m: String| SslMode::parse(&m).map_err(|e| format!("PGSSLMODE: {e}"));
    let mode = match (mode, (env.var)("PGSSLMODE")) {
        (Some(m), _) => SslMode::parse(&m)?,
        (None, Some(m)) => from_env(m)?,
        (None, None) if root.as_deref() == Some("system") => SslMode::VerifyFull,
        (None, None) => SslMode::Prefer,
    };
    let verify = mode >= SslMode::VerifyCa;
    let roots = match root {
        Some(r) if r == "system" => {
            if mode != SslMode::VerifyFull {
                return Err(format!(
                    "sslmode {} may not be used with sslrootcert=system (use verify-full)",
                    mode.name()
                ));
            }
            Some(RootCerts::System)
        }
        Some(r) if Path::new(&r).exists() => Some(RootCerts::File(r.into())),
        Some(r) if verify => {
            return Err(format!(
                "root certificate file {r:?} does not exist: name an existing file, use \
                 sslrootcert=system, or an sslmode that does not verify"
            ))
        }
        _ => env
            .home
            .as_ref()
            .map(|h| h.join(".postgresql/root.crt"))
            .filter(|f| f.exists())
            .map(RootCerts::File)
            .or(verify.then_some(RootCerts::System)),
    };
    let roots = roots.filter(|_| mode != SslMode::Disable);
    Ok(Tls { mode, roots })
}

/// What the environment provides (a parameter so tests need not change the process's).
/// A lookup of an environment variable.
pub type VarFn = Box<dyn Fn(&str) -> Option<String>>;

pub struct Env {
    pub var: VarFn,
    pub home: Option<PathBuf>,
}

impl Env {
    pub fn process() -> Env {
        Env {
            var: Box::new(|k| std::env::var(k).ok().filter(|v| !v.is_empty())),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }
}

/// Parses `url` and fills what it leaves out from `env`, as libpq does.
pub fn parse(url: &str, env: &Env) -> Result<Dsn, String> {
    let shown = mask(url);
    let (url, mode, root) = take_tls_params(url);
    let tls = tls(mode, root, env).map_err(|e| format!("{shown}: {e}"))?;
    // tokio-postgres parses the rest (percent-decoding, several hosts, `host=` parameters).
    let mut c = postgres::Config::from_str(&url).map_err(|e| {
        // "invalid connection string" alone does not say what is wrong: its cause does.
        let cause = std::error::Error::source(&e).map(|c| format!(": {c}"));
        format!("{shown}: {e}{}", cause.unwrap_or_default())
    })?;
    let var = |k: &str| (env.var)(k);
    if c.get_hosts().is_empty() {
        match var("PGHOST") {
            Some(h) => {
                for h in h.split(',') {
                    c.host(h);
                }
            }
            // libpq's default on Debian: the server's socket directory.
            None => {
                c.host_path("/var/run/postgresql");
            }
        }
    }
    if c.get_ports().is_empty() {
        let port = match var("PGPORT") {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("PGPORT={p:?} is not a port number"))?,
            None => 5432,
        };
        c.port(port);
    }
    if c.get_user().is_none() {
        let user = var("PGUSER")
            .or_else(|| var("USER"))
            .or_else(|| var("LOGNAME"))
            .unwrap_or_else(|| "postgres".into());
        c.user(&user);
    }
    if c.get_dbname().is_none() {
        let db = var("PGDATABASE").unwrap_or_else(|| c.get_user().unwrap_or_default().into());
        c.dbname(&db);
    }
    if c.get_connect_timeout().is_none() {
        let secs = var("PGCONNECT_TIMEOUT")
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|s| *s > 0)
            .unwrap_or(10);
        c.connect_timeout(Duration::from_secs(secs));
    }
    if c.get_application_name().is_none() {
        c.application_name(&var("PGAPPNAME").unwrap_or_else(|| "perfmon".into()));
    }
    if c.get_password().is_none() {
        if let Some(p) = var("PGPASSWORD").or_else(|| from_password_file(&c, env)) {
            c.password(p);
        }
    }
    let password = c
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    Ok(Dsn {
        config: c,
        shown,
        password,
        tls,
    })
}

/// The password file's entry for this connection (libpq's `~/.pgpass` rules: the first line
/// whose host, port, database and user match, `*` matching anything; a file readable by group
/// or others is ignored, as libpq ignores it).
fn from_password_file(c: &postgres::Config, env: &Env) -> Option<String> {
    let file = (env.var)("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".pgpass")))?;
    if !private(&file) {
        return None;
    }
    let text = std::fs::read_to_string(&file).ok()?;
    let host = match c.get_hosts().first()? {
        postgres::config::Host::Tcp(h) => h.clone(),
        // libpq: `localhost` also matches connections over the default Unix socket.
        postgres::config::Host::Unix(_) => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432).to_string();
    let want = [
        host.as_str(),
        port.as_str(),
        c.get_dbname().unwrap_or_default(),
        c.get_user().unwrap_or_default(),
    ];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(fields)
        .find(|f| f.len() == 5 && (0..4).all(|i| f[i] == "*" || f[i] == want[i]))
        .map(|f| f[4].clone())
}

fn private(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o077 == 0)
}

/// The `:`-separated fields of a password file line, with `\:` and `\\` unescaped.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                if let (Some(n), Some(s)) = (chars.next(), out.last_mut()) {
                    s.push(n);
                }
            }
            // The password is the rest of the line, colons and all.
            ':' if out.len() < 5 => out.push(String::new()),
            ch => {
                if let Some(s) = out.last_mut() {
                    s.push(ch);
                }
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)], home: Option<PathBuf>) -> Env {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env {
            var: Box::new(move |k| m.get(k).cloned()),
            home,
        }
    }

    #[test]
    fn passwords_are_masked_wherever_a_url_holds_them() {
        let cases = [
            (
                "postgres://ci:s3cr%40t@db:5432/perf",
                "postgres://ci:***@db:5432/perf",
            ),
            (
                "postgresql://ci:pw@db/perf?sslmode=require",
                "postgresql://ci:***@db/perf?sslmode=require",
            ),
            (
                "postgres://ci@db/perf?password=pw&sslmode=disable",
                "postgres://ci@db/perf?password=***&sslmode=disable",
            ),
            ("postgres://db/perf", "postgres://db/perf"),
            ("postgres://a:b:c@h", "postgres://a:***@h"),
        ];
        for (url, want) in cases {
            assert_eq!(mask(url), want, "{url}");
        }
    }

    #[test]
    fn the_environment_fills_what_the_url_leaves_out() {
        let e = env(
            &[
                ("PGHOST", "db.example"),
                ("PGPORT", "6543"),
                ("PGUSER", "ci"),
                ("PGDATABASE", "bench"),
                ("PGPASSWORD", "pw"),
            ],
            None,
        );
        let d = parse("postgres://", &e).unwrap();
        let c = &d.config;
        assert_eq!(
            c.get_hosts(),
            &[postgres::config::Host::Tcp("db.example".into())]
        );
        assert_eq!(c.get_ports(), &[6543]);
        assert_eq!(c.get_user(), Some("ci"));
        assert_eq!(c.get_dbname(), Some("bench"));
        assert_eq!(c.get_password(), Some(&b"pw"[..]));
        // The URL wins over the environment.
        let d = parse("postgres://me:x@h:1/other", &e).unwrap();
        assert_eq!(d.config.get_user(), Some("me"));
        assert_eq!(d.config.get_password(), Some(&b"x"[..]));
        assert_eq!(d.config.get_dbname(), Some("other"));
        assert!(parse("postgres://", &env(&[("PGPORT", "x")], None)).is_err());
    }

    #[test]
    fn the_password_file_is_read_as_libpq_reads_it() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join(".pgpass");
        std::fs::write(
            &f,
            "# comment\nother:5432:*:ci:wrong\ndb:5432:perf:ci:pa\\:ss:word\n*:*:*:*:any\n",
        )
        .unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = env(&[], Some(d.path().to_path_buf()));
        let p = |url: &str| parse(url, &e).unwrap().password;
        assert_eq!(p("postgres://ci@db/perf").as_deref(), Some("pa:ss:word"));
        assert_eq!(p("postgres://x@elsewhere/y").as_deref(), Some("any"));
        // A file others may read is ignored, as libpq ignores it.
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(p("postgres://ci@db/perf"), None);
    }

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_the_url() {
        let e = env(&[], None);
        for mode in ["verify-ca", "verify-full", "allow", "require"] {
            let url = format!("postgres://ci@db/perf?sslmode={mode}&sslrootcert=/x%20y/ca.pem");
            let (rest, m, r) = take_tls_params(&url);
            assert_eq!(rest, "postgres://ci@db/perf");
            assert_eq!(m.as_deref(), Some(mode));
            assert_eq!(r.as_deref(), Some("/x y/ca.pem"));
        }
        let (rest, m, _) = take_tls_params("postgres://db/p?connect_timeout=3&sslmode=disable");
        assert_eq!(
            (rest.as_str(), m.as_deref()),
            ("postgres://db/p?connect_timeout=3", Some("disable"))
        );
        // tokio-postgres never sees them: verify-full and a missing file are ours to judge.
        let d = parse(
            "postgres://ci@db/perf?sslmode=verify-full&application_name=x",
            &e,
        )
        .unwrap();
        assert_eq!(d.tls.mode, SslMode::VerifyFull);
        assert_eq!(d.config.get_application_name(), Some("x"));
        let err = parse("postgres://ci:pw@db/perf?sslmode=verify-fll", &e)
            .err()
            .unwrap();
        assert!(err.contains("invalid sslmode \"verify-fll\""), "{err}");
        assert!(err.contains("ci:***@") && !err.contains("pw"), "{err}");
        assert_eq!(err.lines().count(), 1);
    }

    #[test]
    fn tls_settings_follow_libpq() {
        use std::os::unix::fs::PermissionsExt as _;
        let home = tempfile::tempdir().unwrap();
        let ca = home.path().join("ca.pem");
        std::fs::write(&ca, "").unwrap();
        std::fs::set_permissions(&ca, std::fs::Permissions::from_mode(0o644)).unwrap();
        let ca_s = ca.to_str().unwrap();
        let e = env(&[], Some(home.path().to_path_buf()));
        let t = |mode: Option<&str>, root: Option<&str>, e: &Env| {
            tls(mode.map(String::from), root.map(String::from), e)
        };
        let file = |p: &Path| Some(RootCerts::File(p.to_path_buf()));
        // No root file anywhere: nothing checked below verify-ca, the system's roots above.
        assert_eq!(
            t(None, None, &e).unwrap(),
            Tls {
                mode: SslMode::Prefer,
                roots: None
            }
        );
        assert_eq!(t(Some("require"), None, &e).unwrap().roots, None);
        assert_eq!(
            t(Some("verify-ca"), None, &e).unwrap().roots,
            Some(RootCerts::System)
        );
        // A named file: used by every mode but disable.
        assert_eq!(t(Some("require"), Some(ca_s), &e).unwrap().roots, file(&ca));
        assert_eq!(
            t(Some("verify-full"), Some(ca_s), &e).unwrap().roots,
            file(&ca)
        );
        assert_eq!(t(Some("disable"), Some(ca_s), &e).unwrap().roots, None);
        // Named but missing: an error where it must verify, ignored where it need not.
        let err = t(Some("verify-ca"), Some("/nonexistent.pem"), &e).unwrap_err();
        assert!(err.contains("\"/nonexistent.pem\" does not exist"), "{err}");
        assert_eq!(
            t(Some("require"), Some("/nonexistent.pem"), &e)
                .unwrap()
                .roots,
            None
        );
        // sslrootcert=system: verify-full by default, weaker modes refused.
        let sys = t(None, Some("system"), &e).unwrap();
        assert_eq!(
            (sys.mode, sys.roots),
            (SslMode::VerifyFull, Some(RootCerts::System))
        );
        assert!(t(Some("require"), Some("system"), &e)
            .unwrap_err()
            .contains("verify-full"));
        // The environment, when the URL says nothing.
        let pe = env(
            &[("PGSSLMODE", "verify-ca"), ("PGSSLROOTCERT", ca_s)],
            Some(home.path().to_path_buf()),
        );
        assert_eq!(
            t(None, None, &pe).unwrap(),
            Tls {
                mode: SslMode::VerifyCa,
                roots: file(&ca)
            }
        );
        assert_eq!(
            t(Some("require"), Some("system"), &pe)
                .unwrap_err()
                .lines()
                .count(),
            1
        );
        let bad = env(&[("PGSSLMODE", "on")], None);
        assert!(t(None, None, &bad)
            .unwrap_err()
            .starts_with("PGSSLMODE: invalid sslmode \"on\""));
        // ~/.postgresql/root.crt: require checks the chain (libpq: like verify-ca).
        let default = home.path().join(".postgresql/root.crt");
        std::fs::create_dir_all(default.parent().unwrap()).unwrap();
        std::fs::write(&default, "").unwrap();
        assert_eq!(t(Some("require"), None, &e).unwrap().roots, file(&default));
        assert_eq!(
            t(Some("verify-full"), None, &e).unwrap().roots,
            file(&default)
        );
        for (name, mode) in SSL_MODES {
            assert_eq!(SslMode::parse(name), Ok(mode));
            assert_eq!(mode.name(), name);
        }
    }
}
