//! The words of a notification: one `minijinja` template per kind and language
//! (`templates/<kind>.<language>.txt`, built in with `include_str!`, each file
//! overridable from `--templates-dir`), rendered against the notification's facts.
//!
//! A template's output is `Subject: ...`, a blank line, then the plain-text body. The
//! context is the notification's `facts` as protobuf JSON with proto field names
//! (`claim_id`, `statement_of_reasons.legal_ground`), enums by name
//! (`"DECISION_OUTCOME_DELETE"`) and times as RFC 3339 UTC strings; a field the facts
//! leave unset is there with its default (an unset message, such as a time, is
//! `none`), so `{% if deadline %}` tests it. Beside the facts:
//! `notification_id`, `kind`, `recipient` (enum names) and `language`.
//!
//! Undefined names are errors (minijinja's strict mode), and every template is
//! rendered at load against a full and an empty sample: a misspelt field, or an
//! override that names one the facts do not carry (a notifier's postal address), stops
//! the server at start with the file's name instead of sending a broken message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior, Value};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor, SerializeOptions};

use crate::domain::validation;
use crate::pb::{self, NotificationKind, NotificationRecipient};

/// The languages with built-in templates; any other renders in the first.
pub const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

/// Every kind a notification can have, in proto order.
pub const KINDS: [NotificationKind; 12] = [
    NotificationKind::Receipt,
    NotificationKind::NoticeForwarded,
    NotificationKind::InformationRequested,
    NotificationKind::Decision,
    NotificationKind::CorrectionDue,
    NotificationKind::CounterNoticeForwarded,
    NotificationKind::Restored,
    NotificationKind::LegalActionResolved,
    NotificationKind::ComplaintDecided,
    NotificationKind::Closed,
    NotificationKind::Corrected,
    NotificationKind::CorrectionMissed,
];

/// The built-in template files, by name: one per kind and language, and each
/// language's shared macros (`_macros.<language>.txt`).
macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

const BUILTIN: [(&str, &str); 26] = builtin!(
    "_macros.en.txt",
    "_macros.zh-CN.txt",
    "receipt.en.txt",
    "receipt.zh-CN.txt",
    "notice_forwarded.en.txt",
    "notice_forwarded.zh-CN.txt",
    "information_requested.en.txt",
    "information_requested.zh-CN.txt",
    "decision.en.txt",
    "decision.zh-CN.txt",
    "correction_due.en.txt",
    "correction_due.zh-CN.txt",
    "counter_notice_forwarded.en.txt",
    "counter_notice_forwarded.zh-CN.txt",
    "restored.en.txt",
    "restored.zh-CN.txt",
    "legal_action_resolved.en.txt",
    "legal_action_resolved.zh-CN.txt",
    "complaint_decided.en.txt",
    "complaint_decided.zh-CN.txt",
    "closed.en.txt",
    "closed.zh-CN.txt",
    "corrected.en.txt",
    "corrected.zh-CN.txt",
    "correction_missed.en.txt",
    "correction_missed.zh-CN.txt",
);

/// A rendered message, plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line.
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the templates folder {}: {source}", path.display())]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read template {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}: not a template name; a file in the templates folder must be named \
         <kind>.<language>.txt (for example decision.zh-CN.txt) or _macros.<language>.txt, \
         with a kind and language takedown has a built-in template for",
        path.display()
    )]
    UnknownFile { path: PathBuf },
    #[error("template {name}: {message}")]
    Broken { name: String, message: String },
    #[error(
        "template {name}: its output must start with a line `Subject: ...` and then a blank line"
    )]
    NoSubject { name: String },
    #[error("notification {id} has no kind a template exists for")]
    NoKind { id: String },
    #[error("transcoding the facts of notification {id}: {message}")]
    Facts { id: String, message: String },
}

/// The loaded templates, checked.
pub struct Templates {
    env: Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    /// The built-in English and Simplified Chinese templates.
    pub fn builtin() -> Templates {
        Templates {
            env: environment(BUILTIN.iter().map(|(n, s)| (n.to_string(), s.to_string())))
                .unwrap_or_else(|e| panic!("the built-in templates are broken: {e}")),
        }
    }

