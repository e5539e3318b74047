//! The statement of reasons (DSA Art. 17) in the DSA Transparency Database's shape:
//! its checks (`check`), the defaults a copyright desk's statement takes
//! (`normalized`), reason templates from the policy file (`ReasonTemplate`), and the
//! statement the system gives a deletion when a correction window passes
//! (`system_statement`). See `docs/compliance.md`.

use std::time::SystemTime;

use super::FieldViolation;
use super::validation::{Violations, limits, line, required, text};
use crate::pb::{
    self, AutomatedDecision, ContentType, DecisionGround, ItemKind, Keyword, StatementCategory,
};

/// The database's limits on the statement's texts.
pub const FACTS_MAX: usize = 5_000;
pub const GROUND_MAX: usize = 500;
pub const EXPLANATION_MAX: usize = 2_000;
/// Most countries a territorial scope may name (there are fewer than 250).
const SCOPE_MAX: usize = 250;

/// The EU and EEA countries, as the database accepts them in `territorial_scope`.
pub const EU_EEA: [&str; 30] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// A reusable statement for one legal ground, from the policy file's
/// `[[reason_templates]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonTemplate {
    pub id: String,
    pub title: String,
    /// Empty: every regime.
    pub regimes: Vec<pb::Regime>,
    pub statement: pb::StatementOfReasons,
}

impl ReasonTemplate {
    pub fn fits(&self, regime: pb::Regime) -> bool {
        self.regimes.is_empty() || self.regimes.contains(&regime)
    }

    pub fn to_proto(&self) -> pb::ReasonTemplate {
        pb::ReasonTemplate {
            id: self.id.clone(),
            title: self.title.clone(),
            regimes: self.regimes.iter().map(|r| *r as i32).collect(),
            statement_of_reasons: Some(self.statement.clone()),
        }
    }
}

/// `given` with every field it leaves empty taken from `template`.
pub fn fill_from(
    given: &pb::StatementOfReasons,
    template: &ReasonTemplate,
) -> pb::StatementOfReasons {
    let t = &template.statement;
    let mut r = given.clone();
    let fill = |mine: &mut String, theirs: &String| {
        if mine.trim().is_empty() {
            mine.clone_from(theirs);
        }
    };
    fill(&mut r.facts, &t.facts);
    fill(&mut r.legal_ground, &t.legal_ground);
    fill(&mut r.explanation, &t.explanation);
    fill(&mut r.redress, &t.redress);
    fill(
        &mut r.incompatible_content_ground,
        &t.incompatible_content_ground,
    );
    if r.decision_ground == 0 {
        r.decision_ground = t.decision_ground;
        r.incompatible_content_illegal |= t.incompatible_content_illegal;
    }
    if r.category == 0 {
        r.category = t.category;
    }
    if r.category_keywords.is_empty() {
        r.category_keywords.clone_from(&t.category_keywords);
    }
    if r.content_types.is_empty() {
        r.content_types.clone_from(&t.content_types);
    }
    if r.territorial_scope.is_empty() {
        r.territorial_scope.clone_from(&t.territorial_scope);
    }
    if r.automated_decision == 0 {
        r.automated_decision = t.automated_decision;
    }
    r.template_id.clone_from(&template.id);
    r
}

