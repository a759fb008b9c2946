//! PostgreSQL connection strings: `postgres://USER:PASSWORD@HOST:PORT/DBNAME?sslmode=...` (or
//! `postgresql://`), completed from the environment as libpq completes them (`PGHOST`,
//! `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGPASSFILE` or `~/.pgpass`, `PGSSLMODE`,
//! `PGCONNECT_TIMEOUT`, `PGAPPNAME`), and shown with the password masked. A password is never
//! part of anything perfmon prints or stores: [`mask`] is the only way a DSN is displayed.

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
    // tokio-postgres parses the URL (percent-decoding, several hosts, `host=` parameters).
    let mut c = postgres::Config::from_str(url).map_err(|e| format!("{shown}: {e}"))?;
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
    if !url.contains("sslmode=") {
        if let Some(m) = var("PGSSLMODE") {
            let mode = match m.as_str() {
                "disable" => postgres::config::SslMode::Disable,
                "allow" | "prefer" => postgres::config::SslMode::Prefer,
                _ => postgres::config::SslMode::Require,
            };
            c.ssl_mode(mode);
        }
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
}
