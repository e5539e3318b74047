//! A checker of Lumen documents: the rules of Lumen's `POST /notices` as its source
//! states them (berkmancenter/lumendatabase: `NoticesController#notice_params`,
//! `Notice`, `EntityNoticeRole`, `Entity`, `Work`, `Url`), so that a test fails when an
//! export drifts from the format.
//!
//! - the body is `{"notice": {...}}` with only the parameters Lumen permits;
//! - `type` is one of Lumen's types; `Other` carries a `jurisdiction_list`;
//! - `title` is present; `action_taken` is Yes, No, Partial or Unspecified;
//! - `date_sent` and `date_received`, when given, are YYYY-MM-DD after 1998-10-28;
//! - `works_attributes` is not empty; each work has a description and URL lists of
//!   `{url}` objects with a URL of at most 8 KiB;
//! - `entity_notice_roles_attributes` is not empty; each role name is one of Lumen's
//!   roles and its entity has a name (at most 255 characters) and a kind
//!   (organization or individual).
//!
//! Stricter than Lumen in one way: the parties' contact fields (address lines, city,
//! state, zip, phone, email) are refused, as our exports promise never to send them.

use serde_json::Value;

const TYPES: &[&str] = &[
    "DMCA",
    "Counterfeit",
    "Counternotice",
    "CourtOrder",
    "DataProtection",
    "Defamation",
    "GovernmentRequest",
    "LawEnforcementRequest",
    "LocalLaw",
    "PrivateInformation",
    "Trademark",
    "Other",
    "Placeholder",
];
const ACTIONS: &[&str] = &["Yes", "No", "Partial", "Unspecified"];
const ROLES: &[&str] = &[
    "principal",
    "agent",
    "attorney",
    "recipient",
    "sender",
    "submitter",
    "target",
    "issuing_court",
    "plaintiff",
    "defendant",
];
const KINDS: &[&str] = &["organization", "individual"];
/// `notice_params`: what Lumen permits in `notice`, besides `type`.
const NOTICE_FIELDS: &[&str] = &[
    "type",
    "title",
    "subject",
    "body",
    "date_sent",
    "date_received",
    "source",
    "tag_list",
    "jurisdiction_list",
    "regulation_list",
    "language",
    "action_taken",
    "request_type",
    "mark_registration_number",
    "url_count",
    "webform",
    "counternotice_for_id",
    "counternotice_for_sid",
    "case_id_number",
    "topic_ids",
    "file_uploads_attributes",
    "entity_notice_roles_attributes",
    "works_attributes",
];
/// `entity_params` without the contact fields we never send.
const ENTITY_FIELDS: &[&str] = &[
    "name",
    "kind",
    "country_code",
    "url",
    "full_notice_only_researchers",
];
const WORK_FIELDS: &[&str] = &[
    "description",
    "kind",
    "infringing_urls_attributes",
    "copyrighted_urls_attributes",
];

/// What is wrong with one document (empty: Lumen takes it).
pub fn violations(doc: &Value) -> Vec<String> {
    let mut v = Vec::new();
    let Some(n) = doc.get("notice").and_then(Value::as_object) else {
        return vec!["the body must be {\"notice\": {...}}".to_string()];
    };
    if doc.as_object().is_some_and(|o| o.len() != 1) {
        v.push("the body holds only \"notice\"".to_string());
    }
    for k in n.keys() {
        if !NOTICE_FIELDS.contains(&k.as_str()) {
            v.push(format!("notice.{k} is not a parameter Lumen permits"));
        }
    }
    let text = |k: &str| n.get(k).and_then(Value::as_str);
    match text("type") {
        Some(t) if TYPES.contains(&t) => {
            if t == "Other" && text("jurisdiction_list").is_none_or(str::is_empty) {
                v.push("notice.jurisdiction_list: an Other notice names its jurisdiction".into());
            }
        }
        other => v.push(format!("notice.type {other:?} is not a Lumen type")),
    }
    if text("title").is_none_or(|t| t.trim().is_empty()) {
        v.push("notice.title is required".to_string());
    }
    match n.get("action_taken") {
        None | Some(Value::Null) => {}
        Some(Value::String(a)) if ACTIONS.contains(&a.as_str()) || a.is_empty() => {}
        Some(a) => v.push(format!("notice.action_taken {a} is not one of {ACTIONS:?}")),
    }
    for k in ["date_sent", "date_received"] {
        match n.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::String(d)) if is_date(d) && d.as_str() > "1998-10-28" => {}
            Some(d) => v.push(format!("notice.{k} {d} is not a date after 1998-10-28")),
        }
    }
    match n.get("jurisdiction_list") {
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        Some(j) => v.push(format!("notice.jurisdiction_list {j} must be a string")),
    }
    match n.get("works_attributes").and_then(Value::as_array) {
        Some(works) if !works.is_empty() => {
            for (i, w) in works.iter().enumerate() {
                work(&mut v, &format!("works_attributes[{i}]"), w);
            }
        }
        _ => v.push("notice.works_attributes: at least one work is required".to_string()),
    }
    match n
        .get("entity_notice_roles_attributes")
        .and_then(Value::as_array)
    {
        Some(roles) if !roles.is_empty() => {
            for (i, r) in roles.iter().enumerate() {
                role(&mut v, &format!("entity_notice_roles_attributes[{i}]"), r);
            }
        }
        _ => v.push("notice.entity_notice_roles_attributes: at least one is required".to_string()),
    }
    v
}