/// The checks of a statement of reasons, field by field, each under `at` (such as
/// "statement_of_reasons"). `complaint`: it decides a complaint, which may not be
/// fully automated (DSA Art. 20(6)).
pub fn check(r: &pb::StatementOfReasons, at: &str, complaint: bool, now: SystemTime) -> Violations {
    let mut v = Vec::new();
    let f = |name: &str| format!("{at}.{name}");
    required(
        &mut v,
        &f("facts"),
        &r.facts,
        "the facts and circumstances relied on",
    );
    text(&mut v, &f("facts"), &r.facts, FACTS_MAX);
    let ground = DecisionGround::try_from(r.decision_ground);
    match ground {
        Ok(DecisionGround::Unspecified | DecisionGround::IllegalContent) => {
            required(&mut v, &f("legal_ground"), &r.legal_ground, "the legal ground (the statute or article relied on)");
            if !r.incompatible_content_ground.is_empty() {
                v.push(FieldViolation::new(
                    f("incompatible_content_ground"),
                    "only a DECISION_GROUND_INCOMPATIBLE_CONTENT decision names a terms-and-conditions clause; leave it empty, or set decision_ground",
                ));
            }
        }
        Ok(DecisionGround::IncompatibleContent) => {
            required(
                &mut v,
                &f("incompatible_content_ground"),
                &r.incompatible_content_ground,
                "the terms-and-conditions clause relied on",
            );
        }
        Err(_) => v.push(FieldViolation::new(
            f("decision_ground"),
            "not a ground; use DECISION_GROUND_ILLEGAL_CONTENT or DECISION_GROUND_INCOMPATIBLE_CONTENT",
        )),
    }
    required(
        &mut v,
        &f("explanation"),
        &r.explanation,
        "an explanation of why the facts meet the ground",
    );
    text(&mut v, &f("explanation"), &r.explanation, EXPLANATION_MAX);
    text(&mut v, &f("redress"), &r.redress, limits::TEXT);
    line(&mut v, &f("legal_ground"), &r.legal_ground, GROUND_MAX);
    line(
        &mut v,
        &f("incompatible_content_ground"),
        &r.incompatible_content_ground,
        GROUND_MAX,
    );
    if StatementCategory::try_from(r.category).is_err() {
        v.push(FieldViolation::new(
            f("category"),
            "not a statement category; use one of the STATEMENT_CATEGORY_* values",
        ));
    }
    enums::<Keyword>(
        &mut v,
        &f("category_keywords"),
        &r.category_keywords,
        "KEYWORD_*",
    );
    enums::<ContentType>(
        &mut v,
        &f("content_types"),
        &r.content_types,
        "CONTENT_TYPE_*",
    );
    if r.territorial_scope.len() > SCOPE_MAX {
        v.push(FieldViolation::new(
            f("territorial_scope"),
            format!(
                "at most {SCOPE_MAX} countries, got {}",
                r.territorial_scope.len()
            ),
        ));
    } else {
        for (i, code) in r.territorial_scope.iter().enumerate() {
            if !is_country(code) {
                v.push(FieldViolation::new(
                    format!("{at}.territorial_scope[{i}]"),
                    format!("{code:?} is not an ISO 3166-1 alpha-2 country code, such as DE or FR"),
                ));
            }
        }
    }
    if let Some(end) = r.restriction_end_time {
        match SystemTime::try_from(end) {
            Ok(end) if end > now => {}
            _ => v.push(FieldViolation::new(
                f("restriction_end_time"),
                "must be a time after the decision, or unset for an indefinite restriction",
            )),
        }
    }
    let automated = AutomatedDecision::try_from(r.automated_decision);
    if automated.is_err() {
        v.push(FieldViolation::new(
            f("automated_decision"),
            "not a value; use AUTOMATED_DECISION_FULLY, _PARTIALLY or _NOT_AUTOMATED",
        ));
    }
    if complaint && automated_decision(r) == AutomatedDecision::Fully {
        v.push(FieldViolation::new(
            f("automated_decision"),
            "a complaint may not be decided solely by automated means (DSA Art. 20(6)); a person must take this decision: use AUTOMATED_DECISION_PARTIALLY or _NOT_AUTOMATED",
        ));
    }
    v
}

/// One violation per value of `values` that is not a known `E`, or that repeats.
fn enums<E: TryFrom<i32>>(v: &mut Violations, at: &str, values: &[i32], names: &str) {
    for (i, value) in values.iter().enumerate() {
        let known = E::try_from(*value).is_ok() && *value != 0;
        if !known {
            v.push(FieldViolation::new(
                format!("{at}[{i}]"),
                format!("not a value; use one of {names}"),
            ));
        } else if values[..i].contains(value) {
            v.push(FieldViolation::new(
                format!("{at}[{i}]"),
                "named twice; name each once",
            ));
        }
    }
}

