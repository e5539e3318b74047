//! `export dsa-tdb` (a period's statements of reasons, one DSA Transparency Database
//! statement per line, for manual upload) and `export lumen` (its notices and
//! counter-notices, one Lumen `POST /notices` body per line). Both print JSON lines
//! whatever `--output` says: the format is the point. With `--out FILE` the lines go to
//! FILE, written whole or not at all.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use tokio_stream::StreamExt;

use super::CliError;
use super::connect::Clients;
use crate::pb;

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Statements of reasons of the restrictions in the period (DELETE and CORRECT
    /// decisions, deletions when a correction window passed), as the DSA Transparency
    /// Database's JSON: one statement per line.
    DsaTdb(Period),
    /// Notices filed and counter-notices received in the period, as Lumen documents:
    /// one per line.
    Lumen(Period),
}

#[derive(Args, Debug)]
pub struct Period {
    /// The first day (YYYY-MM-DD, UTC) or instant (RFC 3339, such as
    /// 2024-01-15T09:00:00Z) of the period.
    #[arg(long)]
    from: String,
    /// The last day (YYYY-MM-DD, UTC: the whole day is included) or the instant the
    /// period ends before (RFC 3339). Default: now.
    #[arg(long)]
    to: Option<String>,
    /// Write the lines to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

impl Period {
    fn times(&self) -> Result<(prost_types::Timestamp, Option<prost_types::Timestamp>), CliError> {
        let start = parse(&self.from, "--from", false)?;
        let end = self
            .to
            .as_deref()
            .map(|t| parse(t, "--to", true))
            .transpose()?;
        if end.is_some_and(|e| e <= start) {
            return Err(CliError::Usage(format!(
                "--to {} ends the period before --from {} starts it; give a later --to",
                self.to.as_deref().unwrap_or_default(),
                self.from
            )));
        }
        Ok((start.into(), end.map(Into::into)))
    }
}

/// A day (its start, or with `day_end` the start of the next day) or an RFC 3339
/// instant.
fn parse(text: &str, flag: &str, day_end: bool) -> Result<SystemTime, CliError> {
    let t = text.trim();
    let is_day = t.len() == 10 && t.as_bytes().get(4) == Some(&b'-');
    let instant = if is_day {
        format!("{t}T00:00:00Z")
    } else {
        t.to_string()
    };
    let at = humantime::parse_rfc3339(&instant).map_err(|_| {
        CliError::Usage(format!(
            "{flag} {text:?} is not a date (YYYY-MM-DD) or an RFC 3339 time (2024-01-15T09:00:00Z)"
        ))
    })?;
    Ok(if is_day && day_end {
        at + Duration::from_secs(86_400)
    } else {
        at
    })
}

pub async fn run(command: ExportCommand, clients: &Clients) -> Result<(), CliError> {
    let mut lines = Vec::new();
    let out = match command {
        ExportCommand::DsaTdb(period) => {
            let (start, end) = period.times()?;
            let mut stream = clients
                .audit()
                .export_statements_of_reasons(pb::ExportStatementsOfReasonsRequest {
                    start_time: Some(start),
                    end_time: end,
                })
                .await?
                .into_inner();
            while let Some(s) = stream.next().await {
                lines.push(s?.statement_json);
            }
            period.out
        }
        ExportCommand::Lumen(period) => {
            let (start, end) = period.times()?;
            let mut stream = clients
                .audit()
                .export_notices(pb::ExportNoticesRequest {
                    start_time: Some(start),
                    end_time: end,
                    format: pb::ExportFormat::Lumen as i32,
                })
                .await?
                .into_inner();
            while let Some(n) = stream.next().await {
                lines.push(n?.document_json);
            }
            period.out
        }
    };
    match out {
        Some(path) => {
            write_whole(&path, &lines)?;
            eprintln!("{} line(s) written to {}", lines.len(), path.display());
            Ok(())
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            for line in &lines {
                writeln!(stdout, "{line}").map_err(|e| CliError::Output(e.to_string()))?;
            }
            Ok(())
        }
    }
}

/// Writes `lines` to `path` through a temporary file beside it, so that a failure
/// leaves no half-written export.
fn write_whole(path: &Path, lines: &[String]) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError::Usage(format!("cannot write {}: {e}", path.display()));
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(&partial, text).map_err(fail)?;
    std::fs::rename(&partial, path).map_err(fail)
}
