//! The redaction rules, table-driven: each secret form with an input and what is stored, and
//! ordinary text that must stay as it is.

use super::forms::{form_names, forms_in};
use super::*;

fn r(args: &[&str]) -> Vec<String> {
    redact_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

#[test]
fn options_and_assignments() {
    assert_eq!(
        r(&[
            "train",
            "--password=hunter2",
            "--token",
            "abc",
            "--lr",
            "0.1"
        ]),
        ["train", "--password=***", "--token", "***", "--lr", "0.1"]
    );
    assert_eq!(
        r(&["env", "API_KEY=sk-123", "AWS_SECRET_ACCESS_KEY=x", "N=3"]),
        ["env", "API_KEY=***", "AWS_SECRET_ACCESS_KEY=***", "N=3"]
    );
    assert_eq!(r(&["--api-key", "k"]), ["--api-key", "***"]);
}

#[test]
fn urls_and_shell_strings() {
    assert_eq!(
        r(&["psql", "postgres://bob:s3cret@db:5432/x"]),
        ["psql", "postgres://bob:***@db:5432/x"]
    );
    assert_eq!(
        r(&["sh", "-c", "API_TOKEN=abc python x.py https://u:p@h/"]),
        ["sh", "-c", "API_TOKEN=*** python x.py https://u:***@h/"]
    );
    assert_eq!(
        r(&["curl", "https://example.com/a?b=1"]),
        ["curl", "https://example.com/a?b=1"]
    );
}

#[test]
fn harmless_things_stay() {
    assert_eq!(
        r(&["python", "ga.py", "--pop", "50"]),
        ["python", "ga.py", "--pop", "50"]
    );
    assert!(!is_secret_name("monkey_patch"));
    assert!(is_secret_name("SSH_KEY"));
}

/// (form, input, stored). `KEPT` rows must come back unchanged. Inputs go through
/// [`redact_text`], as a tag value, an environment value or a mark does.
const KEPT: &str = "kept";
const TABLE: &[(&str, &str, &str)] = &[
    // Credential headers: the name and scheme stay, the value goes.
    ("authorization-like header", "Authorization: Bearer abcdef123456", "Authorization: Bearer ***"),
    ("authorization-like header", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
    ("authorization-like header", "authorization:token abc", "authorization:token ***"),
    ("authorization-like header", "Authorization: 9f8e7d6c", "Authorization: ***"),
    ("authorization-like header", "Proxy-Authorization: Basic dXNlcjpwYXNz", "Proxy-Authorization: Basic ***"),
    ("authorization-like header", "X-Api-Key: xyz789", "X-Api-Key: ***"),
    ("authorization-like header", "X-Auth-Token: 0123abcd", "X-Auth-Token: ***"),
    ("authorization-like header", "PRIVATE-TOKEN: my-gitlab-token", "PRIVATE-TOKEN: ***"),
    ("authorization-like header", "x-goog-api-key: abc", "x-goog-api-key: ***"),
    ("authorization-like header", "X-Client-Secret: s3", "X-Client-Secret: ***"),
    ("authorization-like header", "Cookie: session=abc; csrftoken=def", "Cookie: ***"),
    ("authorization-like header", "Set-Cookie: id=a3fWa; Path=/; HttpOnly", "Set-Cookie: ***"),
    (
        "authorization-like header",
        "curl -sf -H 'Authorization: Bearer abc123' -H \"X-Api-Key: k9\" https://api.example.com/v1",
        "curl -sf -H 'Authorization: Bearer ***' -H \"X-Api-Key: ***\" https://api.example.com/v1",
    ),
    (
        "authorization-like header",
        "headers={'Authorization': 'Bearer abc', 'Accept': '*/*'}",
        "headers={'Authorization': 'Bearer ***', 'Accept': '*/*'}",
    ),
    (
        "authorization-like header",
        r#"{"x-api-key":"k9","cookie": "sid=1"}"#,
        r#"{"x-api-key":"***","cookie": "***"}"#,
    ),
    // Quoted secret-named keys (JSON, Python dicts printed in a mark).
    (
        "quoted secret-named key",
        r#"config {"lr": "0.1", "api_key": "abc123", "db_password" : "pw"}"#,
        r#"config {"lr": "0.1", "api_key": "***", "db_password" : "***"}"#,
    ),
    (
        "quoted secret-named key",
        "{'access_token': 'Bearer abc', 'wandb.api_key': 'k'}",
        "{'access_token': 'Bearer ***', 'wandb.api_key': '***'}",
    ),
    // Tokens by their form.
    ("GitHub token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "***"),
    ("GitHub token", "GH=gho_16C7e42F292c6912E7710c838347Ae178B4a;", "GH=***;"),
    ("GitHub token", "ghs_16C7e42F292c6912E7710c838347Ae178B4a", "***"),
    (
        "GitHub fine-grained token",
        "push with github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123 now",
        "push with *** now",
    ),
    ("GitLab token", "glpat-Abc123Def456Ghi789Jk", "***"),
    ("AWS access key id", "AKIAIOSFODNN7EXAMPLE", "***"),
    ("AWS access key id", "creds ASIAY34FZKBOKMUTVV7A,eu-west-1", "creds ***,eu-west-1"),
    (
        "Slack token",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "***",
    ),
    ("Slack token", "xoxp-1234567890-abcdefABCDEF", "***"),
    (
        "Slack token",
        "xapp-1-A0123456789-1234567890123-abcdef0123456789",
        "***",
    ),
    (
        "Slack webhook",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/services/***",
    ),
    (
        "JWT",
        "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c ok",
        "jwt *** ok",
    ),
    ("JWT", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "***"),
    (
        "PEM private key block",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1L\n-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----\n",
    ),
    (
        "PEM private key block",
        "key: -----BEGIN PRIVATE KEY----- MIIEvQIBADANBg -----END PRIVATE KEY----- done",
        "key: -----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY----- done",
    ),
    (
        "PEM private key block",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA (cut)",
        "-----BEGIN OPENSSH PRIVATE KEY-----***",
    ),
    (
        "PEM private key block",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----***-----END PGP PRIVATE KEY BLOCK-----",
    ),
    (
        "OpenAI/Anthropic key",
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7CD0EF",
        "***",
    ),
    (
        "OpenAI/Anthropic key",
        "key sk-ant-api03-Xy9_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-AA end",
        "key *** end",
    ),
    ("Google API key", "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI", "***"),
    ("Hugging Face token", "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", "***"),
    ("Stripe key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "***"),
    ("Stripe key", "rk_test_4eC39HqLyjWDarjtT1zdp7dc", "***"),
    ("npm token", "npm_AbCdEf0123456789AbCdEf0123456789AbCd", "***"),
    (
        "PyPI token",
        "pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoLWlqa2wtbW5vcC1xcnN0LXV2d3h5ejAxMjM0",
        "***",
    ),
    // Ordinary text of optimisation runs stays as it is.
    (KEPT, "/home/ana/ga/results/run_0042/checkpoint.pt", ""),
    (KEPT, "git 9ca5623e3f1b2c4d5e6f708192a3b4c5d6e7f809", ""),
    (KEPT, "trial 123e4567-e89b-12d3-a456-426614174000", ""),
    (KEPT, "--lr=0.001 --seed 7 --pop 50 1e-3 42", ""),
    (KEPT, "dGhpcyBpcyBqdXN0IGJhc2U2NCB0ZXh0IG5vdCBhIHNlY3JldA==", ""),
    (KEPT, "QUtJQUlPU0ZPRE5ON0VYQU1QTEUgYW5kIG1vcmUgdGV4dA", ""),
    (KEPT, "AKIASHORT AKIAiosfodnn7example ghp_short hf_hub_download", ""),
    (KEPT, "sk-learn-compatible-estimators-for-genetic-search", ""),
    (KEPT, "scikit-learn==1.4.2 torch==2.3.0+cu121", ""),
    (KEPT, "eyJhbGciOiJIUzI1NiJ9 eyJhbGciOiJIUzI1NiJ9.json", ""),
    (KEPT, "http://localhost:8080/metrics", ""),
    (KEPT, "Epoch 3/10 - loss: 0.25 - val_loss: 0.31", ""),
    (KEPT, "generation 12: best=0.93 worst=4.1", ""),
    (KEPT, "Content-Type: application/json", ""),
    (KEPT, "Accept: */* User-Agent: curl/8.5.0", ""),
    (KEPT, "monkey: 3 keys: 4 token count: 512", ""),
    (KEPT, r#"{"lr": "0.001", "optimizer": "adam", "monkey": "x"}"#, ""),
    (KEPT, "{'best': 'ghp_short', 'keys': 'a b'}", ""),
    (KEPT, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", ""),
    (KEPT, "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", ""),
];

#[test]
fn each_form_is_redacted_and_ordinary_text_is_kept() {
    for (form, input, want) in TABLE {
        let want = if *form == KEPT { input } else { want };
        assert_eq!(redact_text(input), *want, "{form}: {input:?}");
    }
}

/// Every form is in the table, and each secret row is caught by the form it names (not by
/// luck through another).
#[test]
fn the_table_lists_every_form() {
    for name in form_names() {
        assert!(TABLE.iter().any(|(f, ..)| *f == name), "{name} has no row");
    }
    for (form, input, _) in TABLE.iter().filter(|(f, ..)| *f != KEPT) {
        let found = forms_in(input);
        assert!(
            found.contains(form),
            "{input:?} not matched as {form}: {found:?}"
        );
    }
}

/// The command line of issue 15, word for word.
pub(super) const ISSUE_ARGV: &[&str] = &[
    "sh",
    "-c",
    "true",
    "-H",
    "Authorization: Bearer abcdef123456",
    "-H",
    "X-Api-Key: xyz789",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "AKIAIOSFODNN7EXAMPLE",
];

/// The issue's command line: header values and tokens are hidden, the rest stays.
#[test]
fn the_issue_command_line() {
    assert_eq!(
        r(ISSUE_ARGV),
        [
            "sh",
            "-c",
            "true",
            "-H",
            "Authorization: Bearer ***",
            "-H",
            "X-Api-Key: ***",
            "***",
            "***",
        ]
    );
}

#[test]
fn header_arguments_are_hidden_to_their_end() {
    assert_eq!(
        r(&[
            "curl",
            "--header=Authorization: Digest username=\"u\", response=\"6629fae4\"",
            "-HX-Api-Key: k'1\"2",
            "--header",
            "Cookie: a=\"1\"; b=2",
            "-H",
            "Accept: application/json",
        ]),
        [
            "curl",
            "--header=Authorization: Digest ***",
            "-HX-Api-Key: ***",
            "--header",
            "Cookie: ***",
            "-H",
            "Accept: application/json",
        ]
    );
}

/// A secret option's value is hidden whole even when it holds spaces, and such an argument
/// does not hide the next one.
#[test]
fn option_values_with_spaces() {
    assert_eq!(
        r(&["x", "--token=abc def", "--epochs", "3"]),
        ["x", "--token=***", "--epochs", "3"]
    );
    assert_eq!(
        r(&["curl", "--oauth2-bearer", "t0k", "--cookie", "sid=1", "u"]),
        ["curl", "--oauth2-bearer", "***", "--cookie", "***", "u"]
    );
}

/// Tag and environment values: by name as before, and by form under any name.
#[test]
fn named_values_are_redacted_by_form_too() {
    assert_eq!(
        redact_named("MY_VAR", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        "***"
    );
    assert_eq!(
        redact_named("note", "aws AKIAIOSFODNN7EXAMPLE here"),
        "aws *** here"
    );
    assert_eq!(redact_named("CUDA_VISIBLE_DEVICES", "0,1"), "0,1");
}