/// Whether `code` is an ISO 3166-1 alpha-2 code as written (upper case).
pub fn is_country(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && isocountry::CountryCode::for_alpha2(code).is_ok()
}

/// How automated the decision was, reading the deprecated flag for statements that
/// only set it.
pub fn automated_decision(r: &pb::StatementOfReasons) -> AutomatedDecision {
    match AutomatedDecision::try_from(r.automated_decision) {
        Ok(AutomatedDecision::Unspecified) | Err(_) => {
            #[allow(deprecated)]
            let flagged = r.automated;
            if flagged {
                AutomatedDecision::Fully
            } else {
                AutomatedDecision::NotAutomated
            }
        }
        Ok(a) => a,
    }
}

/// The statement with its defaults filled in for `claim`: an illegal-content ground,
/// the intellectual-property category with copyright as its keyword, the content
/// types of the claim's items, the automated flag read into `automated_decision`, and
/// the territorial scope upper-cased and without repeats. A statement already in this
/// form comes back unchanged.
pub fn normalized(r: &pb::StatementOfReasons, claim: &pb::Claim) -> pb::StatementOfReasons {
    let mut n = r.clone();
    if n.decision_ground == DecisionGround::Unspecified as i32 {
        n.decision_ground = DecisionGround::IllegalContent as i32;
    }
    if n.category == StatementCategory::Unspecified as i32 {
        n.category = StatementCategory::IntellectualPropertyInfringements as i32;
    }
    if n.category_keywords.is_empty()
        && n.category == StatementCategory::IntellectualPropertyInfringements as i32
    {
        n.category_keywords = vec![Keyword::CopyrightInfringement as i32];
    }
    if n.content_types.is_empty() {
        n.content_types = content_types(claim).into_iter().map(|t| t as i32).collect();
    }
    n.automated_decision = automated_decision(r) as i32;
    #[allow(deprecated)]
    {
        n.automated = n.automated_decision == AutomatedDecision::Fully as i32;
    }
    let mut scope: Vec<String> = Vec::new();
    for code in &r.territorial_scope {
        let code = code.trim().to_ascii_uppercase();
        if !scope.contains(&code) {
            scope.push(code);
        }
    }
    n.territorial_scope = scope;
    n
}

/// The content types a claim's items name: text for passages and whole articles,
/// image for pictures; text if it names none.
pub fn content_types(claim: &pb::Claim) -> Vec<ContentType> {
    let mut types = Vec::new();
    for item in &claim.items {
        let t = match item.kind() {
            ItemKind::Image => ContentType::Image,
            _ => ContentType::Text,
        };
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.is_empty() {
        types.push(ContentType::Text);
    }
    types
}

/// The statement the system gives a deletion when the correction window of `claim`'s
/// CORRECT decision passed at `now` without a correction: the decision's grounds,
/// with facts and explanation that say what happened. No restriction is left without
/// a statement of reasons.
pub fn system_statement(claim: &pb::Claim, now: SystemTime) -> pb::StatementOfReasons {
    let decision = claim.decision.clone().unwrap_or_default();
    let ordered = decision.statement_of_reasons.clone().unwrap_or_default();
    let base = normalized(&ordered, claim);
    let decided = decision
        .decide_time
        .and_then(|t| SystemTime::try_from(t).ok())
        .map(date)
        .unwrap_or_default();
    let passed = date(now);
    pb::StatementOfReasons {
        facts: truncate(
            format!(
                "A decision of {decided} ordered a correction of the claimed material in article {} within the correction window; no correction was recorded when the window closed on {passed}. The facts of that decision: {}",
                claim.article_id, ordered.facts
            ),
            FACTS_MAX,
        ),
        explanation: truncate(
            format!(
                "The decision provided that the article is withdrawn if it is not corrected in time. Its explanation: {}",
                ordered.explanation
            ),
            EXPLANATION_MAX,
        ),
        redress: String::new(),
        automated_decision: AutomatedDecision::Partially as i32,
        automated_detection: false,
        restriction_end_time: None,
        template_id: String::new(),
        ..base
    }
}

/// The UTC date of `t`, YYYY-MM-DD.
pub fn date(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()[..10].to_string()
}

/// `s` cut to at most `max` characters.
fn truncate(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    s.chars().take(max.saturating_sub(1)).chain(['…']).collect()
}

/// A `[[reason_templates]]` entry of the policy file. Enums are written by their
/// proto names (`STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS`,
/// `KEYWORD_COPYRIGHT_INFRINGEMENT`, `REGIME_DMCA`, ...).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonTemplateFile {
    id: String,
    title: String,
    #[serde(default)]
    regimes: Vec<String>,
    decision_ground: Option<String>,
    #[serde(default)]
    legal_ground: String,
    #[serde(default)]
    incompatible_content_ground: String,
    #[serde(default)]
    incompatible_content_illegal: bool,
    #[serde(default)]
    explanation: String,
    #[serde(default)]
    redress: String,
    category: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    content_types: Vec<String>,
    #[serde(default)]
    territorial_scope: Vec<String>,
    automated_decision: Option<String>,
}

