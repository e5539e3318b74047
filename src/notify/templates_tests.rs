//! The built-in templates against the sample facts, and the load-time check of
//! overrides.

use super::*;
use crate::pb::NotificationRecipient as Recipient;

fn notification(kind: NotificationKind, recipient: Recipient, language: &str) -> pb::Notification {
    sample_notification(kind, recipient, language, sample_facts())
}

fn render(kind: NotificationKind, recipient: Recipient, language: &str) -> Rendered {
    Templates::builtin()
        .render(&notification(kind, recipient, language))
        .unwrap()
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn every_kind_renders_in_every_language_with_the_claim_and_the_article() {
    let templates = Templates::builtin();
    for kind in KINDS {
        for language in LANGUAGES {
            let r = templates
                .render(&notification(kind, Recipient::Notifier, language))
                .unwrap();
            let what = format!("{kind:?} in {language}");
            assert!(
                !r.subject.is_empty() && !r.subject.contains('\n'),
                "{what}: {r:?}"
            );
            assert!(
                r.body.contains("0190f5a1-0000-7000-8000-000000000000"),
                "{what}: {}",
                r.body
            );
            assert!(
                r.body.contains("National meeting of justice bureaus"),
                "{what}: {}",
                r.body
            );
            assert!(
                r.body
                    .contains("https://takedown.example.org/claims/0190f5a1"),
                "{what}"
            );
            assert!(!r.body.contains("\n\n\n"), "{what}: {}", r.body);
            assert!(
                !r.body.contains("none"),
                "{what} printed an unset field: {}",
                r.body
            );
            let chinese = r
                .body
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            assert_eq!(chinese, language == "zh-CN", "{what}: {}", r.body);
        }
    }
}

#[test]
fn an_unknown_language_renders_english() {
    let english = render(NotificationKind::Receipt, Recipient::Notifier, "en");
    assert_eq!(
        render(NotificationKind::Receipt, Recipient::Notifier, "fr"),
        english
    );
    assert_eq!(
        render(NotificationKind::Receipt, Recipient::Notifier, ""),
        english
    );
    let chinese = render(NotificationKind::Receipt, Recipient::Notifier, "zh-cn");
    assert!(
        chinese.subject.contains("我们已收到"),
        "{}",
        chinese.subject
    );
    assert_eq!(language("ZH-cn"), "zh-CN");
    assert_eq!(language("de"), "en");
}

#[test]
fn a_decision_prints_the_statement_of_reasons_whole_and_words_each_redress() {
    for (language, words) in [
        (
            "en",
            [
                "internal complaint-handling system (EU Digital Services Act, Art. 20)",
                "counter-notice (17 U.S.C. 512(g))",
                "brought legal action",
                "out-of-court dispute settlement body (EU Digital Services Act, Art. 21)",
                "the competent courts",
            ],
        ),
        (
            "zh-CN",
            [
                "内部投诉处理机制提出投诉（欧盟《数字服务法》第二十条）",
                "《中华人民共和国民法典》第一千一百九十六条",
                "提起诉讼或投诉，以免相关内容被恢复",
                "庭外争议解决机构申请解决争议（欧盟《数字服务法》第二十一条）",
                "向有管辖权的法院提起诉讼",
            ],
        ),
    ] {
        let r = render(NotificationKind::Decision, Recipient::Contributor, language);
        for part in [
            "The article copies the report whole.",
            "Copyright Law of the PRC, Art. 10",
            "No licence or exception covers the copy.",
            "You may complain or counter-notify.",
            "2027-05-11T01:46:40Z",
        ] {
            assert!(
                r.body.contains(part),
                "{language} lacks {part:?}:\n{}",
                r.body
            );
        }
        for word in words {
            assert!(
                r.body.contains(word),
                "{language} lacks {word:?}:\n{}",
                r.body
            );
        }
        assert!(!r.body.contains("REDRESS_KIND_"), "{}", r.body);
    }
}

#[test]
fn a_contributors_decision_carries_no_postal_address_or_phone() {
    for language in LANGUAGES {
        for recipient in [Recipient::Contributor, Recipient::Publisher] {
            let r = render(NotificationKind::Decision, recipient, language);
            // The sample's only postal address and phone are the counter-notifier's.
            assert!(!r.body.contains("1 Example Road"), "{}", r.body);
            assert!(!r.body.contains("+86 10 5555 0100"), "{}", r.body);
        }
    }
}

#[test]
fn a_counter_notice_is_forwarded_whole_with_the_restoration_date_or_when_it_is_set() {
    let r = render(
        NotificationKind::CounterNoticeForwarded,
        Recipient::Notifier,
        "en",
    );
    for part in [
        "Wang Fang",
        "wang.fang@example.net",
        "1 Example Road, Beijing",
        "+86 10 5555 0100",
        "The text is my own report.",
        "restored on 2027-01-15T08:00:00Z",
    ] {
        assert!(r.body.contains(part), "lacks {part:?}:\n{}", r.body);
    }
    let mut n = notification(
        NotificationKind::CounterNoticeForwarded,
        Recipient::Notifier,
        "en",
    );
    n.facts.as_mut().unwrap().deadline = None;
    let r = Templates::builtin().render(&n).unwrap();
    assert!(
        r.body.contains("starts when this message has reached you"),
        "{}",
        r.body
    );
    n.language = "zh-CN".into();
    let r = Templates::builtin().render(&n).unwrap();
    assert!(r.body.contains("自本邮件送达您之时起算"), "{}", r.body);
}

#[test]
fn the_status_link_appears_only_when_set() {
    let mut n = notification(NotificationKind::Receipt, Recipient::Notifier, "en");
    n.facts.as_mut().unwrap().status_url.clear();
    let r = Templates::builtin().render(&n).unwrap();
    assert!(!r.body.contains("Follow the claim"), "{}", r.body);
}

#[test]
fn an_override_replaces_the_built_in_of_its_name() {
    let dir = dir_with(&[(
        "receipt.en.txt",
        "Subject: Got it: {{ claim_id }}\n\nThanks, {{ recipient_name }}.\n",
    )]);
    let templates = Templates::with_dir(dir.path()).unwrap();
    let r = templates
        .render(&notification(
            NotificationKind::Receipt,
            Recipient::Notifier,
            "en",
        ))
        .unwrap();
    assert_eq!(r.subject, "Got it: 0190f5a1-0000-7000-8000-000000000000");
    assert_eq!(r.body, "Thanks, Rights Desk.\n");
    // The other language keeps its built-in.
    let r = templates
        .render(&notification(
            NotificationKind::Receipt,
            Recipient::Notifier,
            "zh-CN",
        ))
        .unwrap();
    assert!(r.subject.contains("我们已收到"), "{}", r.subject);
}

#[test]
fn an_override_naming_a_field_the_facts_do_not_have_fails_at_load_with_its_name() {
    for text in [
        // A notifier's postal address is never in the facts.
        "Subject: x\n\n{{ notifier_postal_address }}\n",
        "Subject: x\n\n{% if deadlin %}typo{% endif %}\n",
        "Subject: x\n\n{{ statement_of_reasons.legal_grund }}\n",
    ] {
        let dir = dir_with(&[("decision.en.txt", text)]);
        let e = Templates::with_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("decision.en.txt"), "{e}");
        assert!(e.contains("undefined"), "{e}");
    }
}

