//! `report`: the transparency report (DSA Arts. 15 and 24, the figures of Implementing
//! Regulation (EU) 2024/2835) for a period, as a table for people, the canonical JSON
//! of `TransparencyReport`, or CSV with one `figure,key,value` row per number so that
//! a spreadsheet can pivot it.

use std::time::Duration;

use jiff::civil::Date;

use super::CliError;
use super::connect::Clients;
use super::output::{self, Named, Output, Table, print_line, print_message, short};
use crate::pb;

impl Named for pb::TransparencyReport {
    const NAME: &'static str = "takedown.v1.TransparencyReport";
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// The period and the shape of the report.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// First day of the period, YYYY-MM-DD (from 00:00 UTC), or an RFC 3339 time.
    /// Unset: the beginning of the log.
    #[arg(long, value_parser = parse_from)]
    from: Option<prost_types::Timestamp>,
    /// Last day of the period, YYYY-MM-DD (up to the end of that day, UTC), or an
    /// RFC 3339 time (excluded). Unset: now.
    #[arg(long, value_parser = parse_to)]
    to: Option<prost_types::Timestamp>,
    /// `table`, `json` (the canonical protobuf JSON of TransparencyReport) or `csv`
    /// (`figure,key,value`). Unset: as --output says.
    #[arg(long, value_enum)]
    format: Option<Format>,
}

/// `--from`: a date's first instant (UTC) or a time.
fn parse_from(s: &str) -> Result<prost_types::Timestamp, String> {
    parse_day(s, 0)
}

/// `--to`: the first instant after a date (UTC), so the day is included, or a time.
fn parse_to(s: &str) -> Result<prost_types::Timestamp, String> {
    parse_day(s, 1)
}

fn parse_day(s: &str, days_after: i64) -> Result<prost_types::Timestamp, String> {
    let s = s.trim();
    if s.len() == 10 {
        let date: Date = s
            .parse()
            .map_err(|e| format!("{s:?} is not a date such as 2024-01-31: {e}"))?;
        let start = date
            .checked_add(jiff::Span::new().days(days_after))
            .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC))
            .map_err(|e| format!("{s:?}: {e}"))?;
        let start = std::time::SystemTime::try_from(start.timestamp())
            .map_err(|e| format!("{s:?}: {e}"))?;
        return Ok(start.into());
    }
    output::arg::timestamp(s).map_err(|e| format!("{e}; or write a date such as 2024-01-31"))
}

pub async fn run(args: ReportArgs, clients: &Clients, out: Output) -> Result<(), CliError> {
    let report = clients
        .audit()
        .get_transparency_report(pb::GetTransparencyReportRequest {
            start_time: args.from,
            end_time: args.to,
        })
        .await?
        .into_inner()
        .report
        .unwrap_or_default();
    let format = args.format.unwrap_or(match out {
        Output::Table => Format::Table,
        Output::Json => Format::Json,
    });
    match format {
        Format::Json => print_message(&report),
        Format::Csv => print_line(csv(&report).trim_end()),
        Format::Table => {
            let mut table = Table::new(&["FIGURE", "KEY", "VALUE"]);
            for row in rows(&report) {
                // People read a duration as "30m0s"; the unit key is for CSV.
                let (key, value) = match row.value {
                    Value::Duration(Some(d)) => (String::new(), output::span(d)),
                    Value::Duration(None) => (String::new(), "-".to_string()),
                    Value::Time(None) => (row.key, "-".to_string()),
                    other => (row.key, other.to_string()),
                };
                table.row(vec![row.figure.to_string(), or_blank(key), value]);
            }
            table.print()
        }
    }
}

fn or_blank(s: String) -> String {
    if s.is_empty() { "-".to_string() } else { s }
}

/// One number of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub figure: &'static str,
    /// What the number is broken down by (a regime and source, an outcome, a
    /// category); empty for a figure with a single number.
    pub key: String,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Count(u64),
    /// Unset when there was nothing to measure.
    Duration(Option<Duration>),
    /// Unset for an open start.
    Time(Option<String>),
}

impl std::fmt::Display for Value {
    /// Counts as integers, durations in seconds (empty when unset), times in RFC 3339.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Duration(Some(d)) => write!(f, "{}", d.as_secs()),
            Value::Duration(None) => Ok(()),
            Value::Time(t) => f.write_str(t.as_deref().unwrap_or_default()),
        }
    }
}

/// The report as CSV: a header, then one `figure,key,value` row per number. Keys are
/// enum short names (never a comma or a quote), so no field needs quoting.
pub fn csv(report: &pb::TransparencyReport) -> String {
    let mut text = String::from("figure,key,value\n");
    for row in rows(report) {
        text.push_str(&format!("{},{},{}\n", row.figure, row.key, row.value));
    }
    text
}