impl ReasonTemplateFile {
    /// The template, or what is wrong with the entry (named by its id).
    pub fn template(&self) -> Result<ReasonTemplate, String> {
        let id = &self.id;
        let valid_id = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid_id {
            return Err(format!(
                "reason_templates: id {id:?} must be 1-64 letters, digits, - or _"
            ));
        }
        let err = |field: &str, value: &str, what: &str| {
            format!("reason_templates {id:?}: {field} {value:?} is not {what}")
        };
        let regimes = self
            .regimes
            .iter()
            .map(|r| {
                pb::Regime::from_str_name(r)
                    .filter(|r| *r != pb::Regime::Unspecified)
                    .ok_or_else(|| {
                        err(
                            "regimes",
                            r,
                            "a regime (REGIME_DMCA, REGIME_DSA, REGIME_PRC_CIVIL_CODE)",
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let one =
            |field: &str, value: &Option<String>, parse: fn(&str) -> Option<i32>, what: &str| {
                value
                    .as_deref()
                    .map(|v| parse(v).ok_or_else(|| err(field, v, what)))
                    .transpose()
                    .map(Option::unwrap_or_default)
            };
        let many = |field: &str, values: &[String], parse: fn(&str) -> Option<i32>, what: &str| {
            values
                .iter()
                .map(|v| parse(v).ok_or_else(|| err(field, v, what)))
                .collect::<Result<Vec<_>, _>>()
        };
        let statement = pb::StatementOfReasons {
            legal_ground: self.legal_ground.clone(),
            incompatible_content_ground: self.incompatible_content_ground.clone(),
            incompatible_content_illegal: self.incompatible_content_illegal,
            explanation: self.explanation.clone(),
            redress: self.redress.clone(),
            decision_ground: one(
                "decision_ground",
                &self.decision_ground,
                |v| DecisionGround::from_str_name(v).map(|g| g as i32),
                "a DECISION_GROUND_* value",
            )?,
            category: one(
                "category",
                &self.category,
                |v| StatementCategory::from_str_name(v).map(|c| c as i32),
                "a STATEMENT_CATEGORY_* value",
            )?,
            category_keywords: many(
                "keywords",
                &self.keywords,
                |v| Keyword::from_str_name(v).map(|k| k as i32),
                "a KEYWORD_* value",
            )?,
            content_types: many(
                "content_types",
                &self.content_types,
                |v| ContentType::from_str_name(v).map(|c| c as i32),
                "a CONTENT_TYPE_* value",
            )?,
            territorial_scope: self.territorial_scope.clone(),
            automated_decision: one(
                "automated_decision",
                &self.automated_decision,
                |v| AutomatedDecision::from_str_name(v).map(|a| a as i32),
                "an AUTOMATED_DECISION_* value",
            )?,
            ..Default::default()
        };
        // The template must be a valid statement once a reviewer adds the facts.
        let probe = pb::StatementOfReasons {
            facts: "(the reviewer's facts)".to_string(),
            ..statement.clone()
        };
        let problems = check(&probe, "template", false, SystemTime::UNIX_EPOCH);
        if let Some(p) = problems.first() {
            return Err(format!(
                "reason_templates {id:?}: {}: {}",
                p.field, p.description
            ));
        }
        Ok(ReasonTemplate {
            id: id.clone(),
            title: self.title.clone(),
            regimes,
            statement,
        })
    }
}

/// The templates a policy has when its file names none: one copyright ground per
/// regime.
pub fn builtin_templates() -> Vec<ReasonTemplate> {
    let copyright = |id: &str, title: &str, regime: pb::Regime, ground: &str, explanation: &str| {
        ReasonTemplate {
            id: id.to_string(),
            title: title.to_string(),
            regimes: vec![regime],
            statement: pb::StatementOfReasons {
                legal_ground: ground.to_string(),
                explanation: explanation.to_string(),
                decision_ground: DecisionGround::IllegalContent as i32,
                category: StatementCategory::IntellectualPropertyInfringements as i32,
                category_keywords: vec![Keyword::CopyrightInfringement as i32],
                automated_decision: AutomatedDecision::NotAutomated as i32,
                ..Default::default()
            },
        }
    };
    vec![
        copyright(
            "dmca-copy-without-licence",
            "DMCA: the material copies the notifier's work without a licence",
            pb::Regime::Dmca,
            "17 U.S.C. 106 and 512(c)",
            "The identified material reproduces the work the notice names, and no licence or exception covering this use is on record.",
        ),
        copyright(
            "dsa-copyright-infringement",
            "DSA: copyright infringement under the law of the Member State",
            pb::Regime::Dsa,
            "Directive 2001/29/EC Arts. 2-3 as transposed; DSA Art. 16",
            "The identified material reproduces and makes available the work the notice names without the rightholder's authorisation, and no exception applies.",
        ),
        copyright(
            "prc-information-network-dissemination",
            "PRC: infringement of the right of information network dissemination",
            pb::Regime::PrcCivilCode,
            "Copyright Law of the PRC Art. 10(12); Civil Code Art. 1195",
            "The identified material disseminates the work the notice names over the information network without the right holder's permission.",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Policy;

    #[test]
    fn a_policy_file_replaces_the_built_in_templates() {
        let policy = Policy::from_toml(
            r#"
            [[reason_templates]]
            id = "tos-press-pictures"
            title = "Terms: third-party press pictures"
            regimes = ["REGIME_DSA"]
            decision_ground = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
            incompatible_content_ground = "Terms of use, clause 4.2"
            explanation = "Uploads of third-party press pictures break clause 4.2."
            category = "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
            keywords = ["KEYWORD_COPYRIGHT_INFRINGEMENT"]
            content_types = ["CONTENT_TYPE_IMAGE"]
            "#,
        )
        .expect("a valid file");
        assert_eq!(policy.reason_templates.len(), 1);
        let t = &policy.reason_templates[0];
        assert!(t.fits(pb::Regime::Dsa) && !t.fits(pb::Regime::Dmca));
        assert_eq!(
            t.statement.decision_ground(),
            DecisionGround::IncompatibleContent
        );
    }

    #[test]
    fn a_broken_template_is_refused_with_its_id_and_field() {
        for (body, want) in [
            (
                r#"id = "a b"
                title = "x""#,
                "id \"a b\"",
            ),
            (
                r#"id = "t1"
                title = "x"
                category = "STATEMENT_CATEGORY_NOPE""#,
                "category \"STATEMENT_CATEGORY_NOPE\"",
            ),
            (
                r#"id = "t2"
                title = "x"
                explanation = "e"
                decision_ground = "DECISION_GROUND_INCOMPATIBLE_CONTENT""#,
                "incompatible_content_ground",
            ),
        ] {
            let text = format!("[[reason_templates]]\n{body}\n");
            let err = Policy::from_toml(&text).expect_err("refused");
            assert!(err.contains(want), "{err} lacks {want}");
        }
    }

    #[test]
    fn only_iso_codes_in_upper_case_are_countries() {
        assert!(is_country("DE") && is_country("CN") && is_country("US"));
        assert!(!is_country("de") && !is_country("XX") && !is_country("DEU"));
    }
}
