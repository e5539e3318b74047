//! Printing results. JSON is the canonical protobuf JSON mapping, produced from the
//! crate's own descriptors by `prost-reflect` (lowerCamelCase names, enums by name,
//! 64-bit integers as strings, RFC 3339 times), with every field present so that
//! scripts can rely on the shape. Tables are for people: short enum names, times to the
//! second, ages.

use std::io::{IsTerminal, Write};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};

use super::CliError;
use crate::pb;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Table,
    Json,
}

static POOL: LazyLock<Result<DescriptorPool, String>> =
    LazyLock::new(|| DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string()));

/// A generated message and its full protobuf name, for transcoding.
pub trait Named: prost::Message {
    const NAME: &'static str;
}

macro_rules! named {
    ($($ty:ident),* $(,)?) => {
        $(impl Named for pb::$ty { const NAME: &'static str = concat!("takedown.v1.", stringify!($ty)); })*
    };
}

named!(
    Claim,
    Article,
    AuditEntry,
    Principal,
    PartyRecord,
    ListClaimsResponse,
    ListAuditEntriesResponse,
    ListPrincipalsResponse,
    VerifyAuditLogResponse,
    IssuePartyTokenResponse,
    CreatePrincipalResponse,
    RevokePrincipalResponse,
    SuspendPrincipalResponse,
    UnsuspendPrincipalResponse,
    StartReviewResponse,
    RequestInformationResponse,
    DecideClaimResponse,
    ResolveLegalActionResponse,
    RecordCorrectionResponse,
    UpsertArticleResponse,
    GetArticleResponse,
    BatchGetArticlesResponse,
    ListReasonTemplatesResponse,
    ErasePersonalDataResponse,
    ExportPersonalDataResponse,
    ListNotificationsResponse,
    RetryNotificationResponse,
);

/// The canonical JSON of `message`.
pub fn to_json<M: Named>(message: &M) -> Result<serde_json::Value, CliError> {
    let pool = POOL.as_ref().map_err(|e| CliError::Output(e.clone()))?;
    let descriptor = pool
        .get_message_by_name(M::NAME)
        .ok_or_else(|| CliError::Output(format!("no descriptor for {}", M::NAME)))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .map_err(|e| CliError::Output(format!("transcoding {}: {e}", M::NAME)))?;
    let options = SerializeOptions::new().skip_default_fields(false);
    dynamic
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| CliError::Output(format!("transcoding {}: {e}", M::NAME)))
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &serde_json::Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Output(e.to_string()))?;
    print_line(&text)
}

/// Prints `value` as one compact JSON line (for streams).
pub fn print_json_line(value: &serde_json::Value) -> Result<(), CliError> {
    print_line(&value.to_string())
}

/// Prints one message as pretty canonical JSON.
pub fn print_message<M: Named>(message: &M) -> Result<(), CliError> {
    print_json(&to_json(message)?)
}

/// Writes a line to stdout; a closed pipe is an error, not a panic.
pub fn print_line(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|_| out.flush())
        .map_err(|e| CliError::Output(format!("writing to stdout: {e}")))
}

/// A table with aligned columns; the last column is not padded.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&'static str]) -> Table {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; what the server sent is escaped (see [`escape`]).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.iter().map(|c| escape(c)).collect());
    }

    pub fn render(&self, with_header: bool) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let line = |cells: Vec<&str>| -> String {
            let last = cells.len().saturating_sub(1);
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i == last {
                    s.push_str(cell);
                } else {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad + 2));
                }
            }
            s.trim_end().to_string()
        };
        let mut lines = Vec::new();
        if with_header {
            lines.push(line(self.header.clone()));
        }
        for row in &self.rows {
            lines.push(line(row.iter().map(String::as_str).collect()));
        }
        lines.join("\n")
    }

    pub fn print(&self) -> Result<(), CliError> {
        print_line(&self.render(true))
    }
}

