//! The `replay` CLI: it replays to whatever collector cluster the configuration names (OTLP/HTTP, gzip or gRPC),
//! and says so on stderr, with a failing exit status, when the filter exported nothing or rejected the
//! configuration.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// Runs `replay` with `args`: (exit status, stdout, stderr).
fn replay(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_replay")).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn fixture(name: &str) -> String {
    format!("{}/testdata/exchanges/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A file of this test run's own under the system's temporary directory.
fn temp_file(name: &str, contents: &str) -> String {
    let path: PathBuf = std::env::temp_dir().join(format!("llm-trace-replay-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn replays_to_whatever_cluster_the_configuration_names() {
    let configs = [
        ("http", r#"{"exporter":{"cluster":"otel"}}"#),
        ("grpc", r#"{"exporter":{"cluster":"otel","protocol":"grpc"}}"#),
        ("gzip", r#"{"exporter":{"cluster":"collector-b","compression":"gzip"}}"#),
    ];
    for (name, config) in configs {
        let config_file = temp_file(&format!("{name}.json"), config);
        let (status, stdout, stderr) = replay(&["--config", &config_file, &fixture("openai-chat.json")]);
        assert_eq!(status, 0, "{name}: {stderr}");
        assert_eq!(stderr, "", "{name}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: {stdout}");
        let span: Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(span["attributes"]["gen_ai.provider.name"], "openai", "{name}");
        assert_eq!(span["exchange"], "fixture-openai-chat", "{name}");
    }
}

#[test]
fn an_exchange_that_exports_nothing_is_reported_with_a_failing_status() {
    let mut exchange: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("openai-chat.json")).unwrap()).unwrap();
    exchange["request"]["url"] = Value::from("https://api.openai.com/v1/models");
    let models = temp_file("models.json", &exchange.to_string());
    let (status, stdout, stderr) = replay(&[&models, &fixture("openai-chat.json")]);
    assert_eq!(status, 1, "{stderr}");
    assert_eq!(
        stdout.lines().count(),
        1,
        "the other exchange is still replayed: {stdout}"
    );
    assert!(
        stderr.contains(&format!("replay: {models}: the filter exported no span")),
        "{stderr}"
    );
}

#[test]
fn a_rejected_configuration_is_reported_before_any_exchange() {
    let config_file = temp_file("rejected.json", r#"{"exporter":{"cluster":"otel","timeout":5}}"#);
    let (status, stdout, stderr) = replay(&["--config", &config_file, &fixture("openai-chat.json")]);
    assert_eq!(status, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("replay: the plugin rejected its configuration") && stderr.contains("`exporter.timeout`"),
        "{stderr}"
    );
}