/// Every number of the report, in the order of the proto's fields, grouped by figure.
pub fn rows(r: &pb::TransparencyReport) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut push =
        |figure: &'static str, key: String, value: Value| rows.push(Row { figure, key, value });
    let count = |n: u64| Value::Count(n);
    let duration = |d: Option<prost_types::Duration>| {
        Value::Duration(d.and_then(|d| Duration::try_from(d).ok()))
    };
    let time = |t: Option<prost_types::Timestamp>| Value::Time(t.map(|t| output::time(Some(&t))));
    push("start_time", String::new(), time(r.start_time));
    push("end_time", String::new(), time(r.end_time));
    for n in &r.notices {
        let key = format!(
            "{}/{}",
            short(n.regime().as_str_name(), "REGIME_"),
            short(n.source().as_str_name(), "NOTICE_SOURCE_")
        );
        push("notices", key.clone(), count(n.notices));
        push("items_requested_by_source", key, count(n.items_requested));
    }
    push("items_requested", String::new(), count(r.items_requested));
    for c in &r.notices_by_category {
        let key = short(c.category().as_str_name(), "STATEMENT_CATEGORY_");
        push("notices_by_category", key, count(c.count));
    }
    for c in &r.notices_by_content_type {
        let key = short(c.content_type().as_str_name(), "CONTENT_TYPE_");
        push("notices_by_content_type", key, count(c.count));
    }
    push("decisions", String::new(), count(r.decisions));
    for g in &r.decisions_by_ground {
        let key = short(g.decision_ground().as_str_name(), "DECISION_GROUND_");
        push("decisions_by_ground", key, count(g.count));
    }
    push(
        "automated_decisions",
        String::new(),
        count(r.automated_decisions),
    );
    let o = r.outcomes.unwrap_or_default();
    for (key, n) in [
        ("CORRECTED", o.corrected),
        ("DELETED", o.deleted),
        ("REJECTED", o.rejected),
        ("WITHDRAWN", o.withdrawn),
        ("CLOSED_INCOMPLETE", o.closed_incomplete),
        ("RESTORED", o.restored),
    ] {
        push("outcomes", key.to_string(), count(n));
    }
    let seconds = String::from("seconds");
    push(
        "median_time_to_decision",
        seconds.clone(),
        duration(r.median_time_to_decision),
    );
    push(
        "p90_time_to_decision",
        seconds.clone(),
        duration(r.p90_time_to_decision),
    );
    push(
        "median_time_to_first_action",
        seconds.clone(),
        duration(r.median_time_to_first_action),
    );
    push(
        "p90_time_to_first_action",
        seconds.clone(),
        duration(r.p90_time_to_first_action),
    );
    push("counter_notices", String::new(), count(r.counter_notices));
    push(
        "counter_notices_restored",
        String::new(),
        count(r.counter_notices_restored),
    );
    push("legal_actions", String::new(), count(r.legal_actions));
    push(
        "legal_actions_upheld",
        String::new(),
        count(r.legal_actions_upheld),
    );
    push(
        "legal_actions_dismissed",
        String::new(),
        count(r.legal_actions_dismissed),
    );
    push("complaints", String::new(), count(r.complaints));
    let cd = r.complaint_decisions.unwrap_or_default();
    for (key, n) in [
        ("REJECT", cd.reject),
        ("CORRECT", cd.correct),
        ("DELETE", cd.delete),
    ] {
        push("complaint_decisions", key.to_string(), count(n));
    }
    push(
        "complaint_reversals",
        String::new(),
        count(r.complaint_reversals),
    );
    let co = r.complaint_outcomes.unwrap_or_default();
    for (key, n) in [
        ("UPHELD", co.upheld),
        ("REVERSED", co.reversed),
        ("WITHDRAWN", co.withdrawn),
    ] {
        push("complaint_outcomes", key.to_string(), count(n));
    }
    push(
        "median_time_to_complaint_decision",
        seconds,
        duration(r.median_time_to_complaint_decision),
    );
    push("suspensions", String::new(), count(r.suspensions));
    push(
        "party_suspensions",
        String::new(),
        count(r.party_suspensions),
    );
    let s = r.suspensions_by_kind.unwrap_or_default();
    for (key, n) in [
        ("NOTIFIERS", s.notifiers),
        ("COMPLAINANTS", s.complainants),
        ("CONTRIBUTORS", s.contributors),
    ] {
        push("suspensions_by_kind", key.to_string(), count(n));
    }
    push(
        "repeat_infringers",
        String::new(),
        count(r.repeat_infringers),
    );
    push("head_seq", String::new(), count(r.head_seq));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_covers_the_whole_day() {
        assert_eq!(parse_from("2024-01-15").unwrap().seconds, 1_705_276_800);
        assert_eq!(
            parse_to("2024-01-15").unwrap().seconds,
            1_705_276_800 + 86_400
        );
        assert_eq!(
            parse_to("2024-01-15T09:00:00Z").unwrap().seconds,
            1_705_309_200
        );
        let e = parse_from("2024-13-01").unwrap_err();
        assert!(e.contains("2024-13-01"), "{e}");
        assert!(parse_from("yesterday").is_err());
    }
}