    /// The built-in templates with each file of `dir` in place of the built-in of the
    /// same name, every kind and language checked by rendering it against samples.
    pub fn with_dir(dir: &Path) -> Result<Templates, TemplateError> {
        let mut files: BTreeMap<String, String> = BUILTIN
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        let entries = std::fs::read_dir(dir).map_err(|source| TemplateError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| TemplateError::ReadDir {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            // Editors and version control leave dotfiles next to the templates.
            if name.starts_with('.') {
                continue;
            }
            if !files.contains_key(&name) {
                return Err(TemplateError::UnknownFile { path });
            }
            let source =
                std::fs::read_to_string(&path).map_err(|source| TemplateError::ReadFile {
                    path: path.clone(),
                    source,
                })?;
            files.insert(name, source);
        }
        Ok(Templates {
            env: environment(files)?,
        })
    }

    /// The subject and body of `n`, in its language (English if it has no templates).
    pub fn render(&self, n: &pb::Notification) -> Result<Rendered, TemplateError> {
        let kind = n.kind();
        if !KINDS.contains(&kind) {
            return Err(TemplateError::NoKind { id: n.id.clone() });
        }
        let name = template_name(kind, language(&n.language));
        let context = context(n).map_err(|message| TemplateError::Facts {
            id: n.id.clone(),
            message,
        })?;
        render_named(&self.env, &name, context)
    }
}

/// The language `requested` renders in: one of [`LANGUAGES`], matched without regard
/// to case, else English. An e-mail's Content-Language says this one.
pub fn language(requested: &str) -> &'static str {
    validation::language(requested)
        .and_then(|l| LANGUAGES.into_iter().find(|t| *t == l))
        .unwrap_or(LANGUAGES[0])
}

/// `decision` for NOTIFICATION_KIND_DECISION: the enum name, lower case, without its
/// prefix (also the webhook event type's suffix).
pub fn kind_slug(kind: NotificationKind) -> String {
    kind.as_str_name()
        .trim_start_matches("NOTIFICATION_KIND_")
        .to_ascii_lowercase()
}

fn template_name(kind: NotificationKind, language: &str) -> String {
    format!("{}.{language}.txt", kind_slug(kind))
}

fn environment(
    files: impl IntoIterator<Item = (String, String)>,
) -> Result<Environment<'static>, TemplateError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Plain text: a block tag on a line of its own leaves no blank line behind.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    for (name, source) in files {
        env.add_template_owned(name.clone(), source)
            .map_err(|e| broken(&name, &e))?;
    }
    check(&env)?;
    Ok(env)
}

/// Renders every kind, language and recipient against a full and an empty sample, so
/// that a template that names a field the facts do not have fails now.
fn check(env: &Environment<'static>) -> Result<(), TemplateError> {
    let recipients = [
        NotificationRecipient::Notifier,
        NotificationRecipient::Contributor,
        NotificationRecipient::Publisher,
    ];
    for kind in KINDS {
        for language in LANGUAGES {
            for recipient in recipients {
                for facts in [sample_facts(), pb::NotificationFacts::default()] {
                    let n = sample_notification(kind, recipient, language, facts);
                    let context = context(&n).map_err(|message| TemplateError::Facts {
                        id: n.id.clone(),
                        message,
                    })?;
                    render_named(env, &template_name(kind, language), context)?;
                }
            }
        }
    }
    Ok(())
}

fn render_named(
    env: &Environment<'static>,
    name: &str,
    context: Value,
) -> Result<Rendered, TemplateError> {
    let template = env.get_template(name).map_err(|e| broken(name, &e))?;
    let text = template.render(context).map_err(|e| broken(name, &e))?;
    split(name, &text)
}

/// minijinja's message with its cause chain, which names the line and the undefined
/// value.
fn broken(name: &str, error: &minijinja::Error) -> TemplateError {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    TemplateError::Broken {
        name: name.to_string(),
        message,
    }
}