/// `label  value` lines, labels aligned: one record.
pub fn print_record(fields: &[(&str, String)]) -> Result<(), CliError> {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let text: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k:<width$}  {}", escape(v)).trim_end().to_string())
        .collect();
    print_line(&text.join("\n"))
}

/// Text from the server as a terminal may show it: control characters (ESC, CR, NUL,
/// line breaks, ...) and invisible formatting characters (bidi overrides, zero-width)
/// become `\u{..}` escapes, so a stored name can neither drive the terminal nor
/// disguise itself.
pub fn escape(text: &str) -> String {
    if !text
        .chars()
        .any(|c| c.is_control() || crate::domain::validation::is_invisible(c))
    {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() || crate::domain::validation::is_invisible(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// An enum value without its type prefix: `CLAIM_STATE_UNDER_REVIEW` -> `UNDER_REVIEW`.
pub fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_string()
}

pub fn state(value: i32) -> String {
    pb::ClaimState::try_from(value)
        .map(|s| short(s.as_str_name(), "CLAIM_STATE_"))
        .unwrap_or_else(|_| value.to_string())
}

/// A time to the second, in UTC, RFC 3339; `-` if unset.
pub fn time(t: Option<&prost_types::Timestamp>) -> String {
    match t {
        Some(t) => prost_types::Timestamp {
            seconds: t.seconds,
            nanos: 0,
        }
        .to_string(),
        None => "-".to_string(),
    }
}

pub fn system_time(t: &prost_types::Timestamp) -> Option<SystemTime> {
    let secs = u64::try_from(t.seconds).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// How long ago `t` was, in the two largest units: `3d4h`, `5m12s`.
pub fn age(t: Option<&prost_types::Timestamp>, now: SystemTime) -> String {
    let Some(then) = t.and_then(system_time) else {
        return "-".to_string();
    };
    match now.duration_since(then) {
        Ok(d) => span(d),
        Err(_) => "0s".to_string(),
    }
}

/// A duration in its two largest units.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    let (d_, h, m, sec) = (s / 86_400, s / 3_600 % 24, s / 60 % 60, s % 60);
    if d_ > 0 {
        format!("{d_}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{sec}s")
    } else {
        format!("{sec}s")
    }
}

/// The next deadline: when, what for, and whether it has passed.
pub fn deadline(d: Option<&pb::Deadline>, now: SystemTime) -> String {
    let Some(d) = d.filter(|d| d.kind != pb::DeadlineKind::Unspecified as i32) else {
        return "-".to_string();
    };
    let kind = pb::DeadlineKind::try_from(d.kind)
        .map(|k| short(k.as_str_name(), "DEADLINE_KIND_").to_lowercase())
        .unwrap_or_default();
    let overdue = d
        .due_time
        .as_ref()
        .and_then(system_time)
        .is_some_and(|due| due < now);
    format!(
        "{} {kind}{}",
        time(d.due_time.as_ref()),
        if overdue { " OVERDUE" } else { "" }
    )
}

/// Dash for empty strings, so that table columns stay aligned.
pub fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_string()
    } else {
        s.to_string()
    }
}