#[test]
fn an_override_without_a_subject_line_or_with_a_syntax_error_fails_at_load() {
    let dir = dir_with(&[("closed.zh-CN.txt", "no subject here\n\nbody\n")]);
    let e = Templates::with_dir(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("closed.zh-CN.txt") && e.contains("Subject:"),
        "{e}"
    );

    let dir = dir_with(&[("closed.en.txt", "Subject: x\n\n{% if %}\n")]);
    let e = Templates::with_dir(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("closed.en.txt") && e.contains("syntax error"),
        "{e}"
    );
}

#[test]
fn a_file_that_is_no_template_name_is_refused() {
    let dir = dir_with(&[("decison.en.txt", "Subject: x\n\nbody\n")]);
    let e = Templates::with_dir(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("decison.en.txt") && e.contains("<kind>.<language>.txt"),
        "{e}"
    );

    let e = Templates::with_dir(Path::new("/nonexistent/templates")).unwrap_err();
    assert!(matches!(e, TemplateError::ReadDir { .. }), "{e}");
}

#[test]
fn unset_facts_print_nothing_rather_than_none() {
    let templates = Templates::builtin();
    for kind in KINDS {
        for language in LANGUAGES {
            let n = sample_notification(
                kind,
                Recipient::Notifier,
                language,
                pb::NotificationFacts::default(),
            );
            let r = templates.render(&n).unwrap();
            let text = format!("{}\n{}", r.subject, r.body).to_lowercase();
            assert!(!text.contains("none"), "{kind:?} in {language}: {text}");
            assert!(
                !text.contains("unspecified"),
                "{kind:?} in {language}: {text}"
            );
        }
    }
}