fn split(name: &str, text: &str) -> Result<Rendered, TemplateError> {
    let no_subject = || TemplateError::NoSubject {
        name: name.to_string(),
    };
    let text = text.trim_start_matches(['\n', '\r']);
    let (first, rest) = text.split_once('\n').ok_or_else(no_subject)?;
    let subject = first.strip_prefix("Subject:").ok_or_else(no_subject)?;
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'));
    let rest = rest.ok_or_else(no_subject)?;
    Ok(Rendered {
        // A title with a line break must not break the header.
        subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
        body: tidy(rest),
    })
}

/// Trailing spaces off every line, at most one blank line in a row, one final newline.
fn tidy(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut blank = true;
    for line in body.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
        } else {
            out.push_str(line);
            out.push('\n');
            blank = false;
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

static POOL: LazyLock<Result<DescriptorPool, String>> =
    LazyLock::new(|| DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string()));

/// `message` (named `name` in the descriptors) as protobuf JSON.
pub(crate) fn proto_json<M: Message>(
    message: &M,
    name: &str,
    options: &SerializeOptions,
) -> Result<(serde_json::Value, MessageDescriptor), String> {
    let pool = POOL.as_ref().map_err(Clone::clone)?;
    let descriptor = pool
        .get_message_by_name(name)
        .ok_or_else(|| format!("no descriptor for {name}"))?;
    let dynamic = DynamicMessage::decode(descriptor.clone(), message.encode_to_vec().as_slice())
        .map_err(|e| format!("transcoding {name}: {e}"))?;
    let value = dynamic
        .serialize_with_options(serde_json::value::Serializer, options)
        .map_err(|e| format!("transcoding {name}: {e}"))?;
    Ok((value, descriptor))
}

/// The template context of `n`: its facts, every field present (an unset message is `none`),
/// and the notification's own names.
fn context(n: &pb::Notification) -> Result<Value, String> {
    let facts = n.facts.clone().unwrap_or_default();
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(true);
    let (mut json, descriptor) = proto_json(&facts, "takedown.v1.NotificationFacts", &options)?;
    fill_unset(&mut json, &descriptor);
    let serde_json::Value::Object(ref mut map) = json else {
        return Err("the facts did not transcode to an object".to_string());
    };
    map.insert("notification_id".into(), n.id.clone().into());
    map.insert("kind".into(), n.kind().as_str_name().into());
    map.insert("recipient".into(), n.recipient().as_str_name().into());
    map.insert("language".into(), language(&n.language).into());
    Ok(Value::from_serialize(&json))
}

/// Puts back each field of `descriptor` that `value` leaves out (proto JSON skips
/// default values), in nested messages too: an unset message (a time, the statement of
/// reasons) as `none`, a list as empty, text as empty, an enum by its UNSPECIFIED
/// name, so that `{% if deadline %}` tests a field and printing an unset one prints
/// nothing. A name that is no field stays undefined, which strict mode refuses.
fn fill_unset(value: &mut serde_json::Value, descriptor: &MessageDescriptor) {
    let serde_json::Value::Object(map) = value else {
        return;
    };
    for field in descriptor.fields() {
        let entry = map
            .entry(field.name().to_string())
            .or_insert_with(|| default_json(&field));
        if let Kind::Message(nested) = field.kind() {
            match entry {
                serde_json::Value::Array(items) => {
                    items.iter_mut().for_each(|item| fill_unset(item, &nested))
                }
                other => fill_unset(other, &nested),
            }
        }
    }
}

fn default_json(field: &prost_reflect::FieldDescriptor) -> serde_json::Value {
    use serde_json::Value as J;
    if field.is_list() {
        return J::Array(Vec::new());
    }
    if field.is_map() {
        return J::Object(Default::default());
    }
    match field.kind() {
        Kind::Message(_) => J::Null,
        Kind::String | Kind::Bytes => J::String(String::new()),
        Kind::Bool => J::Bool(false),
        Kind::Enum(e) => J::String(e.default_value().name().to_string()),
        Kind::Double | Kind::Float => J::from(0.0),
        _ => J::from(0),
    }
}

mod sample;
pub use sample::sample_facts;
use sample::sample_notification;

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
