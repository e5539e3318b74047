//! `takedownd --help` documents every flag with its environment variable, and the
//! operator-facing ones with their defaults.

use std::process::Command;

/// The long flags of the help text, each with the text that documents it.
fn flags(help: &str) -> Vec<(String, String)> {
    let mut flags: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        let flag = trimmed
            .strip_prefix("--")
            .or_else(|| trimmed.get(4..).and_then(|rest| rest.strip_prefix("--")))
            .filter(|_| trimmed.starts_with("--") || trimmed.starts_with('-'));
        match flag {
            Some(rest) => {
                let name = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                flags.push((name, String::new()));
            }
            None => {
                if let Some((_, text)) = flags.last_mut() {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    flags
}

#[test]
fn every_takedownd_flag_has_an_environment_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_takedownd"))
        .arg("--help")
        .output()
        .expect("run takedownd --help");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let flags = flags(&help);
    assert!(flags.len() > 10, "parsed the flags:\n{help}");
    for (flag, text) in &flags {
        if flag == "help" || flag == "version" {
            continue;
        }
        let env = format!("[env: TAKEDOWN_{}", flag.to_uppercase().replace('-', "_"));
        assert!(text.contains(&env), "--{flag} lacks {env}]:\n{text}");
    }
    for (flag, default) in [
        ("listen", "127.0.0.1:50051"),
        ("data-dir", "./takedown-data"),
        ("shutdown-grace-secs", "10"),
        ("log-format", "text"),
    ] {
        let text = &flags
            .iter()
            .find(|(f, _)| f == flag)
            .unwrap_or_else(|| panic!("--{flag} missing"))
            .1;
        assert!(
            text.contains(&format!("[default: {default}]")),
            "--{flag}: {text}"
        );
    }
    let metrics = &flags
        .iter()
        .find(|(f, _)| f == "metrics-listen")
        .expect("--metrics-listen")
        .1;
    assert!(metrics.contains("off when unset"), "{metrics}");
}