/// A spinner on stderr when it is a terminal; hidden when piped, so scripts see only
/// their output.
pub fn progress(message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Parses a prefixed protobuf enum from its short name in any case, with `-` for `_`:
/// `under-review`, `UNDER_REVIEW` and `CLAIM_STATE_UNDER_REVIEW` are the same.
pub fn parse_enum<E: Copy + TryFrom<i32>>(
    input: &str,
    prefix: &str,
    from_name: fn(&str) -> Option<E>,
    name: fn(E) -> &'static str,
) -> Result<E, String> {
    let upper = input.trim().to_ascii_uppercase().replace('-', "_");
    let full = if upper.starts_with(prefix) {
        upper
    } else {
        format!("{prefix}{upper}")
    };
    from_name(&full)
        .filter(|v| !name(*v).ends_with("_UNSPECIFIED"))
        .ok_or_else(|| {
            let choices: Vec<String> = (1..64)
                .filter_map(|i| E::try_from(i).ok())
                .map(|v| short(name(v), prefix).to_lowercase().replace('_', "-"))
                .collect();
            format!("{input:?} is not one of: {}", choices.join(", "))
        })
}

/// Clap value parsers for the enums the subcommands take.
pub mod arg {
    use super::parse_enum;
    use crate::pb;

    pub fn claim_state(s: &str) -> Result<pb::ClaimState, String> {
        parse_enum(s, "CLAIM_STATE_", pb::ClaimState::from_str_name, |v| {
            v.as_str_name()
        })
    }

    pub fn decision_outcome(s: &str) -> Result<pb::DecisionOutcome, String> {
        parse_enum(
            s,
            "DECISION_OUTCOME_",
            pb::DecisionOutcome::from_str_name,
            |v| v.as_str_name(),
        )
    }

    pub fn legal_action_outcome(s: &str) -> Result<pb::LegalActionOutcome, String> {
        parse_enum(
            s,
            "LEGAL_ACTION_OUTCOME_",
            pb::LegalActionOutcome::from_str_name,
            |v| v.as_str_name(),
        )
    }

    pub fn content_origin(s: &str) -> Result<pb::ContentOrigin, String> {
        parse_enum(
            s,
            "CONTENT_ORIGIN_",
            pb::ContentOrigin::from_str_name,
            |v| v.as_str_name(),
        )
    }

    pub fn party(s: &str) -> Result<pb::Party, String> {
        parse_enum(s, "PARTY_", pb::Party::from_str_name, |v| v.as_str_name())
    }

    pub fn regime(s: &str) -> Result<pb::Regime, String> {
        parse_enum(s, "REGIME_", pb::Regime::from_str_name, |v| v.as_str_name())
    }

    pub fn decision_ground(s: &str) -> Result<pb::DecisionGround, String> {
        parse_enum(
            s,
            "DECISION_GROUND_",
            pb::DecisionGround::from_str_name,
            |v| v.as_str_name(),
        )
    }

    pub fn statement_category(s: &str) -> Result<pb::StatementCategory, String> {
        parse_enum(
            s,
            "STATEMENT_CATEGORY_",
            pb::StatementCategory::from_str_name,
            |v| v.as_str_name(),
        )
    }

    pub fn keyword(s: &str) -> Result<pb::Keyword, String> {
        parse_enum(s, "KEYWORD_", pb::Keyword::from_str_name, |v| {
            v.as_str_name()
        })
    }

    pub fn content_type(s: &str) -> Result<pb::ContentType, String> {
        parse_enum(s, "CONTENT_TYPE_", pb::ContentType::from_str_name, |v| {
            v.as_str_name()
        })
    }

    pub fn automated_decision(s: &str) -> Result<pb::AutomatedDecision, String> {
        parse_enum(
            s,
            "AUTOMATED_DECISION_",
            pb::AutomatedDecision::from_str_name,
            |v| v.as_str_name(),
        )
    }

    pub fn role(s: &str) -> Result<pb::Role, String> {
        parse_enum(s, "ROLE_", pb::Role::from_str_name, |v| v.as_str_name())
    }

    /// An RFC 3339 time such as 2024-01-15T08:00:00Z.
    pub fn timestamp(s: &str) -> Result<prost_types::Timestamp, String> {
        s.parse()
            .map_err(|e| format!("{s:?} is not an RFC 3339 time such as 2024-01-15T08:00:00Z: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_server_sent_cannot_drive_the_terminal() {
        assert_eq!(escape("Legal Daily desk"), "Legal Daily desk");
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("admin\u{202e}kcab"), "admin\\u{202e}kcab");
        assert_eq!(escape("x\r\ny\0"), "x\\u{d}\\u{a}y\\u{0}");
        let mut t = Table::new(&["NAME"]);
        t.row(vec!["evil\u{7}".to_string()]);
        assert_eq!(t.render(false), "evil\\u{7}");
    }
}
