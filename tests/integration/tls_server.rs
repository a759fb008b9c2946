//! A throwaway PostgreSQL server that accepts TLS only, for tests/integration/postgres_tls.rs:
//! a CA and a server certificate (CN=localhost, SAN localhost and 127.0.0.1) made by `openssl`,
//! `ssl = on`, and pg_hba `hostssl ... scram-sha-256` with `hostnossl ... reject`. It lives in a
//! temp dir of its own on a free loopback port and is stopped when dropped. Missing `openssl` or
//! server binaries fail the test loudly (`make deps` installs PostgreSQL).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The role and database the tests connect as.
pub const USER: &str = "tlsuser";
pub const PASSWORD: &str = "tls-s3cret-pw";
pub const DB: &str = "perf";

pub struct TlsServer {
    pub dir: tempfile::TempDir,
    pub port: u16,
    bindir: PathBuf,
    /// The user the server runs as when the tests run as root (PostgreSQL refuses root).
    as_user: Option<String>,
}

impl TlsServer {
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// A CA that did not sign the server's certificate.
    pub fn other_ca(&self) -> PathBuf {
        self.dir.path().join("other-ca.crt")
    }

    pub fn start() -> TlsServer {
        let bindir = bindir();
        let as_user = server_user();
        let dir = tempfile::Builder::new()
            .prefix("perfmon-tls-")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let mut s = TlsServer {
            dir,
            port: 0,
            bindir,
            as_user,
        };
        s.make_certificates();
        s.init_cluster();
        s.start_server();
        s.psql_admin(&format!("CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'"));
        s.psql_admin(&format!("CREATE DATABASE {DB} OWNER {USER}"));
        s
    }

    /// A URL to this server as `host` (the TCP connection goes to 127.0.0.1 whatever `host`
    /// says: `hostaddr`), with `params` appended.
    pub fn url(&self, host: &str, params: &str) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@{host}:{}/{DB}?hostaddr=127.0.0.1{params}",
            self.port
        )
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn make_certificates(&self) {
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for ca in ["ca", "other-ca"] {
            let (key, crt) = (format!("{ca}.key"), format!("{ca}.crt"));
            let subj = format!("/CN=perfmon test {ca}");
            let mut args = vec!["req", "-x509", "-days", "2", "-subj", &subj];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &crt]);
            args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
            args.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
            self.openssl(&args);
        }
        let mut args = vec!["req", "-subj", "/CN=localhost"];
        args.extend(ec);
        args.extend(["-keyout", "server.key", "-out", "server.csr"]);
        self.openssl(&args);
        std::fs::write(
            self.path("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ]);
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("openssl could not be run ({e}): install openssl"));
        check(&out, "openssl");
    }

    fn init_cluster(&self) {
        let d = self.dir.path();
        // The server must own its directory and its key (mode 0600, or it refuses the key).
        self.chown(d);
        self.chown(&self.path("server.key"));
        let initdb = self.bindir.join("initdb");
        let data = self.path("data");
        let out = self
            .as_server(&initdb)
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth-local=trust", "--no-locale"])
            .args(["-E", "UTF8", "--no-sync"])
            .output()
            .unwrap();
        check(&out, "initdb");
        let hba = "local all all trust\n\
                   hostssl all all 127.0.0.1/32 scram-sha-256\n\
                   hostssl all all ::1/128 scram-sha-256\n\
                   hostnossl all all 0.0.0.0/0 reject\n\
                   hostnossl all all ::/0 reject\n";
        std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        let conf = format!(
            "listen_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n\
             ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
            d.display(),
            self.path("server.crt").display(),
            self.path("server.key").display()
        );
        let mut old = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        old.push_str(&conf);
        std::fs::write(data.join("postgresql.conf"), old).unwrap();
        self.chown(&data.join("pg_hba.conf"));
        self.chown(&data.join("postgresql.conf"));
    }

    /// Starts on a free port (another port when a concurrent binder took it meanwhile).
    fn start_server(&mut self) {
        let log = self.path("server.log");
        for _ in 0..5 {
            self.port = free_port();
            let out = self
                .as_server(&self.bindir.join("pg_ctl"))
                .args(["start", "-w", "-t", "30", "-D"])
                .arg(self.path("data"))
                .arg("-l")
                .arg(&log)
                .args(["-o", &format!("-p {}", self.port)])
                .output()
                .unwrap();
            if out.status.success() {
                return;
            }
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("the TLS test server did not start:\n{log}");
    }

    fn psql_admin(&self, sql: &str) {
        let out = Command::new(self.bindir.join("psql"))
            .args(["-X", "-w", "-q", "-v", "ON_ERROR_STOP=1", "-U", "postgres"])
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-d", "postgres", "-c", sql])
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        check(&out, "psql");
    }

    /// A command of the server's binaries, run as the server's user.
    fn as_server(&self, program: &Path) -> Command {
        let mut c = match &self.as_user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        c.current_dir(self.dir.path()).env("LC_ALL", "C");
        c
    }

    fn chown(&self, p: &Path) {
        if let Some(u) = &self.as_user {
            check(
                &Command::new("chown").arg(u).arg(p).output().unwrap(),
                "chown",
            );
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self
                .as_server(&self.bindir.join("pg_ctl"))
                .args(["stop", "-w", "-t", "20", "-m", "immediate", "-D"])
                .arg(self.path("data"))
                .output();
        }
    }
}

fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The directory of initdb, pg_ctl and psql: initdb's (links resolved, as PATH may hold links
/// to some of them only) on PATH, else the newest /usr/lib/postgresql/*/bin.
fn bindir() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("initdb"))
            .find(|f| f.is_file())
            .and_then(|f| Some(std::fs::canonicalize(f).ok()?.parent()?.to_path_buf()))
    });
    let debian = || {
        let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
            .filter(|(_, b)| b.join("initdb").is_file())
            .collect();
        dirs.sort();
        dirs.pop().map(|(_, b)| b)
    };
    let dir = on_path
        .or_else(debian)
        .expect("PostgreSQL's initdb not found (PATH, /usr/lib/postgresql/*/bin): run `make deps`");
    for b in ["pg_ctl", "psql"] {
        assert!(
            dir.join(b).is_file(),
            "{} missing next to initdb: run `make deps`",
            dir.join(b).display()
        );
    }
    dir
}

/// As root, the system user `perfmon-pg` (created like scripts/pg-test-server creates it).
fn server_user() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return None;
    }
    let exists = |u: &str| {
        Command::new("id")
            .args(["-u", u])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !exists("perfmon-pg") {
        let _ = Command::new("useradd")
            .args(["--system", "--no-create-home", "--home-dir", "/nonexistent"])
            .args(["--shell", "/usr/sbin/nologin", "perfmon-pg"])
            .output();
    }
    assert!(
        exists("perfmon-pg"),
        "could not create the user perfmon-pg for the server"
    );
    Some("perfmon-pg".into())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