fn work(v: &mut Vec<String>, at: &str, w: &Value) {
    let Some(w) = w.as_object() else {
        v.push(format!("{at} must be an object"));
        return;
    };
    for k in w.keys() {
        if !WORK_FIELDS.contains(&k.as_str()) {
            v.push(format!("{at}.{k} is not a parameter Lumen permits"));
        }
    }
    if !w.get("description").is_some_and(Value::is_string) {
        v.push(format!("{at}.description is required"));
    }
    for k in ["infringing_urls_attributes", "copyrighted_urls_attributes"] {
        let Some(urls) = w.get(k) else { continue };
        let Some(urls) = urls.as_array() else {
            v.push(format!("{at}.{k} must be an array"));
            continue;
        };
        for (i, u) in urls.iter().enumerate() {
            let keys_ok = u.as_object().is_some_and(|o| o.len() == 1);
            match u.get("url").and_then(Value::as_str) {
                Some(url) if keys_ok && !url.is_empty() && url.len() <= 8 * 1024 => {}
                _ => v.push(format!(
                    "{at}.{k}[{i}] must be {{\"url\": <a URL of at most 8 KiB>}}"
                )),
            }
        }
    }
}

fn role(v: &mut Vec<String>, at: &str, r: &Value) {
    match r.get("name").and_then(Value::as_str) {
        Some(name) if ROLES.contains(&name) => {}
        name => v.push(format!("{at}.name {name:?} is not a Lumen role")),
    }
    if let Some(o) = r.as_object() {
        for k in o.keys() {
            if !["name", "entity_id", "entity_attributes"].contains(&k.as_str()) {
                v.push(format!("{at}.{k} is not a parameter Lumen permits"));
            }
        }
    }
    let Some(e) = r.get("entity_attributes").and_then(Value::as_object) else {
        v.push(format!("{at}.entity_attributes is required"));
        return;
    };
    for k in e.keys() {
        if !ENTITY_FIELDS.contains(&k.as_str()) {
            v.push(format!(
                "{at}.entity_attributes.{k} is not sent: no addresses, phones or e-mails"
            ));
        }
    }
    match e.get("name").and_then(Value::as_str) {
        Some(n) if !n.trim().is_empty() && n.chars().count() <= 255 => {}
        _ => v.push(format!("{at}.entity_attributes.name: 1-255 characters")),
    }
    match e.get("kind").and_then(Value::as_str) {
        Some(k) if KINDS.contains(&k) => {}
        k => v.push(format!(
            "{at}.entity_attributes.kind {k:?} is not one of {KINDS:?}"
        )),
    }
    match e.get("country_code") {
        None | Some(Value::Null) => {}
        Some(Value::String(c)) if c.len() == 2 => {}
        Some(c) => v.push(format!(
            "{at}.entity_attributes.country_code {c} is not a country code"
        )),
    }
}

fn is_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&d[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&d[8..10].parse::<u32>().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({"notice": {
            "type": "DMCA",
            "title": "DMCA notice to news.example.org",
            "date_sent": "2024-01-15",
            "date_received": "2024-01-15",
            "action_taken": "Yes",
            "works_attributes": [{
                "description": "Report",
                "copyrighted_urls_attributes": [{"url": "http://a.example/1"}],
                "infringing_urls_attributes": [{"url": "https://b.example/2"}],
            }],
            "entity_notice_roles_attributes": [
                {"name": "sender", "entity_attributes": {"name": "Legal Daily", "kind": "organization"}},
                {"name": "recipient", "entity_attributes": {"name": "news.example.org", "kind": "organization"}},
            ],
        }})
    }

    #[test]
    fn a_valid_document_passes_and_drift_fails() {
        assert_eq!(violations(&valid()), Vec::<String>::new());
        let mut d = valid();
        d["notice"]["type"] = json!("Copyright");
        assert_eq!(violations(&d).len(), 1);
        let mut d = valid();
        d["notice"]["type"] = json!("Other");
        assert_eq!(violations(&d).len(), 1, "Other without a jurisdiction");
        let mut d = valid();
        d["notice"]["action_taken"] = json!("Removed");
        assert_eq!(violations(&d).len(), 1);
        let mut d = valid();
        d["notice"]["works"] = d["notice"]["works_attributes"].take();
        d["notice"]
            .as_object_mut()
            .unwrap()
            .remove("works_attributes");
        assert_eq!(violations(&d).len(), 2, "{:?}", violations(&d));
        let mut d = valid();
        d["notice"]["entity_notice_roles_attributes"][0]["entity_attributes"]["email"] =
            json!("rights@legaldaily.example.cn");
        assert_eq!(violations(&d).len(), 1);
        let mut d = valid();
        d["notice"]["entity_notice_roles_attributes"][0]["name"] = json!("claimant");
        assert_eq!(violations(&d).len(), 1);
        let mut d = valid();
        d["notice"]["date_sent"] = json!("15.01.2024");
        assert_eq!(violations(&d).len(), 1);
    }
}
